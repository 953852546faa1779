//! The access-control sweep: every endpoint of both surfaces, called with no key, a
//! malformed key, a revoked key, a key of another tenant (tenant key and account key), a key
//! of the other mode, our key pointed at another tenant with `X-Tenant-ID`, and a key
//! without the scope the call needs. Never a 2xx, never a byte of our data, and the status
//! the API overview names (401 / 403 / 404). Afterwards every resource is still there.

use crate::common::*;
use as2_domain::Mode;
use as2_domain::api_key::Scope as KeyScope;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// Strings of our resources that must never appear in an answer to someone else.
const MARKERS: [&str; 6] = [
    "SWEEP-PARTNER",
    "Sweep partner",
    "Sweep cert",
    "Sweep subject",
    "hooks.sweep.example",
    "sweep.edi",
];

/// One call of the sweep.
struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
    /// The scope the call needs beyond authentication.
    scope: KeyScope,
    /// Whether the call names one of our resources (else it is a list or a creation).
    targets_ours: bool,
    /// Whether test and live data are apart for it (tenants are shared by both modes).
    by_mode: bool,
    /// The answer to a tenant key of another account (404, or 403 where tenant keys may
    /// never call, whatever the id).
    other_tenant_key: StatusCode,
}

fn call(method: Method, path: String, body: Option<Value>, scope: KeyScope) -> Call {
    Call {
        method,
        path,
        body,
        scope,
        targets_ours: true,
        by_mode: true,
        other_tenant_key: StatusCode::NOT_FOUND,
    }
}

fn collection(method: Method, path: &str, body: Option<Value>, scope: KeyScope) -> Call {
    Call {
        targets_ours: false,
        ..call(method, path.to_owned(), body, scope)
    }
}

fn assert_no_leak(reply: &Reply, context: &str) {
    let text = String::from_utf8_lossy(&reply.bytes);
    for marker in MARKERS {
        assert!(!text.contains(marker), "{context} leaked {marker}: {text}");
    }
}

fn assert_error(reply: &Reply, status: StatusCode, kind: &str, context: &str) {
    assert_eq!(reply.status, status, "{context}: {:?}", reply.body);
    let legacy = context.contains(" /api/v1");
    if legacy {
        assert_eq!(reply.body["status"], "error", "{context}: {:?}", reply.body);
    } else {
        assert_eq!(
            reply.body["error"]["type"], kind,
            "{context}: {:?}",
            reply.body
        );
    }
    assert_no_leak(reply, context);
}

async fn send(api: &TestApi, c: &Call, key: Option<&str>) -> Reply {
    api.call(c.method.clone(), &c.path, key, c.body.clone())
        .await
}

fn id_number(id: &str) -> i64 {
    id.rsplit('_').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn every_endpoint_refuses_every_wrong_key() {
    let api = TestApi::new();
    // our resources, one of each
    let partner = api
        .post(
            "/v1/partners",
            json!({"name": "Sweep partner", "as2_id": "SWEEP-PARTNER", "url": "https://p.example/as2", "encrypt": false}),
        )
        .await;
    assert_eq!(partner.status, StatusCode::CREATED, "{:?}", partner.body);
    let partner = partner.body["data"]["id"].as_str().unwrap().to_owned();
    let station = api.get("/v1/stations").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let certificate = api
        .db
        .store
        .certificates()
        .create(
            as2_store::Scope::new(api.tenant, Mode::Test),
            &as2_store::repo::certificates::NewCertificate {
                name: "Sweep cert",
                info: &as2_domain::certificate::CertificateInfo {
                    subject: "CN=sweep".into(),
                    issuer: "CN=sweep".into(),
                    serial: "01".into(),
                    fingerprint_sha256: "00".into(),
                    not_before: chrono::Utc::now() - chrono::Duration::days(1),
                    not_after: chrono::Utc::now() + chrono::Duration::days(300),
                    key_usage: vec![],
                },
                der: b"\x30\x00",
                chain_der: None,
                private_key_der: None,
            },
        )
        .unwrap()
        .id
        .to_string();
    let message = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": "aGk=", "filename": "sweep.edi", "subject": "Sweep subject"}),
        )
        .await;
    assert_eq!(message.status, StatusCode::ACCEPTED, "{:?}", message.body);
    let message = message.body["data"]["id"].as_str().unwrap().to_owned();
    let webhook = api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.sweep.example/in", "events": ["*"]}),
        )
        .await;
    assert_eq!(webhook.status, StatusCode::CREATED, "{:?}", webhook.body);
    let webhook = webhook.body["data"]["id"].as_str().unwrap().to_owned();
    let tenant = api.tenant.to_string();

    // the keys
    let (other_tenant, other_tenant_key, other_account_key) = api.other_enterprise_account();
    let write_only = api.key_with(&[KeyScope::Write], Mode::Test);
    let read_only = api.key_with(&[KeyScope::Read], Mode::Test);
    let no_delete = api.key_with(&[KeyScope::Read, KeyScope::Write], Mode::Test);
    let no_admin = api.key_with(
        &[KeyScope::Read, KeyScope::Write, KeyScope::Delete],
        Mode::Test,
    );
    let spare = api.key_with(&[KeyScope::Read], Mode::Test);
    let spare_id = api.get("/v1/api-keys").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = api.key_with(
        &[
            KeyScope::Read,
            KeyScope::Write,
            KeyScope::Delete,
            KeyScope::Admin,
        ],
        Mode::Test,
    );
    let revoked_id = api.get("/v1/api-keys").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(revoked_id, spare_id);
    assert_eq!(
        api.delete(&format!("/v1/api-keys/{revoked_id}"))
            .await
            .status,
        StatusCode::OK
    );

    let (r, w, d, a) = (
        KeyScope::Read,
        KeyScope::Write,
        KeyScope::Delete,
        KeyScope::Admin,
    );
    let partner_body =
        json!({"name": "x", "as2_id": "SWEEP-2", "url": "https://p.example/as2", "encrypt": false});
    let (prt, stn, crt, msg) = (
        id_number(&partner),
        id_number(&station),
        id_number(&certificate),
        id_number(&message),
    );
    let mut calls = vec![
        // tenants
        Call {
            by_mode: false,
            other_tenant_key: StatusCode::NOT_FOUND,
            ..call(Method::GET, format!("/v1/tenants/{tenant}"), None, r)
        },
        Call {
            by_mode: false,
            other_tenant_key: StatusCode::FORBIDDEN,
            ..call(
                Method::PATCH,
                format!("/v1/tenants/{tenant}"),
                Some(json!({"name": "x"})),
                a,
            )
        },
        Call {
            by_mode: false,
            other_tenant_key: StatusCode::FORBIDDEN,
            ..call(
                Method::PUT,
                format!("/v1/tenants/{tenant}"),
                Some(json!({"name": "x"})),
                a,
            )
        },
        Call {
            by_mode: false,
            other_tenant_key: StatusCode::FORBIDDEN,
            ..call(Method::DELETE, format!("/v1/tenants/{tenant}"), None, a)
        },
        collection(Method::GET, "/v1/tenants", None, r),
        collection(Method::GET, "/v1/tenants/current", None, r),
        collection(Method::POST, "/v1/tenants", Some(json!({"name": "x"})), a),
        // API keys
        call(Method::DELETE, format!("/v1/api-keys/{spare_id}"), None, a),
        collection(Method::GET, "/v1/api-keys", None, r),
        collection(
            Method::POST,
            "/v1/api-keys",
            Some(json!({"name": "x", "scopes": ["read"]})),
            a,
        ),
        // stations
        call(Method::GET, format!("/v1/stations/{station}"), None, r),
        call(
            Method::PATCH,
            format!("/v1/stations/{station}"),
            Some(json!({"name": "x"})),
            w,
        ),
        call(
            Method::PUT,
            format!("/v1/stations/{station}"),
            Some(json!({"name": "x", "as2_id": "X-REPLACED"})),
            w,
        ),
        call(Method::DELETE, format!("/v1/stations/{station}"), None, d),
        collection(Method::GET, "/v1/stations", None, r),
        collection(
            Method::POST,
            "/v1/stations",
            Some(json!({"name": "x", "as2_id": "SWEEP-STN"})),
            w,
        ),
        // partners
        call(Method::GET, format!("/v1/partners/{partner}"), None, r),
        call(
            Method::PATCH,
            format!("/v1/partners/{partner}"),
            Some(json!({"name": "x"})),
            w,
        ),
        call(
            Method::PUT,
            format!("/v1/partners/{partner}"),
            Some(partner_body.clone()),
            w,
        ),
        call(Method::DELETE, format!("/v1/partners/{partner}"), None, d),
        collection(Method::GET, "/v1/partners", None, r),
        collection(Method::POST, "/v1/partners", Some(partner_body), w),
        // certificates
        call(
            Method::GET,
            format!("/v1/certificates/{certificate}"),
            None,
            r,
        ),
        call(
            Method::GET,
            format!("/v1/certificates/{certificate}/download"),
            None,
            r,
        ),
        call(
            Method::DELETE,
            format!("/v1/certificates/{certificate}"),
            None,
            d,
        ),
        collection(Method::GET, "/v1/certificates", None, r),
        collection(
            Method::POST,
            "/v1/certificates",
            Some(json!({"name": "x", "der_base64": "MAA="})),
            w,
        ),
        collection(
            Method::POST,
            "/v1/certificates/generate",
            Some(json!({"name": "x", "common_name": "x"})),
            w,
        ),
        // messages
        call(Method::GET, format!("/v1/messages/{message}"), None, r),
        call(
            Method::GET,
            format!("/v1/messages/{message}/payload"),
            None,
            r,
        ),
        call(Method::GET, format!("/v1/messages/{message}/mdn"), None, r),
        call(
            Method::GET,
            format!("/v1/messages/{message}/events"),
            None,
            r,
        ),
        call(
            Method::POST,
            format!("/v1/messages/{message}/retry"),
            Some(json!({})),
            w,
        ),
        collection(Method::GET, "/v1/messages", None, r),
        collection(
            Method::POST,
            "/v1/messages",
            Some(json!({"partner_id": partner, "content": "aGk="})),
            w,
        ),
        // webhooks
        call(
            Method::GET,
            format!("/v1/webhook-endpoints/{webhook}"),
            None,
            r,
        ),
        call(
            Method::PATCH,
            format!("/v1/webhook-endpoints/{webhook}"),
            Some(json!({"active": false})),
            w,
        ),
        call(
            Method::PUT,
            format!("/v1/webhook-endpoints/{webhook}"),
            Some(json!({"url": "https://hooks.example.com/replaced", "events": ["*"]})),
            w,
        ),
        call(
            Method::DELETE,
            format!("/v1/webhook-endpoints/{webhook}"),
            None,
            d,
        ),
        call(
            Method::POST,
            format!("/v1/webhook-endpoints/{webhook}/test"),
            Some(json!({})),
            w,
        ),
        call(
            Method::GET,
            format!("/v1/webhook-endpoints/{webhook}/deliveries"),
            None,
            r,
        ),
        collection(Method::GET, "/v1/webhook-endpoints", None, r),
        collection(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(json!({"url": "https://h.example.com", "events": ["*"]})),
            w,
        ),
        // trust lifecycle and certificate exchange
        call(
            Method::GET,
            format!("/v1/partners/{partner}/trust"),
            None,
            r,
        ),
        call(
            Method::POST,
            format!("/v1/partners/{partner}/trust/rollover"),
            Some(
                json!({"certificate_id": certificate, "activate_at": "2030-01-01T00:00:00Z", "retire_at": "2030-01-02T00:00:00Z"}),
            ),
            w,
        ),
        call(
            Method::POST,
            format!("/v1/partners/{partner}/trust/activate"),
            Some(json!({})),
            w,
        ),
        call(
            Method::POST,
            format!("/v1/partners/{partner}/trust/retire"),
            Some(json!({})),
            w,
        ),
        call(
            Method::POST,
            format!("/v1/partners/{partner}/trust/cancel"),
            Some(json!({})),
            w,
        ),
        call(
            Method::GET,
            format!("/v1/partners/{partner}/trust/events"),
            None,
            r,
        ),
        call(
            Method::GET,
            format!("/v1/partners/{partner}/trust/verify"),
            None,
            r,
        ),
        call(
            Method::GET,
            format!("/v1/partners/{partner}/trust/cem"),
            None,
            r,
        ),
        call(
            Method::POST,
            format!("/v1/partners/{partner}/trust/cem"),
            Some(json!({"certificate_id": certificate, "respond_by": "2030-01-01T00:00:00Z"})),
            w,
        ),
        call(
            Method::POST,
            format!("/v1/partners/{partner}/trust/cem/cem_000001/accept"),
            Some(json!({})),
            w,
        ),
        call(
            Method::POST,
            format!("/v1/partners/{partner}/trust/cem/cem_000001/reject"),
            Some(json!({"reason": "no"})),
            w,
        ),
        call(
            Method::GET,
            format!("/v1/stations/{station}/trust"),
            None,
            r,
        ),
        call(
            Method::POST,
            format!("/v1/stations/{station}/trust/rollover"),
            Some(
                json!({"certificate_id": certificate, "activate_at": "2030-01-01T00:00:00Z", "retire_at": "2030-01-02T00:00:00Z"}),
            ),
            w,
        ),
        call(
            Method::POST,
            format!("/v1/stations/{station}/trust/activate"),
            Some(json!({})),
            w,
        ),
        call(
            Method::POST,
            format!("/v1/stations/{station}/trust/retire"),
            Some(json!({})),
            w,
        ),
        call(
            Method::POST,
            format!("/v1/stations/{station}/trust/cancel"),
            Some(json!({})),
            w,
        ),
        call(
            Method::GET,
            format!("/v1/stations/{station}/trust/events"),
            None,
            r,
        ),
        call(
            Method::GET,
            format!("/v1/stations/{station}/trust/verify"),
            None,
            r,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/trust".into(),
            Some(json!({"id": prt})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/events".into(),
            Some(json!({"id": prt})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/verify".into(),
            Some(json!({"id": prt})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/requests".into(),
            Some(json!({"id": prt})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/schedule-rollover".into(),
            Some(
                json!({"id": prt, "certificate_id": crt, "activate_at": "2030-01-01T00:00:00Z", "retire_at": "2030-01-02T00:00:00Z"}),
            ),
            w,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/activate".into(),
            Some(json!({"id": prt})),
            w,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/retire".into(),
            Some(json!({"id": prt})),
            w,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/send".into(),
            Some(json!({"id": prt, "certificate_id": crt, "respond_by": "2030-01-01T00:00:00Z"})),
            w,
        ),
        call(
            Method::POST,
            "/api/v1/partners/cem/accept".into(),
            Some(json!({"id": prt, "cem_request_id": 1})),
            w,
        ),
        // usage
        collection(Method::GET, "/v1/usage", None, r),
        // the station-style surface of seed 000
        call(
            Method::POST,
            "/api/v1/partners/detail".into(),
            Some(json!({"id": prt})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/stations/detail".into(),
            Some(json!({"id": stn})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/certificates/detail".into(),
            Some(json!({"id": crt})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/certificates/download".into(),
            Some(json!({"id": crt})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/messages/detail".into(),
            Some(json!({"id": msg})),
            r,
        ),
        call(
            Method::POST,
            "/api/v1/messages/download".into(),
            Some(json!({"id": msg})),
            r,
        ),
        collection(Method::POST, "/api/v1/partners", Some(json!({})), r),
        collection(
            Method::POST,
            "/api/v1/partners",
            Some(json!({"station": stn})),
            r,
        ),
        collection(Method::POST, "/api/v1/stations", Some(json!({})), r),
        collection(Method::POST, "/api/v1/certificates", Some(json!({})), r),
        collection(Method::POST, "/api/v1/messages", Some(json!({})), r),
        collection(
            Method::POST,
            "/api/v1/messages",
            Some(json!({"partner": prt})),
            r,
        ),
        collection(
            Method::POST,
            "/api/v1/partners/create",
            Some(
                json!({"station": stn, "as2_id": "SWEEP-3", "name": "x", "email": "e@e.example", "endpoint_url": "https://p.example/as2"}),
            ),
            w,
        ),
        collection(
            Method::POST,
            "/api/v1/stations/create",
            Some(json!({"name": "x", "as2_id": "SWEEP-STN-2"})),
            w,
        ),
        collection(
            Method::POST,
            "/api/v1/certificates/create",
            Some(json!({"name": "x", "der_base64": "MAA="})),
            w,
        ),
        collection(
            Method::POST,
            "/api/v1/messages/send",
            Some(json!({"partner_id": prt, "content": "aGk="})),
            w,
        ),
        collection(
            Method::POST,
            "/api/v1/messages/create",
            Some(json!({"partner_id": prt, "content": "aGk="})),
            w,
        ),
    ];
    // a malformed id is the same 404 as a foreign one
    calls.push(call(Method::GET, "/v1/partners/prt_x".into(), None, r));

    let other_tenant_header = other_tenant.to_string();
    for c in &calls {
        let context = format!("{} {}", c.method, c.path);

        let reply = send(&api, c, None).await;
        assert_error(
            &reply,
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            &format!("no key: {context}"),
        );
        let reply = send(&api, c, Some("pk_test_notarealkeyatallnotarealkey")).await;
        assert_error(
            &reply,
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            &format!("malformed key: {context}"),
        );
        let reply = send(&api, c, Some(&revoked)).await;
        assert_error(
            &reply,
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            &format!("revoked key: {context}"),
        );
        let reply = api
            .call_with_headers(
                c.method.clone(),
                &c.path,
                Some(&api.key),
                c.body.clone(),
                &[("x-tenant-id", &other_tenant_header)],
            )
            .await;
        assert_error(
            &reply,
            StatusCode::FORBIDDEN,
            "authorization_error",
            &format!("X-Tenant-ID of another account: {context}"),
        );
        let lacking = match c.scope {
            KeyScope::Read => &write_only,
            KeyScope::Write => &read_only,
            KeyScope::Delete => &no_delete,
            _ => &no_admin,
        };
        let reply = send(&api, c, Some(lacking)).await;
        assert_error(
            &reply,
            StatusCode::FORBIDDEN,
            "authorization_error",
            &format!("key without {}: {context}", c.scope),
        );

        if c.targets_ours {
            let reply = send(&api, c, Some(&other_tenant_key)).await;
            assert_error(
                &reply,
                c.other_tenant_key,
                if c.other_tenant_key == StatusCode::NOT_FOUND {
                    "resource_error"
                } else {
                    "authorization_error"
                },
                &format!("tenant key of another account: {context}"),
            );
            let reply = send(&api, c, Some(&other_account_key)).await;
            assert_error(
                &reply,
                StatusCode::NOT_FOUND,
                "resource_error",
                &format!("account key of another account: {context}"),
            );
            if c.by_mode {
                let reply = send(&api, c, Some(&api.live_key)).await;
                assert_error(
                    &reply,
                    StatusCode::NOT_FOUND,
                    "resource_error",
                    &format!("live key on test data: {context}"),
                );
            }
        } else if c.method == Method::GET || (c.path.starts_with("/api/v1/") && c.scope == r) {
            // lists: someone else sees their own (empty) data, never ours
            for key in [&other_tenant_key, &other_account_key, &api.live_key] {
                let reply = send(&api, c, Some(key)).await;
                assert!(reply.status.is_success(), "{context}: {:?}", reply.body);
                assert_no_leak(&reply, &format!("someone else's list: {context}"));
            }
        }
    }

    // nothing was changed, deleted or created by any refused call
    for path in [
        format!("/v1/partners/{partner}"),
        format!("/v1/stations/{station}"),
        format!("/v1/certificates/{certificate}"),
        format!("/v1/messages/{message}"),
        format!("/v1/webhook-endpoints/{webhook}"),
        format!("/v1/tenants/{tenant}"),
    ] {
        let reply = api.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path} is gone");
        assert_ne!(reply.body["data"]["name"], "x", "{path} was changed");
    }
    assert_eq!(
        api.get(&format!("/v1/webhook-endpoints/{webhook}"))
            .await
            .body["data"]["active"],
        true
    );
    for (path, total) in [
        ("/v1/partners", 1),
        ("/v1/stations", 1),
        ("/v1/certificates", 1),
        ("/v1/messages", 1),
        ("/v1/webhook-endpoints", 1),
        ("/v1/tenants", 1),
    ] {
        assert_eq!(api.get(path).await.body["total"], total, "{path}");
    }
    let spare_works = api
        .call(Method::GET, "/v1/partners", Some(&spare), None)
        .await;
    assert_eq!(
        spare_works.status,
        StatusCode::OK,
        "the spare key was revoked"
    );
    let deliveries = api
        .get(&format!("/v1/webhook-endpoints/{webhook}/deliveries"))
        .await;
    let events: Vec<&str> = deliveries.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    assert!(
        !events.contains(&"webhook.test"),
        "a refused test call was delivered"
    );
}
