//! The console's stations pages over real HTTP: the list, a station created and edited
//! through the API's own path with its sentences beside the fields (a certificate that is no
//! key pair, an AS2 ID taken), the audit log; a viewer sees no forms and every forged change
//! is 403; another tenant and the other mode do not see the station.

use as2_api::console::ConsoleConfig;
use as2_domain::user::Role;
use serde_json::json;

use crate::console::Served;
use crate::upload::key_and_certificate;

fn form(csrf: &str, fields: &[(&str, &str)]) -> String {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.append_pair("csrf_token", csrf);
    for (name, value) in fields {
        body.append_pair(name, value);
    }
    body.finish()
}

#[tokio::test]
async fn an_admin_creates_and_edits_a_station_with_the_apis_sentences() {
    let served = Served::start(ConsoleConfig::default()).await;
    let key_pair = served
        .api
        .post(
            "/v1/certificates/generate",
            json!({"name": "Our key", "common_name": "ours.example"}),
        )
        .await;
    assert_eq!(key_pair.status.as_u16(), 201, "{:?}", key_pair.body);
    let key_pair = key_pair.body["data"]["id"].as_str().unwrap().to_owned();
    let (_, cert) = key_and_certificate("CN=theirs", 30);
    let plain = served
        .api
        .post(
            "/v1/certificates",
            json!({"name": "Theirs", "pem": cert.to_pem()}),
        )
        .await;
    assert_eq!(plain.status.as_u16(), 201, "{:?}", plain.body);
    let plain = plain.body["data"]["id"].as_str().unwrap().to_owned();
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (ada, csrf) = served.session("ada@example.com").await;

    let listed = served.get("/console/stations", &ada).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(
        listed
            .body
            .contains("<a href=\"/console/stations\" aria-current=\"page\">Stations</a>")
    );
    assert!(
        listed.body.contains("AS2PLATFORM"),
        "the bootstrap's station"
    );
    assert!(listed.body.contains("href=\"/console/stations/new\""));
    let new = served.get("/console/stations/new", &ada).await;
    assert_eq!(new.status, 200);
    for field in [
        "name",
        "as2_id",
        "certificate_id",
        "encryption_certificate_id",
        "mdn_url",
    ] {
        assert!(
            new.body.contains(&format!("<label for=\"{field}\">")),
            "{field}"
        );
    }
    assert!(
        new.body.contains(&format!("<option value=\"{key_pair}\">")),
        "{}",
        new.body
    );

    // the API's own sentences beside the fields, what was typed kept
    let wrong = served
        .post(
            "/console/stations",
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("name", "Ours"),
                    ("as2_id", "OUR STATION"),
                    ("mdn_url", "not a url"),
                ],
            ),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    let api_says = served
        .api
        .post(
            "/v1/stations",
            json!({"name": "Ours", "as2_id": "OUR STATION", "mdn_url": "not a url"}),
        )
        .await;
    for field in ["as2_id", "mdn_url"] {
        assert!(
            wrong.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
        let sentence = api_says.body["errors"][field][0].as_str().unwrap();
        assert!(wrong.body.contains(sentence), "{sentence}: {}", wrong.body);
    }
    assert!(!wrong.body.contains("id=\"name-error\""));
    assert!(wrong.body.contains("value=\"OUR STATION\""));
    let not_a_key_pair = served
        .post(
            "/console/stations",
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("name", "Ours"),
                    ("as2_id", "OURS"),
                    ("certificate_id", plain.as_str()),
                ],
            ),
        )
        .await;
    assert_eq!(not_a_key_pair.status, 422);
    assert!(not_a_key_pair.body.contains("id=\"certificate_id-error\""));
    assert!(
        not_a_key_pair
            .body
            .contains("The certificate must be a key pair")
    );
    assert_eq!(served.api.get("/v1/stations").await.body["total"], 1);

    let created = served
        .post(
            "/console/stations",
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("name", "Ours"),
                    ("as2_id", "OURS"),
                    ("certificate_id", key_pair.as_str()),
                ],
            ),
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let stations = served.api.get("/v1/stations").await;
    let ours = stations.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["as2_id"] == "OURS")
        .unwrap()
        .clone();
    assert_eq!(ours["certificate_id"], key_pair.as_str());
    assert_eq!(ours["default"], false, "the bootstrap's stays the default");
    let id = ours["id"].as_str().unwrap().to_owned();
    let listed = served.get("/console/stations", &ada).await;
    assert!(listed.body.contains("<code>OURS</code>"));
    assert!(listed.body.contains("Our key"), "the key pair by its name");

    let edit = format!("/console/stations/{id}/edit");
    let shown = served.get(&edit, &ada).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("value=\"OURS\""));
    assert!(
        shown
            .body
            .contains(&format!("<option value=\"{key_pair}\" selected>"))
    );
    let saved = served
        .post(
            &edit,
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("name", "Ours, renamed"),
                    ("as2_id", "OURS2"),
                    ("certificate_id", ""),
                    ("encryption_certificate_id", key_pair.as_str()),
                    ("mdn_url", "https://ours.example/mdn"),
                    ("default", "true"),
                ],
            ),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let now = served.api.get(&format!("/v1/stations/{id}")).await.body["data"].clone();
    assert_eq!(now["name"], "Ours, renamed");
    assert_eq!(now["as2_id"], "OURS2");
    assert_eq!(now["certificate_id"], serde_json::Value::Null);
    assert_eq!(now["encryption_certificate_id"], key_pair.as_str());
    assert_eq!(now["mdn_url"], "https://ours.example/mdn");
    assert_eq!(now["default"], true);

    // the AS2 ID taken: the API's sentence, the form kept
    let taken = served
        .post(
            "/console/stations",
            &ada,
            &[],
            &form(&csrf, &[("name", "Twin"), ("as2_id", "OURS2")]),
        )
        .await;
    let api_says = served
        .api
        .post("/v1/stations", json!({"name": "Twin", "as2_id": "OURS2"}))
        .await;
    assert_eq!(taken.status, api_says.status.as_u16(), "{}", taken.body);
    assert!(taken.status >= 400);
    let sentence = api_says.body["message"].as_str().unwrap();
    assert!(taken.body.contains(sentence), "{sentence}: {}", taken.body);
    assert!(taken.body.contains("value=\"Twin\""));

    let audit = served
        .api
        .get(&format!("/v1/audit-events?resource_id={id}"))
        .await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["label"] == "ada@example.com")
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"station.create"), "{actions:?}");
    assert!(actions.contains(&"station.update"), "{actions:?}");
    assert!(
        !audit.body.to_string().contains(&csrf),
        "never the CSRF token"
    );
}

#[tokio::test]
async fn a_viewer_sees_no_forms_and_others_do_not_see_the_station() {
    let served = Served::start(ConsoleConfig::default()).await;
    let made = served
        .api
        .post("/v1/stations", json!({"name": "Ours", "as2_id": "OURS"}))
        .await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    let id = made.body["data"]["id"].as_str().unwrap().to_owned();
    let stored = made.body["data"].clone();
    let edit = format!("/console/stations/{id}/edit");
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (vic, vic_csrf) = served.session("vic@example.com").await;

    let listed = served.get("/console/stations", &vic).await;
    assert_eq!(listed.status, 200);
    assert!(listed.body.contains("<code>OURS</code>"));
    assert!(
        listed.body.contains("href=\"/console/stations\""),
        "the menu entry"
    );
    assert!(!listed.body.contains("/console/stations/new"));
    assert!(!listed.body.contains("/edit"));
    assert_eq!(served.get("/console/stations/new", &vic).await.status, 403);
    assert_eq!(served.get(&edit, &vic).await.status, 403);
    let forged = form(&vic_csrf, &[("name", "Mine"), ("as2_id", "MINE")]);
    assert_eq!(
        served
            .post("/console/stations", &vic, &[], &forged)
            .await
            .status,
        403
    );
    assert_eq!(served.post(&edit, &vic, &[], &forged).await.status, 403);
    assert_eq!(served.api.get("/v1/stations").await.body["total"], 2);
    assert_eq!(
        served.api.get(&format!("/v1/stations/{id}")).await.body["data"],
        stored
    );

    // another tenant's owner: not listed, not found
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    assert!(
        !served
            .get("/console/stations", &eve)
            .await
            .body
            .contains("OURS")
    );
    assert_eq!(served.get(&edit, &eve).await.status, 404);
    let forged = form(&eve_csrf, &[("name", "Mine"), ("as2_id", "MINE")]);
    assert_eq!(served.post(&edit, &eve, &[], &forged).await.status, 404);
    assert_eq!(
        served.api.get(&format!("/v1/stations/{id}")).await.body["data"],
        stored
    );

    // the same admin in live mode sees neither the station nor its edit form
    let (ada, ada_csrf) = served.session("ada@example.com").await;
    let switched = served
        .post(
            "/console/switch",
            &ada,
            &[],
            &format!(
                "csrf_token={ada_csrf}&tenant={}&mode=live",
                served.api.tenant
            ),
        )
        .await;
    assert_eq!(switched.status, 303);
    assert!(
        !served
            .get("/console/stations", &ada)
            .await
            .body
            .contains("OURS")
    );
    assert_eq!(served.get(&edit, &ada).await.status, 404);
}
