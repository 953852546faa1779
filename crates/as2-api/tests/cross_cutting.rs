//! Authentication, tenancy, modes, scopes, content negotiation, idempotency, rate limits and
//! the OpenAPI document, across the `/v1` surface.

mod common;

use as2_domain::Mode;
use as2_domain::api_key::Scope as KeyScope;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::json;

async fn partner(api: &TestApi) -> String {
    let body =
        json!({"name": "P", "as2_id": "P1", "url": "https://p.example/as2", "encrypt": false});
    api.post("/v1/partners", body).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn access_control_sweep() {
    let api = TestApi::new();
    let id = partner(&api).await;
    let station = api.get("/v1/stations").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, other_key) = api.other_account();
    let read_only = api.key_with(&[KeyScope::Read], Mode::Test);
    let revoked = api.key_with(
        &[KeyScope::Read, KeyScope::Write, KeyScope::Delete],
        Mode::Test,
    );
    let revoked_id = api.get("/v1/api-keys").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.delete(&format!("/v1/api-keys/{revoked_id}"))
            .await
            .status,
        StatusCode::OK
    );

    let endpoints: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/v1/partners/{id}"), None),
        (
            Method::PATCH,
            format!("/v1/partners/{id}"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PUT,
            format!("/v1/partners/{id}"),
            Some(
                json!({"name": "x", "as2_id": "P1", "url": "https://p.example/as2", "encrypt": false}),
            ),
        ),
        (Method::DELETE, format!("/v1/partners/{id}"), None),
        (Method::GET, format!("/v1/stations/{station}"), None),
        (
            Method::PATCH,
            format!("/v1/stations/{station}"),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("/v1/stations/{station}"), None),
    ];
    for (method, path, body) in &endpoints {
        let no_key = api.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(
            no_key.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a key"
        );
        assert_eq!(no_key.body["error"]["type"], "authentication_error");
        let garbage = api
            .call(
                method.clone(),
                path,
                Some("pk_test_notarealkeyatallnotarealkey"),
                body.clone(),
            )
            .await;
        assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
        let revoked_reply = api
            .call(method.clone(), path, Some(&revoked), body.clone())
            .await;
        assert_eq!(
            revoked_reply.status,
            StatusCode::UNAUTHORIZED,
            "revoked key on {method} {path}"
        );
        let other = api
            .call(method.clone(), path, Some(&other_key), body.clone())
            .await;
        assert_eq!(
            other.status,
            StatusCode::NOT_FOUND,
            "other tenant on {method} {path}: {:?}",
            other.body
        );
        assert!(!String::from_utf8_lossy(&other.bytes).contains("P1"));
        let live = api
            .call(
                method.clone(),
                path,
                Some(&api.live_key.clone()),
                body.clone(),
            )
            .await;
        assert_eq!(
            live.status,
            StatusCode::NOT_FOUND,
            "live key on test data {method} {path}"
        );
        if *method != Method::GET {
            let scoped = api
                .call(method.clone(), path, Some(&read_only), body.clone())
                .await;
            assert_eq!(
                scoped.status,
                StatusCode::FORBIDDEN,
                "read-only key on {method} {path}"
            );
            assert_eq!(scoped.body["error"]["type"], "authorization_error");
        }
    }
    let lists = ["/v1/partners", "/v1/stations"];
    for path in lists {
        let other = api.call(Method::GET, path, Some(&other_key), None).await;
        assert_eq!(other.status, StatusCode::OK);
        assert!(!String::from_utf8_lossy(&other.bytes).contains(&id));
    }
}

#[tokio::test]
async fn tenant_header_selects_only_own_tenants() {
    let api = TestApi::new();
    let (other_tenant, _) = api.other_account();
    let reply = api.post("/v1/tenants", json!({"name": "Second"})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let second = reply.body["data"]["id"].as_str().unwrap().to_owned();
    let request = |tenant: &str| {
        Request::get("/v1/tenants/current")
            .header("authorization", format!("Bearer {}", api.key))
            .header("x-tenant-id", tenant)
            .body(Body::empty())
            .unwrap()
    };
    let current = api.send(request(&second)).await;
    assert_eq!(current.body["data"]["id"], second.as_str());
    let foreign = api.send(request(&other_tenant.to_string())).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api.send(request("garbage")).await.status,
        StatusCode::FORBIDDEN
    );
    let default = api.get("/v1/tenants/current").await;
    assert_eq!(default.body["data"]["id"], api.tenant.to_string());
}

#[tokio::test]
async fn content_types_and_accept() {
    let api = TestApi::new();
    let request = Request::post("/v1/partners")
        .header("authorization", format!("Bearer {}", api.key))
        .header("content-type", "text/plain")
        .body(Body::from("name=x"))
        .unwrap();
    let reply = api.send(request).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.headers["content-type"], "application/json");
    let request = Request::get("/v1/partners")
        .header("authorization", format!("Bearer {}", api.key))
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.send(request).await.status, StatusCode::NOT_ACCEPTABLE);
    let unknown = api.get("/v1/nothing-here").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["error"]["code"], "route_not_found");
}

#[tokio::test]
async fn idempotency_replays_refuses_changes_and_validates_the_key() {
    let api = TestApi::new();
    let send = |key: &str, body: serde_json::Value| {
        Request::post("/v1/partners")
            .header("authorization", format!("Bearer {}", api.key))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap()
    };
    let key = "550e8400-e29b-41d4-a716-446655440000";
    let body =
        json!({"name": "P", "as2_id": "IDEM", "url": "https://p.example/as2", "encrypt": false});
    let first = api.send(send(key, body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = api.send(send(key, body.clone())).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "the stored response is returned");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(
        api.get("/v1/partners").await.body["total"],
        1,
        "no second partner"
    );
    let changed = api.send(send(key, json!({"name": "Q", "as2_id": "IDEM2", "url": "https://p.example/as2", "encrypt": false}))).await;
    assert_eq!(changed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(changed.body["error"]["type"], "idempotency_error");
    let malformed = api.send(send("not-a-uuid", body.clone())).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    // a claim whose first request is still running: the second one is 409
    use as2_store::repo::idempotency::Claim;
    let running = "6fa459ea-ee8a-4ca4-894e-db77e160355e";
    let fp = as2_domain::idempotency::request_fingerprint(
        "POST",
        "test /v1/partners ",
        &serde_json::to_vec(&body).unwrap(),
    );
    assert_eq!(
        api.db
            .store
            .idempotency()
            .claim(api.tenant, running, &fp, chrono::Utc::now())
            .unwrap(),
        Claim::Claimed
    );
    let concurrent = api.send(send(running, body)).await;
    assert_eq!(
        concurrent.status,
        StatusCode::CONFLICT,
        "{:?}",
        concurrent.body
    );
    assert_eq!(concurrent.body["error"]["type"], "idempotency_error");
}

#[tokio::test]
async fn rate_limit_headers_burst_and_retry_after() {
    let api = TestApi::new();
    let (_, key) = api.other_account(); // a Free plan: burst 20, 100/min
    let mut last = None;
    for i in 0..20 {
        let reply = api
            .call(Method::GET, "/v1/partners", Some(&key), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "request {i} of the burst");
        assert_eq!(reply.headers["x-ratelimit-limit"], "100");
        assert!(
            reply.headers.contains_key("x-ratelimit-remaining")
                && reply.headers.contains_key("x-ratelimit-reset")
        );
        last = Some(reply);
    }
    assert_eq!(last.unwrap().headers["x-ratelimit-remaining"], "0");
    let refused = api
        .call(Method::GET, "/v1/partners", Some(&key), None)
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.body["error"]["type"], "rate_limit_error");
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
}

#[tokio::test]
async fn openapi_describes_every_v1_route() {
    let api = TestApi::new();
    let doc = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/partners",
        "/v1/partners/{id}",
        "/v1/stations",
        "/v1/tenants",
        "/v1/tenants/current",
        "/v1/api-keys",
        "/v1/api-keys/{id}",
    ] {
        assert!(
            doc.body["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc.body["paths"]["/v1/partners/{id}"]["put"].is_object());
}

#[tokio::test]
async fn api_keys_show_the_secret_once() {
    let api = TestApi::new();
    let created = api
        .post("/v1/api-keys", json!({"name": "ci", "scopes": ["read"]}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let secret = created.body["data"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tk_test_"));
    let listed = api.get("/v1/api-keys").await;
    assert!(!String::from_utf8_lossy(&listed.bytes).contains(&secret));
    let with_new = api
        .call(Method::GET, "/v1/partners", Some(&secret), None)
        .await;
    assert_eq!(with_new.status, StatusCode::OK);
    let write = api
        .call(Method::POST, "/v1/partners", Some(&secret), Some(json!({})))
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    let bad = api
        .post(
            "/v1/api-keys",
            json!({"name": "", "kind": "zz", "mode": "prod", "scopes": ["root"]}),
        )
        .await;
    for field in ["name", "kind", "mode", "scopes"] {
        assert_invalid(&bad, field);
    }
}
