//! `POST /v1/api-keys` creates keys only in the caller's own mode: a test key cannot mint a
//! live key (nor a live key a test key); 403 with a sentence, and no key is stored.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn keys_in_mode(api: &TestApi, key: &str) -> i64 {
    let reply = api.call(Method::GET, "/v1/api-keys", Some(key), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["total"].as_i64().unwrap()
}

#[tokio::test]
async fn a_test_key_cannot_create_a_live_key() {
    let api = TestApi::new();
    let live_before = keys_in_mode(&api, &api.live_key.clone()).await;
    for body in [
        json!({"name": "escalate", "mode": "live"}),
        json!({"name": "escalate", "mode": "live", "kind": "pk", "scopes": ["admin"]}),
    ] {
        let reply = api.post("/v1/api-keys", body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.body);
        let sentence = reply.body["message"].as_str().unwrap();
        assert!(
            sentence.contains("test key can only create test keys")
                && sentence.contains("api-server create-key"),
            "{sentence}"
        );
        assert!(reply.body["data"].is_null(), "{:?}", reply.body);
        assert!(!String::from_utf8_lossy(&reply.bytes).contains("_live_"));
    }
    assert_eq!(
        keys_in_mode(&api, &api.live_key.clone()).await,
        live_before,
        "no live key was stored"
    );
    // its own mode is fine, named or by default
    for body in [
        json!({"name": "same", "mode": "test"}),
        json!({"name": "default"}),
    ] {
        let reply = api.post("/v1/api-keys", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        assert_eq!(reply.body["data"]["mode"], "test");
        assert!(
            reply.body["data"]["secret"]
                .as_str()
                .unwrap()
                .starts_with("tk_test_")
        );
    }
}

#[tokio::test]
async fn a_live_key_creates_live_keys_only() {
    let api = TestApi::new();
    let live = api.live_key.clone();
    let test_before = keys_in_mode(&api, &api.key.clone()).await;
    let refused = api
        .call(
            Method::POST,
            "/v1/api-keys",
            Some(&live),
            Some(json!({"name": "down", "mode": "test"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("live key can only create live keys")
    );
    assert_eq!(keys_in_mode(&api, &api.key.clone()).await, test_before);
    let created = api
        .call(
            Method::POST,
            "/v1/api-keys",
            Some(&live),
            Some(json!({"name": "ops", "mode": "live"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert!(
        created.body["data"]["secret"]
            .as_str()
            .unwrap()
            .starts_with("tk_live_")
    );
}
