//! Deleting certificates and stations from the console over real HTTP: a confirmation page,
//! then the delete through the API's own function (the list names what was deleted, from the
//! store; the audit event the API's name); one still in use shows the API's 409 sentence and
//! stays; viewers and operators are refused (403), as is a form without its CSRF token;
//! another tenant's is "not found".

use as2_api::console::ConsoleConfig;
use as2_domain::user::Role;
use serde_json::json;

use crate::console::Served;

fn form(csrf: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", csrf)
        .finish()
}

async fn generate(served: &Served, name: &str) -> String {
    let reply = served
        .api
        .post(
            "/v1/certificates/generate",
            json!({"name": name, "common_name": "x.example", "key_type": "ec-p256"}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

/// A partner of the default station using certificate `certificate`.
async fn partner_using(served: &Served, certificate: &str) -> String {
    let reply = served
        .api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example.com/as2",
                   "certificate_id": certificate, "encrypt": false}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn status_of(served: &Served, path: &str) -> u16 {
    served.api.get(path).await.status.as_u16()
}

/// The actions of the audit events on `id` made by ada.
async fn actions_on(served: &Served, id: &str) -> Vec<String> {
    let audit = served
        .api
        .get(&format!("/v1/audit-events?resource_id={id}"))
        .await;
    audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["label"] == "ada@example.com")
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_admin_deletes_a_certificate_and_one_in_use_is_refused_with_the_apis_sentence() {
    let served = Served::start(ConsoleConfig::default()).await;
    let spare = generate(&served, "Spare key").await;
    let used = generate(&served, "Used cert").await;
    let partner = partner_using(&served, &used).await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (ada, csrf) = served.session("ada@example.com").await;

    let listed = served.get("/console/certificates", &ada).await;
    for id in [&spare, &used] {
        let link = format!("href=\"/console/certificates/{id}/delete\"");
        assert!(listed.body.contains(&link), "{}", listed.body);
    }

    // the confirmation page says what will be deleted, then the delete
    let delete = format!("/console/certificates/{spare}/delete");
    let confirm = served.get(&delete, &ada).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("Spare key"));
    assert!(confirm.body.contains(&format!("action=\"{delete}\"")));
    assert!(confirm.body.contains(">Delete certificate</button>"));
    assert!(confirm.body.contains(&csrf));
    let deleted = served.post(&delete, &ada, &[], &form(&csrf)).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let next = deleted.header("location").unwrap().to_owned();
    assert_eq!(next, format!("/console/certificates?deleted={spare}"));
    let shown = served.get(&next, &ada).await;
    assert!(
        shown.body.contains(&format!(
            "The certificate <strong>Spare key</strong> ({spare}) was deleted."
        )),
        "{}",
        shown.body
    );
    assert_eq!(
        status_of(&served, &format!("/v1/certificates/{spare}")).await,
        404
    );
    assert_eq!(actions_on(&served, &spare).await, ["certificate.delete"]);
    // a made-up notice (one not deleted, one unknown) says nothing
    for query in [format!("deleted={used}"), "deleted=cert_999999".to_owned()] {
        let made_up = served
            .get(&format!("/console/certificates?{query}"), &ada)
            .await;
        assert!(!made_up.body.contains("was deleted"), "{query}");
    }

    // in use: the API's sentence, on the confirmation page (no button) and when forced
    let api_says = served.api.delete(&format!("/v1/certificates/{used}")).await;
    assert_eq!(api_says.status.as_u16(), 409);
    let sentence = api_says.body["message"].as_str().unwrap().to_owned();
    assert!(sentence.contains(&partner), "{sentence}");
    let delete = format!("/console/certificates/{used}/delete");
    let confirm = served.get(&delete, &ada).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains(&sentence), "{}", confirm.body);
    assert!(!confirm.body.contains(">Delete certificate</button>"));
    assert!(!confirm.body.contains(&format!("action=\"{delete}\"")));
    let refused = served.post(&delete, &ada, &[], &form(&csrf)).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""));
    assert!(refused.body.contains(&sentence), "{}", refused.body);
    assert_eq!(
        status_of(&served, &format!("/v1/certificates/{used}")).await,
        200
    );
    assert!(actions_on(&served, &used).await.is_empty());
}

#[tokio::test]
async fn an_admin_deletes_a_station_and_one_partners_use_is_refused_with_the_apis_sentence() {
    let served = Served::start(ConsoleConfig::default()).await;
    let spare = served
        .api
        .post(
            "/v1/stations",
            json!({"name": "Spare EU", "as2_id": "SPARE-EU"}),
        )
        .await;
    assert_eq!(spare.status.as_u16(), 201, "{:?}", spare.body);
    let spare = spare.body["data"]["id"].as_str().unwrap().to_owned();
    let stations = served.api.get("/v1/stations").await;
    let default = stations.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["default"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let certificate = generate(&served, "Theirs").await;
    let partner = partner_using(&served, &certificate).await;
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    let (ada, csrf) = served.session("ada@example.com").await;

    let listed = served.get("/console/stations", &ada).await;
    for id in [&spare, &default] {
        let link = format!("href=\"/console/stations/{id}/delete\"");
        assert!(listed.body.contains(&link), "{}", listed.body);
    }
    let delete = format!("/console/stations/{spare}/delete");
    let confirm = served.get(&delete, &ada).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("SPARE-EU"));
    assert!(confirm.body.contains(">Delete station</button>"));
    let deleted = served.post(&delete, &ada, &[], &form(&csrf)).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let next = deleted.header("location").unwrap().to_owned();
    let shown = served.get(&next, &ada).await;
    assert!(
        shown.body.contains(&format!(
            "The station <strong>Spare EU</strong> (AS2 ID <code>SPARE-EU</code>, {spare}) was deleted."
        )),
        "{}",
        shown.body
    );
    assert_eq!(
        status_of(&served, &format!("/v1/stations/{spare}")).await,
        404
    );
    assert_eq!(actions_on(&served, &spare).await, ["station.delete"]);
    let made_up = served
        .get(&format!("/console/stations?deleted={default}"), &ada)
        .await;
    assert!(!made_up.body.contains("was deleted"));

    let api_says = served.api.delete(&format!("/v1/stations/{default}")).await;
    assert_eq!(api_says.status.as_u16(), 409);
    let sentence = api_says.body["message"].as_str().unwrap().to_owned();
    assert!(sentence.contains(&partner), "{sentence}");
    let delete = format!("/console/stations/{default}/delete");
    let confirm = served.get(&delete, &ada).await;
    assert!(confirm.body.contains(&sentence), "{}", confirm.body);
    assert!(!confirm.body.contains(">Delete station</button>"));
    assert!(!confirm.body.contains(&format!("action=\"{delete}\"")));
    let refused = served.post(&delete, &ada, &[], &form(&csrf)).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""));
    assert!(refused.body.contains(&sentence));
    assert_eq!(
        status_of(&served, &format!("/v1/stations/{default}")).await,
        200
    );
    assert!(actions_on(&served, &default).await.is_empty());
}

#[tokio::test]
async fn deletes_are_refused_to_viewers_operators_other_tenants_and_forms_without_the_token() {
    let served = Served::start(ConsoleConfig::default()).await;
    let certificate = generate(&served, "Spare key").await;
    let station = served
        .api
        .post(
            "/v1/stations",
            json!({"name": "Spare EU", "as2_id": "SPARE-EU"}),
        )
        .await;
    let station = station.body["data"]["id"].as_str().unwrap().to_owned();
    let paths = [
        (
            format!("/console/certificates/{certificate}/delete"),
            format!("/v1/certificates/{certificate}"),
            "/console/certificates",
        ),
        (
            format!("/console/stations/{station}/delete"),
            format!("/v1/stations/{station}"),
            "/console/stations",
        ),
    ];
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("otto@example.com", served.api.tenant, Role::Operator);
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);

    for email in ["vic@example.com", "otto@example.com"] {
        let (token, csrf) = served.session(email).await;
        for (delete, api, list) in &paths {
            let listed = served.get(list, &token).await;
            assert_eq!(listed.status, 200);
            assert!(!listed.body.contains("/delete\""), "{email}: {list}");
            assert_eq!(served.get(delete, &token).await.status, 403, "{email}");
            let forged = served.post(delete, &token, &[], &form(&csrf)).await;
            assert_eq!(forged.status, 403, "{email} {delete}");
            assert_eq!(status_of(&served, api).await, 200, "{email}: {api}");
        }
    }
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    for (delete, api, _) in &paths {
        assert_eq!(served.get(delete, &eve).await.status, 404, "{delete}");
        let forged = served.post(delete, &eve, &[], &form(&eve_csrf)).await;
        assert_eq!(forged.status, 404, "{delete}: {}", forged.body);
        assert!(forged.body.contains("There is no such"), "{}", forged.body);
        assert_eq!(status_of(&served, api).await, 200, "{api}");
    }
    let (ada, csrf) = served.session("ada@example.com").await;
    for (delete, api, _) in &paths {
        let bare = served.post(delete, &ada, &[], "").await;
        assert_eq!(bare.status, 403, "{delete}");
        let wrong = served.post(delete, &ada, &[], &form("not-the-token")).await;
        assert_eq!(wrong.status, 403, "{delete}");
        assert_eq!(status_of(&served, api).await, 200, "{api}");
    }
    for path in [
        "/console/certificates/nope/delete",
        "/console/stations/stn_999999/delete",
    ] {
        assert_eq!(served.get(path, &ada).await.status, 404, "{path}");
        let wrong = served.post(path, &ada, &[], &form(&csrf)).await;
        assert_eq!(wrong.status, 404, "{path}");
    }
    assert!(actions_on(&served, &certificate).await.is_empty());
    assert!(actions_on(&served, &station).await.is_empty());
}
