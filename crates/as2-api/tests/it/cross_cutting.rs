//! Authentication, tenancy, modes, scopes, content negotiation, idempotency, rate limits and
//! the OpenAPI document, across the `/v1` surface (the per-endpoint sweep of wrong keys is
//! `access_control.rs`).

use crate::common::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

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
async fn form_bodies_are_read_where_json_is() {
    let api = TestApi::new();
    let form = |method: Method, path: &str, body: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", api.key))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    // seed 002's partner example, as form fields: booleans, numbers and a repeated list
    let created = api
        .send(form(
            Method::POST,
            "/v1/partners",
            "name=Acme+Corporation&as2_id=ACME-CORP-AS2&url=https%3A%2F%2Facme.example.com%2Fas2\
             &sign=true&encrypt=false&retry_attempts=7&firewall=true\
             &allowed_networks=10.0.0.0%2F8&allowed_networks=192.0.2.0%2F24",
        ))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let data = &created.body["data"];
    assert_eq!(data["name"], "Acme Corporation");
    assert_eq!(data["url"], "https://acme.example.com/as2");
    assert_eq!(
        (data["sign"].as_bool(), data["encrypt"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(data["retry_attempts"], 7);
    assert_eq!(
        data["allowed_networks"],
        json!(["10.0.0.0/8", "192.0.2.0/24"])
    );
    let id = data["id"].as_str().unwrap().to_owned();
    // PATCH too, and a message sent with its base64 content as a field
    let patched = api
        .send(form(
            Method::PATCH,
            &format!("/v1/partners/{id}"),
            "name=Acme+Corp",
        ))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["data"]["name"], "Acme Corp");
    let sent = api
        .send(form(
            Method::POST,
            "/v1/messages",
            &format!("partner_id={id}&filename=po.edi&content=SVNBKjAwfg%3D%3D"),
        ))
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{:?}", sent.body);
    // the same rules and the same answers as JSON: a bad value and an unknown field named
    let bad = api
        .send(form(
            Method::POST,
            "/v1/partners",
            "name=x&as2_id=X&url=https%3A%2F%2Fx.example&sign=yes&colour=red",
        ))
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bad.body
    );
    let errors = &bad.body["errors"];
    assert!(
        errors["sign"].is_array() || errors["colour"].is_array(),
        "{errors}"
    );
    let empty = api.send(form(Method::POST, "/v1/partners", "")).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{:?}", empty.body);
    // seed 000's surface reads them as well
    let stations = api.get("/v1/stations").await;
    let station = &stations.body["data"][0]["id"].as_str().unwrap()[4..];
    let legacy = api
        .send(form(
            Method::POST,
            "/api/v1/partners/create",
            &format!(
                "station={}&as2_id=AS2%3ACLIENTE_001&name=Primary+Customer&email=as2%40cliente.com\
                 &endpoint_url=https%3A%2F%2Fcliente.com%2Fas2&mdn=2&encryption=0",
                station.trim_start_matches('0')
            ),
        ))
        .await;
    assert_eq!(legacy.status, StatusCode::OK, "{:?}", legacy.body);
    assert_eq!(legacy.body["data"]["name"], "Primary Customer");
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
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(refused.headers.contains_key(name), "{name} on the 429");
    }
    // errors of an authenticated request carry the headers too
    let read_only = api.key_with(&[as2_domain::api_key::Scope::Read], as2_domain::Mode::Test);
    for (method, path, key, body, status) in [
        (
            Method::GET,
            "/v1/partners/prt_999999",
            api.key.clone(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/v1/partners",
            api.key.clone(),
            Some(json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/v1/partners",
            read_only,
            Some(json!({})),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/partners/detail",
            api.key.clone(),
            Some(json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let reply = api.call(method, path, Some(&key), body).await;
        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.headers["x-ratelimit-limit"], "5000", "{path}");
        assert!(
            reply.headers.contains_key("x-ratelimit-remaining"),
            "{path}"
        );
        assert!(reply.headers.contains_key("x-ratelimit-reset"), "{path}");
    }
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_concurrent_requests_never_starves_the_pool() {
    // 64 requests at once against a pool of 8 connections: authentication holds one
    // connection while it asks for a second, so unbounded database work would deadlock the
    // pool until its 10 s timeout and answer 503s.
    let api = TestApi::new();
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let router = api.router.clone();
        let key = api.key.clone();
        tasks.push(tokio::spawn(async move {
            let request = Request::get("/v1/partners")
                .header("authorization", format!("Bearer {key}"))
                .body(Body::empty())
                .unwrap();
            tower::ServiceExt::oneshot(router, request)
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn idempotent_creations_replay_and_keep_secrets_sealed() {
    use as2_domain::idempotency::{Replay, request_fingerprint};
    use as2_store::repo::idempotency::Claim;
    let api = TestApi::new();
    let post = |path: &str, key: &str, body: &serde_json::Value| {
        Request::post(path)
            .header("authorization", format!("Bearer {}", api.key))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(Body::from(serde_json::to_vec(body).unwrap()))
            .unwrap()
    };
    // a webhook endpoint: the replay shows the same secret, the kept copy is sealed
    let key = "3b241101-e2bb-4255-8caf-4136c566a962";
    let body = json!({"url": "https://hooks.example.com/in", "events": ["*"]});
    let first = api.send(post("/v1/webhook-endpoints", key, &body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let secret = first.body["data"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let again = api.send(post("/v1/webhook-endpoints", key, &body)).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(api.get("/v1/webhook-endpoints").await.body["total"], 1);
    let fingerprint = request_fingerprint(
        "POST",
        "test /v1/webhook-endpoints ",
        &serde_json::to_vec(&body).unwrap(),
    );
    let Claim::Existing(record) = api
        .db
        .store
        .idempotency()
        .claim(api.tenant, key, &fingerprint, chrono::Utc::now())
        .unwrap()
    else {
        panic!("the key was not kept");
    };
    let Replay::Stored(kept) = record.replay(&fingerprint) else {
        panic!("no kept response");
    };
    let kept = String::from_utf8_lossy(&kept.body);
    assert!(kept.starts_with("v1."), "{kept}");
    assert!(
        !kept.contains(&secret) && !kept.contains("whsec_"),
        "{kept}"
    );

    // an API key: the same
    let key = "9c5b94b1-35ad-49bb-b118-8e8fc24abf80";
    let body = json!({"name": "ci"});
    let first = api.send(post("/v1/api-keys", key, &body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let again = api.send(post("/v1/api-keys", key, &body)).await;
    assert_eq!(again.body, first.body);

    // a message: one message and one send job, however often it is replayed
    let partner = api
        .post(
            "/v1/partners",
            json!({"name": "P", "as2_id": "P1", "url": "https://p.example/as2", "encrypt": false}),
        )
        .await;
    let partner = partner.body["data"]["id"].as_str().unwrap().to_owned();
    let key = "16fd2706-8baf-433b-82eb-8c7fada847da";
    let body = json!({"partner_id": partner, "content": "aGk="});
    let first = api.send(post("/v1/messages", key, &body)).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.body);
    for _ in 0..3 {
        let again = api.send(post("/v1/messages", key, &body)).await;
        assert_eq!(again.status, StatusCode::ACCEPTED);
        assert_eq!(again.body, first.body);
    }
    assert_eq!(api.get("/v1/messages").await.body["total"], 1);
    let jobs = api.db.store.jobs();
    let lease = chrono::Duration::minutes(1);
    let kinds = [as2_domain::job::JobKind::SendMessage];
    assert!(
        jobs.claim(&kinds, chrono::Utc::now(), lease)
            .unwrap()
            .is_some()
    );
    assert!(
        jobs.claim(&kinds, chrono::Utc::now(), lease)
            .unwrap()
            .is_none(),
        "a second send job"
    );
    // the same key on another endpoint is another request: 422
    let reused = api.send(post("/v1/partners", key, &body)).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["error"]["type"], "idempotency_error");
}
