//! The console's webhook endpoint forms over real HTTP: an endpoint created through the
//! API's own path with its sentences beside the fields, its secret shown once (never on the
//! list or the edit form), edited with every setting as shown, the audit events; a viewer
//! sees no links and every forged change is 403; another tenant does not see the endpoint.

use as2_api::console::ConsoleConfig;
use as2_domain::user::Role;
use serde_json::json;

use crate::console::Served;

fn form(csrf: &str, fields: &[(&str, &str)]) -> String {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.append_pair("csrf_token", csrf);
    for (name, value) in fields {
        body.append_pair(name, value);
    }
    body.finish()
}

#[tokio::test]
async fn an_admin_creates_and_edits_an_endpoint_and_sees_its_secret_once() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (ada, csrf) = served.session("ada@example.com").await;

    let listed = served.get("/console/webhooks", &ada).await;
    assert!(listed.body.contains("href=\"/console/webhooks/new\""));
    let new = served.get("/console/webhooks/new", &ada).await;
    assert_eq!(new.status, 200, "{}", new.body);
    for field in ["url", "description", "events"] {
        assert!(
            new.body.contains(&format!("<label for=\"{field}\">")),
            "{field}"
        );
    }

    // the API's own sentences beside the fields, what was typed kept
    let wrong = served
        .post(
            "/console/webhooks",
            &ada,
            &[],
            &form(
                &csrf,
                &[("url", "ftp://x"), ("events", "message.*\nno.such.event")],
            ),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    let api_says = served
        .api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "ftp://x", "events": ["message.*", "no.such.event"]}),
        )
        .await;
    for field in ["url", "events"] {
        assert!(
            wrong.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
        let sentence = api_says.body["errors"][field][0].as_str().unwrap();
        let shown = sentence.replace('`', "&#96;");
        assert!(
            wrong.body.contains(sentence) || wrong.body.contains(&shown),
            "{sentence}: {}",
            wrong.body
        );
    }
    assert!(wrong.body.contains("value=\"ftp://x\""));
    assert_eq!(
        served.api.get("/v1/webhook-endpoints").await.body["total"],
        0
    );

    let created = served
        .post(
            "/console/webhooks",
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("url", "https://hooks.example.com/as2"),
                    ("description", "Operations"),
                    ("events", "message.*\r\npartner.created\r\n"),
                    ("active", "true"),
                ],
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let at = created.body.find("<code id=\"new-secret\">").unwrap() + 22;
    let secret = created.body[at..].split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let stored = served.api.get("/v1/webhook-endpoints").await.body["data"][0].clone();
    assert_eq!(stored["url"], "https://hooks.example.com/as2");
    assert_eq!(stored["description"], "Operations");
    assert_eq!(stored["events"], json!(["message.*", "partner.created"]));
    assert_eq!(stored["active"], true);
    let id = stored["id"].as_str().unwrap().to_owned();

    let edit = format!("/console/webhooks/{id}/edit");
    let listed = served.get("/console/webhooks", &ada).await;
    assert!(listed.body.contains(&format!("href=\"{edit}\"")));
    assert!(!listed.body.contains(&secret), "the secret only once");
    let shown = served.get(&edit, &ada).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown
            .body
            .contains("value=\"https://hooks.example.com/as2\"")
    );
    assert!(shown.body.contains("message.*\npartner.created"));
    assert!(!shown.body.contains(&secret));

    let bad = served
        .post(
            &edit,
            &ada,
            &[],
            &form(&csrf, &[("url", ""), ("events", "*")]),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("The URL field is required"));
    let saved = served
        .post(
            &edit,
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("url", "https://other.example.com/hook"),
                    ("description", ""),
                    ("events", "*"),
                ],
            ),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let now = served
        .api
        .get(&format!("/v1/webhook-endpoints/{id}"))
        .await
        .body["data"]
        .clone();
    assert_eq!(now["url"], "https://other.example.com/hook");
    assert_eq!(now["description"], serde_json::Value::Null);
    assert_eq!(now["events"], json!(["*"]));
    assert_eq!(now["active"], false, "the box left unchecked");

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
    assert!(actions.contains(&"webhook_endpoint.create"), "{actions:?}");
    assert!(actions.contains(&"webhook_endpoint.update"), "{actions:?}");
    let text = audit.body.to_string();
    assert!(!text.contains(&csrf) && !text.contains(&secret));
}

#[tokio::test]
async fn a_viewer_sees_no_forms_and_others_do_not_see_the_endpoint() {
    let served = Served::start(ConsoleConfig::default()).await;
    let made = served
        .api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.example.com/as2", "events": ["*"]}),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    let id = made.body["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/webhook-endpoints/{id}");
    let stored = served.api.get(&path).await.body["data"].clone();
    let edit = format!("/console/webhooks/{id}/edit");
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("otto@example.com", served.api.tenant, Role::Operator);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let forged = |csrf: &str| {
        form(
            csrf,
            &[("url", "https://evil.example.com"), ("events", "*")],
        )
    };

    for email in ["vic@example.com", "otto@example.com"] {
        let (token, csrf) = served.session(email).await;
        let listed = served.get("/console/webhooks", &token).await;
        assert!(listed.body.contains("https://hooks.example.com/as2"));
        assert!(!listed.body.contains("/console/webhooks/new"), "{email}");
        assert!(!listed.body.contains("/edit"), "{email}");
        assert_eq!(
            served.get("/console/webhooks/new", &token).await.status,
            403
        );
        assert_eq!(served.get(&edit, &token).await.status, 403);
        let create = served
            .post("/console/webhooks", &token, &[], &forged(&csrf))
            .await;
        assert_eq!(create.status, 403, "{email}");
        assert_eq!(
            served.post(&edit, &token, &[], &forged(&csrf)).await.status,
            403
        );
    }
    assert_eq!(
        served.api.get("/v1/webhook-endpoints").await.body["total"],
        1
    );
    assert_eq!(served.api.get(&path).await.body["data"], stored);

    let (eve, eve_csrf) = served.session("eve@example.com").await;
    assert!(
        !served
            .get("/console/webhooks", &eve)
            .await
            .body
            .contains("hooks.example.com")
    );
    assert_eq!(served.get(&edit, &eve).await.status, 404);
    assert_eq!(
        served
            .post(&edit, &eve, &[], &forged(&eve_csrf))
            .await
            .status,
        404
    );
    assert_eq!(served.api.get(&path).await.body["data"], stored);
}

/// An endpoint made through the API with one `webhook.test` delivery: its id and the
/// delivery's.
async fn endpoint_with_a_delivery(served: &Served) -> (String, String) {
    let made = served
        .api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.example.com/as2", "events": ["*"]}),
        )
        .await;
    let id = made.body["data"]["id"].as_str().unwrap().to_owned();
    served
        .api
        .post(&format!("/v1/webhook-endpoints/{id}/test"), json!({}))
        .await;
    let listed = served
        .api
        .get(&format!("/v1/webhook-endpoints/{id}/deliveries"))
        .await;
    let delivery = listed.body["data"][0]["id"].as_str().unwrap().to_owned();
    (id, delivery)
}

async fn deliveries_of(served: &Served, id: &str) -> Vec<serde_json::Value> {
    let listed = served
        .api
        .get(&format!("/v1/webhook-endpoints/{id}/deliveries"))
        .await;
    listed.body["data"].as_array().cloned().unwrap_or_default()
}

/// The actions the admin `ada@example.com` made on `id`, from the audit log.
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
async fn an_admin_tests_redelivers_and_deletes_an_endpoint() {
    let served = Served::start(ConsoleConfig::default()).await;
    let (id, first) = endpoint_with_a_delivery(&served).await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (ada, csrf) = served.session("ada@example.com").await;

    let listed = served.get("/console/webhooks", &ada).await;
    let redeliver = format!("/console/webhooks/{id}/deliveries/{first}/redeliver");
    assert!(listed.body.contains(&format!("action=\"{redeliver}\"")));
    assert!(
        listed
            .body
            .contains(&format!("action=\"/console/webhooks/{id}/test\""))
    );
    assert!(
        listed
            .body
            .contains(&format!("href=\"/console/webhooks/{id}/delete\""))
    );

    // the test event: through the API's function, its sentence on the list
    let tested = served
        .post(
            &format!("/console/webhooks/{id}/test"),
            &ada,
            &[],
            &form(&csrf, &[]),
        )
        .await;
    assert_eq!(tested.status, 303, "{}", tested.body);
    let next = tested.header("location").unwrap().to_owned();
    assert_eq!(next, format!("/console/webhooks?tested={id}"));
    let shown = served.get(&next, &ada).await;
    assert!(
        shown.body.contains(
            "Test event queued for delivery to https://hooks.example.com/as2: its delivery is listed under it."
        ),
        "{}",
        shown.body
    );
    let now = deliveries_of(&served, &id).await;
    assert_eq!(now.len(), 2);
    assert_eq!(now[0]["event"], "webhook.test");

    // redeliver: a new delivery of the same event, linked to the first
    let redelivered = served.post(&redeliver, &ada, &[], &form(&csrf, &[])).await;
    assert_eq!(redelivered.status, 303, "{}", redelivered.body);
    let now = deliveries_of(&served, &id).await;
    assert_eq!(now.len(), 3);
    let made = now[0]["id"].as_str().unwrap();
    assert_eq!(now[0]["redelivery_of"], first);
    assert_eq!(now[0]["event_id"], now[2]["event_id"]);
    let next = redelivered.header("location").unwrap().to_owned();
    assert_eq!(next, format!("/console/webhooks?redelivered={made}"));
    let shown = served.get(&next, &ada).await;
    assert!(
        shown.body.contains(&format!(
            "Webhook delivery queued again: {made} delivers the webhook.test event of {first} to https://hooks.example.com/as2 again."
        )),
        "{}",
        shown.body
    );
    assert!(shown.body.contains(&format!("redelivery of {first}")));

    // delete: a confirmation page, then the endpoint is gone and the list says so
    let delete = format!("/console/webhooks/{id}/delete");
    let confirm = served.get(&delete, &ada).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains(&format!("action=\"{delete}\"")));
    assert!(confirm.body.contains(">Delete endpoint</button>"));
    assert!(confirm.body.contains(&csrf));
    let deleted = served.post(&delete, &ada, &[], &form(&csrf, &[])).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let next = deleted.header("location").unwrap().to_owned();
    let shown = served.get(&next, &ada).await;
    assert!(
        shown
            .body
            .contains(&format!("The webhook endpoint {id} was deleted.")),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("https://hooks.example.com/as2"));
    assert_eq!(
        served
            .api
            .get(&format!("/v1/webhook-endpoints/{id}"))
            .await
            .status
            .as_u16(),
        404
    );
    // a made-up notice says nothing
    let made_up = served
        .get(
            "/console/webhooks?tested=wh_000099&redelivered=whd_000001",
            &ada,
        )
        .await;
    assert!(!made_up.body.contains("queued"), "{}", made_up.body);

    let actions = actions_on(&served, &id).await;
    for action in [
        "webhook_endpoint.test",
        "webhook_endpoint.deliveries.redeliver",
        "webhook_endpoint.delete",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

#[tokio::test]
async fn webhook_actions_are_refused_to_viewers_operators_other_tenants_and_paused_endpoints() {
    let served = Served::start(ConsoleConfig::default()).await;
    let (id, first) = endpoint_with_a_delivery(&served).await;
    let test = format!("/console/webhooks/{id}/test");
    let delete = format!("/console/webhooks/{id}/delete");
    let redeliver = format!("/console/webhooks/{id}/deliveries/{first}/redeliver");
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("otto@example.com", served.api.tenant, Role::Operator);
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);

    for email in ["vic@example.com", "otto@example.com"] {
        let (token, csrf) = served.session(email).await;
        let listed = served.get("/console/webhooks", &token).await;
        assert!(listed.body.contains(&first), "{email} sees the delivery");
        assert!(!listed.body.contains("/redeliver"), "{email}");
        assert!(!listed.body.contains("/test\""), "{email}");
        assert!(!listed.body.contains("/delete\""), "{email}");
        assert_eq!(served.get(&delete, &token).await.status, 403, "{email}");
        for path in [&test, &delete, &redeliver] {
            let forged = served.post(path, &token, &[], &form(&csrf, &[])).await;
            assert_eq!(forged.status, 403, "{email} {path}");
        }
    }
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    assert_eq!(served.get(&delete, &eve).await.status, 404);
    for path in [&test, &delete, &redeliver] {
        let forged = served.post(path, &eve, &[], &form(&eve_csrf, &[])).await;
        assert_eq!(forged.status, 404, "{path}: {}", forged.body);
    }

    // an admin without the CSRF token, with another endpoint's path, with bad ids
    let (ada, csrf) = served.session("ada@example.com").await;
    for path in [&test, &delete, &redeliver] {
        let bare = served.post(path, &ada, &[], "").await;
        assert_eq!(bare.status, 403, "{path}");
    }
    let other = served
        .api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://b.example.com/h", "events": ["*"]}),
        )
        .await;
    let other = other.body["data"]["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/console/webhooks/{other}/deliveries/{first}/redeliver"),
        format!("/console/webhooks/{id}/deliveries/nope/redeliver"),
        "/console/webhooks/nope/test".to_owned(),
    ] {
        let wrong = served.post(&path, &ada, &[], &form(&csrf, &[])).await;
        assert_eq!(wrong.status, 404, "{path}");
        assert!(wrong.body.contains("not found"), "{}", wrong.body);
    }
    assert_eq!(deliveries_of(&served, &id).await.len(), 1);
    assert_eq!(deliveries_of(&served, &other).await.len(), 0);

    // a paused endpoint: no buttons, and a forged request gets the API's 409 sentence
    served
        .api
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            json!({"active": false}),
        )
        .await;
    let listed = served.get("/console/webhooks", &ada).await;
    assert!(!listed.body.contains(&redeliver));
    assert!(!listed.body.contains(&format!("action=\"{test}\"")));
    assert!(listed.body.contains("Paused: turn it on (Edit)"));
    for path in [&test, &redeliver] {
        let refused = served.post(path, &ada, &[], &form(&csrf, &[])).await;
        assert_eq!(refused.status, 409, "{path}");
        assert!(refused.body.contains("role=\"alert\""));
        assert!(
            refused.body.contains("turn it on again first"),
            "{}",
            refused.body
        );
    }
    assert_eq!(deliveries_of(&served, &id).await.len(), 1);
    assert!(actions_on(&served, &id).await.is_empty());
    assert_eq!(
        served
            .api
            .get(&format!("/v1/webhook-endpoints/{id}"))
            .await
            .status
            .as_u16(),
        200,
        "not deleted"
    );
}
