//! `/v1/webhook-endpoints`: the secret shown once, PATCH, delete, the test event, deliveries
//! (also of `message.queued`), validation and tenant scoping.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

fn hook() -> serde_json::Value {
    json!({
        "url": "https://hooks.example.com/as2",
        "description": "Operations",
        "events": ["message.*", "partner.created"]
    })
}

#[tokio::test]
async fn create_shows_the_secret_once() {
    let api = TestApi::new();
    let reply = api.post("/v1/webhook-endpoints", hook()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(
        reply.body["message"],
        "Webhook endpoint created successfully"
    );
    let data = &reply.body["data"];
    let id = data["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wh_"), "{id}");
    assert_eq!(data["url"], "https://hooks.example.com/as2");
    assert_eq!(data["description"], "Operations");
    assert_eq!(data["events"], json!(["message.*", "partner.created"]));
    assert_eq!(data["active"], true);
    let secret = data["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );
    for field in ["created_at", "updated_at"] {
        let t = data[field].as_str().unwrap();
        assert!(t.ends_with('Z') && t.len() == 27, "{t}");
    }
    assert_eq!(data.as_object().unwrap().len(), 8);

    let fetched = api.get(&format!("/v1/webhook-endpoints/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert!(fetched.body["data"].get("secret").is_none());
    let mut without = data.clone();
    without.as_object_mut().unwrap().remove("secret");
    assert_eq!(fetched.body["data"], without);
    let list = api.get("/v1/webhook-endpoints").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["data"][0], without);
    for reply in [&fetched, &list] {
        assert!(!String::from_utf8_lossy(&reply.bytes).contains(&secret));
    }
    // the store keeps the secret for the delivering worker
    let scope = as2_store::Scope::new(api.tenant, as2_domain::Mode::Test);
    let stored = api
        .db
        .store
        .webhooks()
        .secret(scope, id.parse().unwrap())
        .unwrap();
    assert_eq!(stored, secret);
}

#[tokio::test]
async fn patch_and_delete() {
    let api = TestApi::new();
    let created = api.post("/v1/webhook-endpoints", hook()).await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/webhook-endpoints/{id}");
    let reply = api
        .patch(
            &path,
            json!({"events": ["*"], "active": false, "description": null}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.body["message"],
        "Webhook endpoint updated successfully"
    );
    let data = &reply.body["data"];
    assert_eq!(data["events"], json!(["*"]));
    assert_eq!(data["active"], false);
    assert!(data["description"].is_null());
    assert_eq!(data["url"], "https://hooks.example.com/as2");
    assert!(data.get("secret").is_none());
    let reply = api
        .patch(&path, json!({"url": "https://other.example.com/h"}))
        .await;
    assert_eq!(reply.body["data"]["url"], "https://other.example.com/h");
    assert_eq!(reply.body["data"]["events"], json!(["*"]));
    let bad = api.patch(&path, json!({"events": []})).await;
    assert_invalid(&bad, "events");
    let bad = api.patch(&path, json!({"url": "ftp://x"})).await;
    assert_invalid(&bad, "url");

    let deleted = api.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["data"], json!({"id": id, "deleted": true}));
    assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(api.delete(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/v1/webhook-endpoints").await.body["total"], 0);
}

#[tokio::test]
async fn every_rule_names_its_field() {
    let api = TestApi::new();
    let reply = api.post("/v1/webhook-endpoints", json!({})).await;
    assert_invalid(&reply, "url");
    assert_invalid(&reply, "events");
    let reply = api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "not a url", "events": ["message.lost", "partner.*"], "description": "x".repeat(1001)}),
        )
        .await;
    assert_invalid(&reply, "url");
    assert_invalid(&reply, "events");
    assert_invalid(&reply, "description");
    let reply = api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://h.example.com", "events": "message.queued"}),
        )
        .await;
    assert_invalid(&reply, "events");
    let reply = api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://h.example.com", "events": ["*"], "active": "yes"}),
        )
        .await;
    assert_invalid(&reply, "active");
    // live mode wants HTTPS
    let reply = api
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&api.live_key),
            Some(json!({"url": "http://h.example.com", "events": ["*"]})),
        )
        .await;
    assert_invalid(&reply, "url");
    assert_invalid(
        &api.get("/v1/webhook-endpoints?per_page=0").await,
        "per_page",
    );
}

#[tokio::test]
async fn test_event_goes_only_to_that_endpoint() {
    let api = TestApi::new();
    let first = api.post("/v1/webhook-endpoints", hook()).await;
    let first = first.body["data"]["id"].as_str().unwrap().to_owned();
    let second = api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://b.example.com/h", "events": ["*"]}),
        )
        .await;
    let second = second.body["data"]["id"].as_str().unwrap().to_owned();

    let reply = api
        .post(&format!("/v1/webhook-endpoints/{first}/test"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["endpoint_id"], first);
    assert_eq!(reply.body["data"]["event"], "webhook.test");
    let event_id = reply.body["data"]["event_id"].as_str().unwrap().to_owned();
    assert!(event_id.starts_with("evt_"));

    let deliveries = api
        .get(&format!("/v1/webhook-endpoints/{first}/deliveries"))
        .await;
    assert_eq!(deliveries.status, StatusCode::OK, "{:?}", deliveries.body);
    assert_eq!(deliveries.body["total"], 1);
    let d = &deliveries.body["data"][0];
    assert!(d["id"].as_str().unwrap().starts_with("whd_"));
    assert_eq!(d["endpoint_id"], first);
    assert_eq!(d["event_id"], event_id);
    assert_eq!(d["event"], "webhook.test");
    assert_eq!(d["status"], "pending");
    assert_eq!(d["attempts"], 0);
    assert!(d["response_status"].is_null());
    assert!(d["error"].is_null());
    assert!(d["next_attempt_at"].as_str().unwrap().ends_with('Z'));
    assert!(d["created_at"].as_str().unwrap().ends_with('Z'));
    let other = api
        .get(&format!("/v1/webhook-endpoints/{second}/deliveries"))
        .await;
    assert_eq!(other.body["total"], 0);

    // a queued message reaches both subscribers
    let partner = api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example.com/as2", "encrypt": false}),
        )
        .await;
    let partner = partner.body["data"]["id"].as_str().unwrap().to_owned();
    let sent = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": "aGk="}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{:?}", sent.body);
    for (id, expected) in [
        (
            &first,
            ["message.queued", "partner.created", "webhook.test"],
        ),
        (&second, ["message.queued", "partner.created", ""]),
    ] {
        let reply = api
            .get(&format!("/v1/webhook-endpoints/{id}/deliveries"))
            .await;
        let events: Vec<&str> = reply.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["event"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = expected.into_iter().filter(|e| !e.is_empty()).collect();
        assert_eq!(events, expected, "{id}");
    }
}

#[tokio::test]
async fn malformed_and_foreign_ids_are_404() {
    let api = TestApi::new();
    let created = api.post("/v1/webhook-endpoints", hook()).await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    for bad in ["wh_1", "nope", "wh_999999"] {
        for suffix in ["", "/deliveries"] {
            let reply = api
                .get(&format!("/v1/webhook-endpoints/{bad}{suffix}"))
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{bad}{suffix}");
        }
        let reply = api
            .post(&format!("/v1/webhook-endpoints/{bad}/test"), json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    let (_, other) = api.other_account();
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PATCH, "", Some(json!({"active": false}))),
        (Method::DELETE, "", None),
        (Method::POST, "/test", Some(json!({}))),
        (Method::GET, "/deliveries", None),
    ] {
        let path = format!("/v1/webhook-endpoints/{id}{suffix}");
        let reply = api.call(method, &path, Some(&other), body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let live = api
        .call(
            Method::GET,
            &format!("/v1/webhook-endpoints/{id}"),
            Some(&api.live_key),
            None,
        )
        .await;
    assert_eq!(live.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.get(&format!("/v1/webhook-endpoints/{id}")).await.body["data"]["active"],
        true
    );
}

#[tokio::test]
async fn put_replaces_an_endpoint_and_applies_the_same_rules() {
    let api = TestApi::new();
    let created = api.post("/v1/webhook-endpoints", hook()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let paused = api
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(paused.body["data"]["active"], false);
    // every field replaced: the description and `active` left out take their defaults
    let replaced = api
        .put(
            &format!("/v1/webhook-endpoints/{id}"),
            json!({"url": "https://hooks.example.com/v2", "events": ["mdn.received"]}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
    assert_eq!(
        replaced.body["message"],
        "Webhook endpoint replaced successfully"
    );
    let data = &replaced.body["data"];
    assert_eq!(data["url"], "https://hooks.example.com/v2");
    assert_eq!(data["events"], json!(["mdn.received"]));
    assert_eq!(data["description"], serde_json::Value::Null);
    assert_eq!(data["active"], true);
    assert!(data.get("secret").is_none_or(serde_json::Value::is_null));
    // url and events are required, as on create
    let missing = api
        .put(&format!("/v1/webhook-endpoints/{id}"), json!({}))
        .await;
    assert_invalid(&missing, "url");
    assert_invalid(&missing, "events");
}

/// The delivery ids of the `deliver_webhook` jobs due now (each claimed once).
fn queued_deliveries(api: &TestApi) -> Vec<String> {
    use as2_store::jobs::{DeliverWebhook, JobInput};
    let jobs = api.db.store.jobs();
    let later = chrono::Utc::now() + chrono::Duration::seconds(5);
    let mut ids = Vec::new();
    while let Some(job) = jobs
        .claim(
            &[as2_domain::job::JobKind::DeliverWebhook],
            later,
            chrono::Duration::seconds(60),
        )
        .unwrap()
    {
        ids.push(
            DeliverWebhook::parse(&job.payload)
                .unwrap()
                .delivery()
                .to_string(),
        );
    }
    ids
}

#[tokio::test]
async fn a_redelivery_is_a_new_delivery_of_the_same_event() {
    let api = TestApi::new();
    let created = api.post("/v1/webhook-endpoints", hook()).await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let second = api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://b.example.com/h", "events": ["webhook.test"]}),
        )
        .await;
    let second = second.body["data"]["id"].as_str().unwrap().to_owned();
    let tested = api
        .post(&format!("/v1/webhook-endpoints/{id}/test"), json!({}))
        .await;
    let event = tested.body["data"]["event_id"].as_str().unwrap().to_owned();
    let deliveries = format!("/v1/webhook-endpoints/{id}/deliveries");
    let original = api.get(&deliveries).await.body["data"][0].clone();
    let first = original["id"].as_str().unwrap().to_owned();
    assert!(original["redelivery_of"].is_null());
    assert_eq!(queued_deliveries(&api), vec![first.clone()]);

    let path = format!("/v1/webhook-endpoints/{id}/deliveries/{first}/redeliver");
    let reply = api.post(&path, json!({})).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    assert_eq!(reply.body["message"], "Webhook delivery queued again");
    let made = &reply.body["data"];
    let new_id = made["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, first);
    assert_eq!(made["redelivery_of"], first);
    assert_eq!(made["endpoint_id"], id);
    assert_eq!(made["event_id"], event);
    assert_eq!(made["event"], "webhook.test");
    assert_eq!(made["status"], "pending");
    assert_eq!(made["attempts"], 0);
    // its own job; the original is listed as it was, the new one first
    assert_eq!(queued_deliveries(&api), vec![new_id.clone()]);
    let listed = api.get(&deliveries).await;
    assert_eq!(listed.body["total"], 2);
    assert_eq!(listed.body["data"][0], *made);
    assert_eq!(listed.body["data"][1], original);
    // a redelivery can be redelivered too
    let again = api
        .post(
            &format!("/v1/webhook-endpoints/{id}/deliveries/{new_id}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body["data"]["redelivery_of"], new_id);
    assert_eq!(
        queued_deliveries(&api),
        vec![again.body["data"]["id"].as_str().unwrap().to_owned()]
    );

    let audit = api
        .get(&format!(
            "/v1/audit-events?action=webhook_endpoint.deliveries.redeliver&resource_id={id}"
        ))
        .await;
    assert_eq!(audit.body["total"], 2, "{:?}", audit.body);

    // another endpoint's delivery, another tenant, bad ids: 404, nothing queued
    let (_, other) = api.other_account();
    for (key, path) in [
        (
            &api.key,
            format!("/v1/webhook-endpoints/{second}/deliveries/{first}/redeliver"),
        ),
        (&other, path.clone()),
        (&api.live_key, path.clone()),
        (
            &api.key,
            format!("/v1/webhook-endpoints/{id}/deliveries/whd_999999/redeliver"),
        ),
        (
            &api.key,
            format!("/v1/webhook-endpoints/{id}/deliveries/nope/redeliver"),
        ),
        (
            &api.key,
            format!("/v1/webhook-endpoints/wh_999999/deliveries/{first}/redeliver"),
        ),
    ] {
        let reply = api
            .call(Method::POST, &path, Some(key), Some(json!({})))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    // a read-only key may not
    let reader = api.key_with(&[as2_domain::api_key::Scope::Read], as2_domain::Mode::Test);
    let reply = api
        .call(Method::POST, &path, Some(&reader), Some(json!({})))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(queued_deliveries(&api).is_empty());
    assert_eq!(api.get(&deliveries).await.body["total"], 3);
}

#[tokio::test]
async fn a_paused_endpoint_gets_no_redelivery_and_no_test_event() {
    let api = TestApi::new();
    let created = api.post("/v1/webhook-endpoints", hook()).await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    api.post(&format!("/v1/webhook-endpoints/{id}/test"), json!({}))
        .await;
    let deliveries = format!("/v1/webhook-endpoints/{id}/deliveries");
    let first = api.get(&deliveries).await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    queued_deliveries(&api);
    api.patch(
        &format!("/v1/webhook-endpoints/{id}"),
        json!({"active": false}),
    )
    .await;

    for path in [
        format!("/v1/webhook-endpoints/{id}/deliveries/{first}/redeliver"),
        format!("/v1/webhook-endpoints/{id}/test"),
    ] {
        let reply = api.post(&path, json!({})).await;
        assert_eq!(
            reply.status,
            StatusCode::CONFLICT,
            "{path}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["error"]["code"], "webhook_endpoint_inactive");
        assert!(
            reply.body["message"]
                .as_str()
                .unwrap()
                .contains("turn it on again"),
            "{:?}",
            reply.body
        );
    }
    assert_eq!(api.get(&deliveries).await.body["total"], 1);
    assert!(queued_deliveries(&api).is_empty());

    // turned on again, it is redelivered
    api.patch(
        &format!("/v1/webhook-endpoints/{id}"),
        json!({"active": true}),
    )
    .await;
    let reply = api
        .post(
            &format!("/v1/webhook-endpoints/{id}/deliveries/{first}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    // a deleted endpoint's deliveries are not found
    api.delete(&format!("/v1/webhook-endpoints/{id}")).await;
    let reply = api
        .post(
            &format!("/v1/webhook-endpoints/{id}/deliveries/{first}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
