//! The access-control sweep: every endpoint of both surfaces, called with no key, a
//! malformed key, a revoked key, a key of another tenant (tenant key and account key), a key
//! of the other mode, our key pointed at another tenant with `X-Tenant-ID`, and a key
//! without the scope the call needs. Never a 2xx, never a byte of our data, and the status
//! the API overview names (401 / 403 / 404). Afterwards every resource is still there.
//!
//! Two tables drive one loop: `ROWS`, one row per endpoint (method and path, body, scope,
//! what it names), and `CALLERS`, what each caller gets for each kind of row.

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

/// What a row's call names, which decides what the keys of someone else get.
#[derive(Clone, Copy)]
enum Target {
    /// One of our resources, kept apart by mode.
    Ours,
    /// Our tenant (shared by both modes).
    Tenant,
    /// A change to our tenant that tenant keys may never make, whatever the id (403).
    TenantAdmin,
    /// A list: someone else gets their own (empty) data.
    List,
    /// A creation: only the refusals of the first five callers are checked.
    Create,
}
use Target::{Create, List, Ours, Tenant, TenantAdmin};

/// Who calls.
#[derive(Clone, Copy)]
enum Caller {
    NoKey,
    MalformedKey,
    RevokedKey,
    /// Our key, with `X-Tenant-ID` naming the tenant of another account.
    OtherTenantHeader,
    /// Our tenant's key without the scope the call needs.
    LackingScope,
    OtherTenantKey,
    OtherAccountKey,
    /// Our tenant's live key on test data.
    LiveKey,
}

/// What a caller gets.
#[derive(Clone, Copy)]
enum Expect {
    /// This status with this error type (legacy `/api/v1` answers: `status: error`).
    Refused(StatusCode, &'static str),
    /// A 2xx with their own data, never a byte of ours.
    OwnData,
    /// Not checked.
    Skip,
}
use Expect::{OwnData, Skip};

const E401: Expect = Expect::Refused(StatusCode::UNAUTHORIZED, "authentication_error");
const E403: Expect = Expect::Refused(StatusCode::FORBIDDEN, "authorization_error");
const E404: Expect = Expect::Refused(StatusCode::NOT_FOUND, "resource_error");

/// Every caller, in the order they call, and what they get per target.
#[rustfmt::skip]
const CALLERS: [(Caller, &str, [Expect; 5]); 8] = [
    //                                                 Ours  Tenant TenantAdmin List    Create
    (Caller::NoKey, "no key",                          [E401, E401, E401,       E401,   E401]),
    (Caller::MalformedKey, "malformed key",            [E401, E401, E401,       E401,   E401]),
    (Caller::RevokedKey, "revoked key",                [E401, E401, E401,       E401,   E401]),
    (Caller::OtherTenantHeader, "X-Tenant-ID of another account",
                                                       [E403, E403, E403,       E403,   E403]),
    (Caller::LackingScope, "key without the scope",    [E403, E403, E403,       E403,   E403]),
    (Caller::OtherTenantKey, "tenant key of another account",
                                                       [E404, E404, E403,       OwnData, Skip]),
    (Caller::OtherAccountKey, "account key of another account",
                                                       [E404, E404, E404,       OwnData, Skip]),
    (Caller::LiveKey, "live key on test data",         [E404, Skip, Skip,       OwnData, Skip]),
];

/// Every endpoint of both surfaces: `"METHOD path"`, the JSON body (none when empty), the
/// scope the call needs beyond authentication, and what it names. `{partner}`, `{station}`,
/// `{certificate}`, `{message}`, `{webhook}`, `{delivery}`, `{tenant}` and `{spare_key}` are our ids;
/// `{prt}`, `{stn}`, `{crt}`, `{msg}` their numbers (the seed-000 surface).
#[rustfmt::skip]
const ROWS: &[(&str, &str, KeyScope, Target)] = &[
    // tenants
    ("GET /v1/tenants/{tenant}", "", R, Tenant),
    ("PATCH /v1/tenants/{tenant}", r#"{"name": "x"}"#, A, TenantAdmin),
    ("PUT /v1/tenants/{tenant}", r#"{"name": "x"}"#, A, TenantAdmin),
    ("DELETE /v1/tenants/{tenant}", "", A, TenantAdmin),
    ("GET /v1/tenants", "", R, List),
    ("GET /v1/tenants/current", "", R, List),
    ("POST /v1/tenants", r#"{"name": "x"}"#, A, Create),
    // API keys
    ("DELETE /v1/api-keys/{spare_key}", "", A, Ours),
    ("GET /v1/api-keys", "", R, List),
    ("POST /v1/api-keys", r#"{"name": "x", "scopes": ["read"]}"#, A, Create),
    // stations
    ("GET /v1/stations/{station}", "", R, Ours),
    ("PATCH /v1/stations/{station}", r#"{"name": "x"}"#, W, Ours),
    ("PUT /v1/stations/{station}", r#"{"name": "x", "as2_id": "X-REPLACED"}"#, W, Ours),
    ("DELETE /v1/stations/{station}", "", D, Ours),
    ("GET /v1/stations", "", R, List),
    ("POST /v1/stations", r#"{"name": "x", "as2_id": "SWEEP-STN"}"#, W, Create),
    // partners
    ("GET /v1/partners/{partner}", "", R, Ours),
    ("PATCH /v1/partners/{partner}", r#"{"name": "x"}"#, W, Ours),
    ("PUT /v1/partners/{partner}", PARTNER_BODY, W, Ours),
    ("DELETE /v1/partners/{partner}", "", D, Ours),
    ("GET /v1/partners", "", R, List),
    ("POST /v1/partners", PARTNER_BODY, W, Create),
    // certificates
    ("GET /v1/certificates/{certificate}", "", R, Ours),
    ("GET /v1/certificates/{certificate}/download", "", R, Ours),
    ("DELETE /v1/certificates/{certificate}", "", D, Ours),
    ("GET /v1/certificates", "", R, List),
    ("POST /v1/certificates", r#"{"name": "x", "der_base64": "MAA="}"#, W, Create),
    ("POST /v1/certificates/generate", r#"{"name": "x", "common_name": "x"}"#, W, Create),
    // messages
    ("GET /v1/messages/{message}", "", R, Ours),
    ("GET /v1/messages/{message}/payload", "", R, Ours),
    ("GET /v1/messages/{message}/mdn", "", R, Ours),
    ("GET /v1/messages/{message}/events", "", R, Ours),
    ("POST /v1/messages/{message}/retry", "{}", W, Ours),
    ("POST /v1/messages/{message}/resend", "{}", W, Ours),
    ("POST /v1/messages/{message}/cancel", "{}", W, Ours),
    ("GET /v1/messages", "", R, List),
    ("POST /v1/messages", r#"{"partner_id": "{partner}", "content": "aGk="}"#, W, Create),
    // webhooks
    ("GET /v1/webhook-endpoints/{webhook}", "", R, Ours),
    ("PATCH /v1/webhook-endpoints/{webhook}", r#"{"active": false}"#, W, Ours),
    ("PUT /v1/webhook-endpoints/{webhook}", r#"{"url": "https://hooks.example.com/replaced", "events": ["*"]}"#, W, Ours),
    ("DELETE /v1/webhook-endpoints/{webhook}", "", D, Ours),
    ("POST /v1/webhook-endpoints/{webhook}/test", "{}", W, Ours),
    ("GET /v1/webhook-endpoints/{webhook}/deliveries", "", R, Ours),
    ("POST /v1/webhook-endpoints/{webhook}/deliveries/{delivery}/redeliver", "{}", W, Ours),
    ("GET /v1/webhook-endpoints", "", R, List),
    ("POST /v1/webhook-endpoints", r#"{"url": "https://h.example.com", "events": ["*"]}"#, W, Create),
    // trust lifecycle and certificate exchange
    ("GET /v1/partners/{partner}/trust", "", R, Ours),
    ("POST /v1/partners/{partner}/trust/rollover", ROLLOVER_BODY, W, Ours),
    ("POST /v1/partners/{partner}/trust/activate", "{}", W, Ours),
    ("POST /v1/partners/{partner}/trust/retire", "{}", W, Ours),
    ("POST /v1/partners/{partner}/trust/cancel", "{}", W, Ours),
    ("GET /v1/partners/{partner}/trust/events", "", R, Ours),
    ("GET /v1/partners/{partner}/trust/verify", "", R, Ours),
    ("GET /v1/partners/{partner}/trust/cem", "", R, Ours),
    ("POST /v1/partners/{partner}/trust/cem", r#"{"certificate_id": "{certificate}", "respond_by": "2030-01-01T00:00:00Z"}"#, W, Ours),
    ("POST /v1/partners/{partner}/trust/cem/cem_000001/accept", "{}", W, Ours),
    ("POST /v1/partners/{partner}/trust/cem/cem_000001/reject", r#"{"reason": "no"}"#, W, Ours),
    ("GET /v1/stations/{station}/trust", "", R, Ours),
    ("POST /v1/stations/{station}/trust/rollover", ROLLOVER_BODY, W, Ours),
    ("POST /v1/stations/{station}/trust/activate", "{}", W, Ours),
    ("POST /v1/stations/{station}/trust/retire", "{}", W, Ours),
    ("POST /v1/stations/{station}/trust/cancel", "{}", W, Ours),
    ("GET /v1/stations/{station}/trust/events", "", R, Ours),
    ("GET /v1/stations/{station}/trust/verify", "", R, Ours),
    ("POST /api/v1/partners/cem/trust", r#"{"id": {prt}}"#, R, Ours),
    ("POST /api/v1/partners/cem/events", r#"{"id": {prt}}"#, R, Ours),
    ("POST /api/v1/partners/cem/verify", r#"{"id": {prt}}"#, R, Ours),
    ("POST /api/v1/partners/cem/requests", r#"{"id": {prt}}"#, R, Ours),
    ("POST /api/v1/partners/cem/schedule-rollover", r#"{"id": {prt}, "certificate_id": {crt}, "activate_at": "2030-01-01T00:00:00Z", "retire_at": "2030-01-02T00:00:00Z"}"#, W, Ours),
    ("POST /api/v1/partners/cem/activate", r#"{"id": {prt}}"#, W, Ours),
    ("POST /api/v1/partners/cem/retire", r#"{"id": {prt}}"#, W, Ours),
    ("POST /api/v1/partners/cem/send", r#"{"id": {prt}, "certificate_id": {crt}, "respond_by": "2030-01-01T00:00:00Z"}"#, W, Ours),
    ("POST /api/v1/partners/cem/accept", r#"{"id": {prt}, "cem_request_id": 1}"#, W, Ours),
    // usage
    ("GET /v1/usage", "", R, List),
    // the station-style surface of seed 000
    ("POST /api/v1/partners/detail", r#"{"id": {prt}}"#, R, Ours),
    ("POST /api/v1/stations/detail", r#"{"id": {stn}}"#, R, Ours),
    ("POST /api/v1/certificates/detail", r#"{"id": {crt}}"#, R, Ours),
    ("POST /api/v1/certificates/download", r#"{"id": {crt}}"#, R, Ours),
    ("POST /api/v1/messages/detail", r#"{"id": {msg}}"#, R, Ours),
    ("POST /api/v1/messages/download", r#"{"id": {msg}}"#, R, Ours),
    ("POST /api/v1/partners", "{}", R, List),
    ("POST /api/v1/partners", r#"{"station": {stn}}"#, R, List),
    ("POST /api/v1/stations", "{}", R, List),
    ("POST /api/v1/certificates", "{}", R, List),
    ("POST /api/v1/messages", "{}", R, List),
    ("POST /api/v1/messages", r#"{"partner": {prt}}"#, R, List),
    ("POST /api/v1/partners/create", r#"{"station": {stn}, "as2_id": "SWEEP-3", "name": "x", "email": "e@e.example", "endpoint_url": "https://p.example/as2"}"#, W, Create),
    ("POST /api/v1/stations/create", r#"{"name": "x", "as2_id": "SWEEP-STN-2"}"#, W, Create),
    ("POST /api/v1/certificates/create", r#"{"name": "x", "der_base64": "MAA="}"#, W, Create),
    ("POST /api/v1/messages/send", r#"{"partner_id": {prt}, "content": "aGk="}"#, W, Create),
    ("POST /api/v1/messages/create", r#"{"partner_id": {prt}, "content": "aGk="}"#, W, Create),
    // a malformed id is the same 404 as a foreign one
    ("GET /v1/partners/prt_x", "", R, Ours),
];

const R: KeyScope = KeyScope::Read;
const W: KeyScope = KeyScope::Write;
const D: KeyScope = KeyScope::Delete;
const A: KeyScope = KeyScope::Admin;
const PARTNER_BODY: &str =
    r#"{"name": "x", "as2_id": "SWEEP-2", "url": "https://p.example/as2", "encrypt": false}"#;
const ROLLOVER_BODY: &str = r#"{"certificate_id": "{certificate}", "activate_at": "2030-01-01T00:00:00Z", "retire_at": "2030-01-02T00:00:00Z"}"#;

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
    // one delivery to it, for the redelivery row
    api.db
        .store
        .webhooks()
        .publish(
            as2_store::Scope::new(api.tenant, Mode::Test),
            as2_domain::webhook::EventType::PartnerCreated,
            "{}",
            Some(webhook.parse().unwrap()),
        )
        .unwrap();
    let delivery = api
        .get(&format!("/v1/webhook-endpoints/{webhook}/deliveries"))
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
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

    let ids = [
        ("{partner}", partner.clone()),
        ("{station}", station.clone()),
        ("{certificate}", certificate.clone()),
        ("{message}", message.clone()),
        ("{webhook}", webhook.clone()),
        ("{delivery}", delivery.clone()),
        ("{tenant}", tenant.clone()),
        ("{spare_key}", spare_id.clone()),
        ("{prt}", id_number(&partner).to_string()),
        ("{stn}", id_number(&station).to_string()),
        ("{crt}", id_number(&certificate).to_string()),
        ("{msg}", id_number(&message).to_string()),
    ];
    let fill = |template: &str| {
        ids.iter()
            .fold(template.to_owned(), |t, (name, id)| t.replace(name, id))
    };
    let other_tenant_header = other_tenant.to_string();
    for &(call, body, scope, target) in ROWS {
        let (method, path) = call.split_once(' ').unwrap();
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let path = fill(path);
        let body: Option<Value> =
            (!body.is_empty()).then(|| serde_json::from_str(&fill(body)).unwrap());
        let context = format!("{method} {path}");
        for (caller, who, expects) in CALLERS {
            let key = match caller {
                Caller::NoKey => None,
                Caller::MalformedKey => Some("pk_test_notarealkeyatallnotarealkey"),
                Caller::RevokedKey => Some(revoked.as_str()),
                Caller::OtherTenantHeader => Some(api.key.as_str()),
                Caller::LackingScope => Some(match scope {
                    KeyScope::Read => write_only.as_str(),
                    KeyScope::Write => read_only.as_str(),
                    KeyScope::Delete => no_delete.as_str(),
                    _ => no_admin.as_str(),
                }),
                Caller::OtherTenantKey => Some(other_tenant_key.as_str()),
                Caller::OtherAccountKey => Some(other_account_key.as_str()),
                Caller::LiveKey => Some(api.live_key.as_str()),
            };
            let headers: &[(&str, &str)] = match caller {
                Caller::OtherTenantHeader => &[("x-tenant-id", &other_tenant_header)],
                _ => &[],
            };
            let who = match caller {
                Caller::LackingScope => format!("key without {scope}"),
                _ => who.to_owned(),
            };
            let expect = expects[target as usize];
            if matches!(expect, Skip) {
                continue;
            }
            let reply = api
                .call_with_headers(method.clone(), &path, key, body.clone(), headers)
                .await;
            match expect {
                Expect::Refused(status, kind) => {
                    assert_error(&reply, status, kind, &format!("{who}: {context}"));
                }
                OwnData => {
                    assert!(
                        reply.status.is_success(),
                        "{who}: {context}: {:?}",
                        reply.body
                    );
                    assert_no_leak(&reply, &format!("someone else's list ({who}): {context}"));
                }
                Skip => {}
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
    assert_eq!(
        events,
        ["partner.created"],
        "a refused redelivery was queued"
    );
}
