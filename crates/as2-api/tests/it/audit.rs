//! The audit log: every successful change through `/v1` and `/api/v1` is recorded once (who,
//! what, which resource, from where, the fields sent with secrets redacted), failures and
//! reads are not, and `GET /v1/audit-events` shows the caller's tenant and mode only, with
//! filters whose bad values are named.

use crate::common::*;
use as2_domain::forwarded::ClientAddr;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

fn partner() -> Value {
    json!({
        "name": "Acme Corporation",
        "as2_id": "ACME-CORP-AS2",
        "url": "https://acme.example.com/as2",
        "encrypt": false,
        "auth": true,
        "auth_user": "acme",
        "auth_password": "hunter2-hunter2"
    })
}

async fn events(api: &TestApi, query: &str) -> Value {
    let reply = api.get(&format!("/v1/audit-events{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

#[tokio::test]
async fn a_change_is_recorded_with_its_actor_resource_and_redacted_fields() {
    let api = TestApi::new();
    let body = serde_json::to_vec(&partner()).unwrap();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/v1/partners")
        .header("authorization", format!("Bearer {}", api.key))
        .header("content-type", "application/json")
        .header("user-agent", "audit-test/1.0")
        .body(Body::from(body))
        .unwrap();
    request.extensions_mut().insert(ClientAddr {
        ip: "198.51.100.23".parse().unwrap(),
        forwarded_https: None,
    });
    let created = api.send(request).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let patched = api
        .patch(&format!("/v1/partners/{id}"), json!({"name": "Acme Corp"}))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);

    let list = events(&api, "").await;
    assert_eq!(list["total"], 2, "{list}");
    let update = &list["data"][0];
    let create = &list["data"][1];
    assert_eq!(update["action"], "partner.update");
    assert_eq!(update["resource_id"], id.as_str());
    assert_eq!(update["changes"], json!({"name": "Acme Corp"}));
    assert_eq!(create["action"], "partner.create");
    assert_eq!(create["resource_type"], "partner");
    assert_eq!(create["resource_id"], id.as_str(), "the id of the answer");
    assert_eq!(create["ip"], "198.51.100.23");
    assert_eq!(create["user_agent"], "audit-test/1.0");
    assert_eq!(create["actor"]["type"], "api_key");
    assert!(create["actor"]["id"].as_str().unwrap().starts_with("key_"));
    assert_eq!(create["changes"]["auth_user"], "acme");
    assert_eq!(create["changes"]["auth_password"], "[redacted]");
    assert!(
        !list.to_string().contains("hunter2"),
        "no secret in the audit log: {list}"
    );
    assert!(create["id"].as_str().unwrap().starts_with("aud_"));
    assert_eq!(create["mode"], "test");

    // filters
    let actor = create["actor"]["id"].as_str().unwrap();
    assert_eq!(events(&api, &format!("?actor={actor}")).await["total"], 2);
    assert_eq!(events(&api, "?actor=usr_000001").await["total"], 0);
    assert_eq!(events(&api, "?action=partner.create").await["total"], 1);
    assert_eq!(events(&api, "?resource_type=message").await["total"], 0);
    assert_eq!(
        events(&api, &format!("?resource_id={id}")).await["total"],
        2
    );
    assert_eq!(
        events(&api, "?since=2999-01-01T00:00:00Z").await["total"],
        0
    );
    assert_eq!(
        events(&api, "?until=2000-01-01T00:00:00Z").await["total"],
        0
    );
    assert_eq!(
        events(&api, "?per_page=1&page=2").await["data"][0]["action"],
        "partner.create"
    );
}

#[tokio::test]
async fn failures_reads_and_replays_are_not_changes() {
    let api = TestApi::new();
    let refused = api.post("/v1/partners", json!({"name": "no as2 id"})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let read = api.get("/v1/partners").await;
    assert_eq!(read.status, StatusCode::OK);
    let legacy_read = api.post("/api/v1/partners", json!({})).await;
    assert_eq!(legacy_read.status, StatusCode::OK, "{:?}", legacy_read.body);
    assert_eq!(events(&api, "").await["total"], 0);

    let headers = [("idempotency-key", "6f1c1b7e-4a7b-4c3e-9f5a-2b8f1d3c4e5b")];
    for _ in 0..2 {
        let key = api.key.clone();
        let reply = api
            .call_with_headers(
                Method::POST,
                "/v1/partners",
                Some(&key),
                Some(partner()),
                &headers,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }
    assert_eq!(
        events(&api, "").await["total"],
        1,
        "a replay changes nothing"
    );
}

#[tokio::test]
async fn the_seed_api_changes_are_recorded_too() {
    let api = TestApi::new();
    let stations = api.post("/api/v1/stations", json!({})).await;
    let station = stations.body["data"][0]["id"].as_i64().unwrap();
    let created = api
        .post(
            "/api/v1/partners/create",
            json!({"station": station, "as2_id": "AS2:AUDIT", "name": "Audited",
                   "endpoint_url": "https://audited.example/as2", "email": "a@audited.example",
                   "auth": true, "auth_user": "u", "auth_password": "legacy-secret"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let list = events(&api, "").await;
    assert_eq!(list["total"], 1, "{list}");
    let event = &list["data"][0];
    assert_eq!(event["action"], "partner.create");
    assert_eq!(
        event["resource_id"],
        created.body["data"]["id"].as_i64().unwrap().to_string()
    );
    assert_eq!(event["changes"]["auth_password"], "[redacted]");
    assert!(!list.to_string().contains("legacy-secret"));
}

#[tokio::test]
async fn another_tenant_or_mode_sees_none_of_it() {
    let api = TestApi::new();
    let created = api.post("/v1/partners", partner()).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(events(&api, "").await["total"], 1);
    let (_, other) = api.other_account();
    for key in [other, api.live_key.clone()] {
        let reply = api
            .call(Method::GET, "/v1/audit-events", Some(&key), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body["total"], 0, "{:?}", reply.body);
    }
}

#[tokio::test]
async fn bad_filters_are_named() {
    let api = TestApi::new();
    for (query, field) in [
        ("?actor=bob", "actor"),
        ("?since=yesterday", "since"),
        ("?until=2020-13-01T00:00:00Z", "until"),
        (
            "?since=2024-01-02T00:00:00Z&until=2024-01-01T00:00:00Z",
            "until",
        ),
        ("?action=", "action"),
        ("?per_page=500", "per_page"),
        ("?colour=red", "colour"),
    ] {
        let reply = api.get(&format!("/v1/audit-events{query}")).await;
        assert_invalid(&reply, field);
    }
}
