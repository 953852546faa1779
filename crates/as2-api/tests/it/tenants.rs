//! `/v1/tenants`, `/v1/api-keys` and the station endpoints the other files do not walk
//! through, with every answer compared in full, and the OpenAPI document's list of routes.

use crate::common::*;
use as2_domain::Mode;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use serde_json::{Value, json};

/// Asserts an ISO 8601 UTC time with microseconds and returns it.
fn time_of(value: &Value) -> String {
    let t = value.as_str().unwrap_or_default();
    assert!(
        t.ends_with('Z') && t.len() == "2024-01-15T10:30:00.000000Z".len(),
        "{value}"
    );
    t.to_owned()
}

fn page(data: Value, total: u64) -> Value {
    let to = if total == 0 {
        Value::Null
    } else {
        json!(total)
    };
    let from = if total == 0 { Value::Null } else { json!(1) };
    let mut body = json!({
        "current_page": 1, "last_page": 1, "per_page": 20,
        "total": total, "from": from, "to": to
    });
    body["data"] = data;
    body
}

fn with_message(mut body: Value, message: &str) -> Value {
    body["message"] = json!(message);
    body
}

#[tokio::test]
async fn tenants_list_create_get_rename_and_delete() {
    let api = TestApi::new();
    let first = api.get("/v1/tenants/current").await;
    assert_eq!(first.status, StatusCode::OK);
    let default = json!({
        "id": api.tenant.to_string(),
        "name": "Default tenant",
        "account_id": api.account.to_string(),
        "max_message_bytes": null,
        "retention_payload_days": null,
        "retention_record_days": null,
        "alert_emails": [],
        "created_at": time_of(&first.body["data"]["created_at"]),
        "updated_at": time_of(&first.body["data"]["updated_at"]),
    });
    assert_eq!(
        first.body,
        json!({"message": "Tenant retrieved successfully", "data": default})
    );

    let created = api.post("/v1/tenants", json!({"name": "  Acme EU "})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("tnt_"), "{id}");
    let second = json!({
        "id": id,
        "name": "Acme EU",
        "account_id": api.account.to_string(),
        "max_message_bytes": null,
        "retention_payload_days": null,
        "retention_record_days": null,
        "alert_emails": [],
        "created_at": time_of(&created.body["data"]["created_at"]),
        "updated_at": time_of(&created.body["data"]["updated_at"]),
    });
    assert_eq!(
        created.body,
        json!({"message": "Tenant created successfully", "data": second})
    );
    let fetched = api.get(&format!("/v1/tenants/{id}")).await;
    assert_eq!(
        fetched.body,
        json!({"message": "Tenant retrieved successfully", "data": second})
    );
    let listed = api.get("/v1/tenants").await;
    assert_eq!(
        listed.body,
        with_message(
            page(json!([second, default]), 2),
            "Tenants retrieved successfully"
        )
    );

    let renamed = api
        .patch(&format!("/v1/tenants/{id}"), json!({"name": "Acme Europe"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let mut expected = second.clone();
    expected["name"] = json!("Acme Europe");
    expected["updated_at"] = json!(time_of(&renamed.body["data"]["updated_at"]));
    assert_eq!(
        renamed.body,
        json!({"message": "Tenant updated successfully", "data": expected})
    );

    // a tenant key of the second tenant works until its tenant is deleted
    let key = api
        .call_with_headers(
            Method::POST,
            "/v1/api-keys",
            Some(&api.key),
            Some(json!({"name": "eu"})),
            &[("x-tenant-id", &id)],
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.body);
    let eu_key = key.body["data"]["secret"].as_str().unwrap().to_owned();
    let current = api
        .call(Method::GET, "/v1/tenants/current", Some(&eu_key), None)
        .await;
    assert_eq!(current.body["data"]["id"], id.as_str());
    let deleted = api.delete(&format!("/v1/tenants/{id}")).await;
    assert_eq!(
        deleted.body,
        json!({"message": "Tenant deleted successfully", "data": {"id": id, "deleted": true}})
    );
    assert_eq!(
        api.get(&format!("/v1/tenants/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.delete(&format!("/v1/tenants/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.get("/v1/tenants").await.body["total"], 1);
    let orphan = api
        .call(Method::GET, "/v1/tenants/current", Some(&eu_key), None)
        .await;
    assert_eq!(orphan.status, StatusCode::UNAUTHORIZED, "{:?}", orphan.body);
    for bad in ["tnt_x", "nope", "tnt_999999"] {
        assert_eq!(
            api.get(&format!("/v1/tenants/{bad}")).await.status,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn api_keys_list_use_and_revoke() {
    let api = TestApi::new();
    let created = api
        .post(
            "/v1/api-keys",
            json!({"name": " CI ", "scopes": ["write", "read"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let data = &created.body["data"];
    let secret = data["secret"].as_str().unwrap().to_owned();
    let id = data["id"].as_str().unwrap().to_owned();
    let mut key = json!({
        "id": id,
        "name": "CI",
        "kind": "tk",
        "mode": "test",
        "tenant_id": api.tenant.to_string(),
        "prefix": secret.chars().take(12).collect::<String>(),
        "scopes": ["read", "write"],
        "last_used_at": null,
        "revoked_at": null,
        "created_at": time_of(&data["created_at"]),
    });
    let mut with_secret = key.clone();
    with_secret["secret"] = json!(secret);
    assert_eq!(
        created.body,
        json!({
            "message": "API key created successfully; store the secret now, it is not shown again",
            "data": with_secret
        })
    );
    assert!(
        secret.starts_with("tk_test_") && secret.len() > 40,
        "{secret}"
    );

    // the key works, and its use is recorded
    let used = api
        .call(Method::GET, "/v1/partners", Some(&secret), None)
        .await;
    assert_eq!(used.status, StatusCode::OK);
    let mut last_used = Value::Null;
    for _ in 0..50 {
        let listed = api.get("/v1/api-keys").await;
        last_used = listed.body["data"][0]["last_used_at"].clone();
        if !last_used.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    key["last_used_at"] = json!(time_of(&last_used));
    let listed = api.get("/v1/api-keys").await;
    assert_eq!(listed.body["total"], 2, "the bootstrap key and this one");
    assert_eq!(listed.body["data"][0], key);
    assert!(!String::from_utf8_lossy(&listed.bytes).contains(&secret));
    assert_eq!(listed.body["data"][1]["kind"], "pk");
    // a live key lists the live keys only
    let live = api
        .call(Method::GET, "/v1/api-keys", Some(&api.live_key), None)
        .await;
    assert_eq!(live.body["total"], 1);
    assert_eq!(live.body["data"][0]["mode"], "live");

    let revoked = api.delete(&format!("/v1/api-keys/{id}")).await;
    assert_eq!(revoked.status, StatusCode::OK, "{:?}", revoked.body);
    key["revoked_at"] = json!(time_of(&revoked.body["data"]["revoked_at"]));
    assert_eq!(
        revoked.body,
        json!({"message": "API key revoked successfully", "data": key})
    );
    let refused = api
        .call(Method::GET, "/v1/partners", Some(&secret), None)
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // DELETE is idempotent: revoking again answers the same revoked key
    let again = api.delete(&format!("/v1/api-keys/{id}")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, revoked.body);
    for bad in ["key_x", "key_999999"] {
        assert_eq!(
            api.delete(&format!("/v1/api-keys/{bad}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn station_get_and_delete() {
    let api = TestApi::new();
    let created = api
        .post(
            "/v1/stations",
            json!({"name": "EU", "as2_id": "ACME-EU", "mdn_url": "https://as2.acme.example/mdn"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let station = json!({
        "id": id,
        "name": "EU",
        "as2_id": "ACME-EU",
        "certificate_id": null,
        "encryption_certificate_id": null,
        "mdn_url": "https://as2.acme.example/mdn",
        "as2_url": "http://127.0.0.1:8081/as2/test/receive",
        "default": false,
        "mode": "test",
        "created_at": time_of(&created.body["data"]["created_at"]),
        "updated_at": time_of(&created.body["data"]["updated_at"]),
    });
    assert_eq!(
        created.body,
        json!({"message": "Station created successfully", "data": station})
    );
    let fetched = api.get(&format!("/v1/stations/{id}")).await;
    assert_eq!(
        fetched.body,
        json!({"message": "Station retrieved successfully", "data": station})
    );
    let deleted = api.delete(&format!("/v1/stations/{id}")).await;
    assert_eq!(
        deleted.body,
        json!({"message": "Station deleted successfully", "data": {"id": id, "deleted": true}})
    );
    assert_eq!(
        api.get(&format!("/v1/stations/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let live = api
        .call(Method::GET, "/v1/stations", Some(&api.live_key), None)
        .await;
    assert_eq!(live.body["data"][0]["mode"], Mode::Live.to_string());
}

#[tokio::test]
async fn openapi_lists_every_v1_route_and_method() {
    let api = TestApi::new();
    let doc = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let expected: &[(&str, &[&str])] = &[
        ("/v1/tenants", &["get", "post"]),
        ("/v1/tenants/current", &["get"]),
        ("/v1/tenants/{id}", &["get", "patch", "put", "delete"]),
        ("/v1/api-keys", &["get", "post"]),
        ("/v1/api-keys/{id}", &["delete"]),
        ("/v1/stations", &["get", "post"]),
        ("/v1/stations/{id}", &["get", "patch", "put", "delete"]),
        ("/v1/partners", &["get", "post"]),
        ("/v1/partners/{id}", &["get", "patch", "put", "delete"]),
        ("/v1/certificates", &["get", "post"]),
        ("/v1/certificates/generate", &["post"]),
        ("/v1/certificates/{id}", &["get", "delete"]),
        ("/v1/certificates/{id}/download", &["get"]),
        ("/v1/messages", &["get", "post"]),
        ("/v1/messages/{id}", &["get"]),
        ("/v1/messages/{id}/payload", &["get"]),
        ("/v1/messages/{id}/mdn", &["get"]),
        ("/v1/messages/{id}/events", &["get"]),
        ("/v1/messages/{id}/retry", &["post"]),
        ("/v1/messages/{id}/resend", &["post"]),
        ("/v1/messages/{id}/cancel", &["post"]),
        ("/v1/messages/{id}/evidence", &["get"]),
        ("/v1/messages/{id}/mdn/resend", &["post"]),
        ("/v1/webhook-endpoints", &["get", "post"]),
        (
            "/v1/webhook-endpoints/{id}",
            &["get", "patch", "put", "delete"],
        ),
        ("/v1/webhook-endpoints/{id}/test", &["post"]),
        ("/v1/webhook-endpoints/{id}/deliveries", &["get"]),
        (
            "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver",
            &["post"],
        ),
        ("/v1/usage", &["get"]),
        ("/v1/audit-events", &["get"]),
        ("/v1/exports/messages", &["get"]),
        ("/v1/partners/{id}/test", &["post"]),
        ("/v1/partners/{id}/trust", &["get"]),
        ("/v1/partners/{id}/trust/rollover", &["post"]),
        ("/v1/partners/{id}/trust/activate", &["post"]),
        ("/v1/partners/{id}/trust/retire", &["post"]),
        ("/v1/partners/{id}/trust/cancel", &["post"]),
        ("/v1/partners/{id}/trust/events", &["get"]),
        ("/v1/partners/{id}/trust/verify", &["get"]),
        ("/v1/partners/{id}/trust/cem", &["get", "post"]),
        ("/v1/partners/{id}/trust/cem/{cem_id}/accept", &["post"]),
        ("/v1/partners/{id}/trust/cem/{cem_id}/reject", &["post"]),
        ("/v1/stations/{id}/trust", &["get"]),
        ("/v1/stations/{id}/trust/rollover", &["post"]),
        ("/v1/stations/{id}/trust/activate", &["post"]),
        ("/v1/stations/{id}/trust/retire", &["post"]),
        ("/v1/stations/{id}/trust/cancel", &["post"]),
        ("/v1/stations/{id}/trust/events", &["get"]),
        ("/v1/stations/{id}/trust/verify", &["get"]),
    ];
    let paths = doc.body["paths"].as_object().unwrap();
    for (path, methods) in expected {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} missing from the OpenAPI document"));
        for method in *methods {
            assert!(item[*method].is_object(), "{method} {path} not described");
        }
    }
    assert_eq!(
        paths.len(),
        expected.len(),
        "undocumented extra paths: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn a_tenant_message_size_limit_is_set_shown_enforced_and_removed() {
    let api = TestApi::new();
    let tenant = api.tenant.to_string();
    let reply = api
        .patch(
            &format!("/v1/tenants/{tenant}"),
            json!({"max_message_bytes": 2048}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["max_message_bytes"], 2048);
    assert_eq!(
        reply.body["data"]["name"],
        api.get("/v1/tenants/current").await.body["data"]["name"]
    );
    assert_invalid(
        &api.patch(
            &format!("/v1/tenants/{tenant}"),
            json!({"max_message_bytes": 100}),
        )
        .await,
        "max_message_bytes",
    );
    assert_invalid(
        &api.post("/v1/tenants", json!({"max_message_bytes": 4096}))
            .await,
        "name",
    );

    let partner = api
        .post(
            "/v1/partners",
            json!({"name": "P", "as2_id": "P-LIMIT", "url": "https://p.example/as2", "encrypt": false}),
        )
        .await;
    let partner = partner.body["data"]["id"].as_str().unwrap().to_owned();
    let big = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; 4096]);
    let refused = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": big}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["error"]["type"], "invalid_request_error");
    assert!(refused.body["message"].as_str().unwrap().contains("2048"));

    let cleared = api
        .patch(
            &format!("/v1/tenants/{tenant}"),
            json!({"max_message_bytes": 0}),
        )
        .await;
    assert_eq!(cleared.body["data"]["max_message_bytes"], Value::Null);
    let accepted = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": big}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{:?}", accepted.body);
}

#[tokio::test]
async fn put_replaces_a_tenant_and_a_limit_left_out_is_removed() {
    let api = TestApi::new();
    let tenant = api.tenant.to_string();
    let limited = api
        .patch(
            &format!("/v1/tenants/{tenant}"),
            json!({"max_message_bytes": 4096}),
        )
        .await;
    assert_eq!(limited.body["data"]["max_message_bytes"], 4096);
    let replaced = api
        .put(&format!("/v1/tenants/{tenant}"), json!({"name": "Renamed"}))
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
    assert_eq!(replaced.body["message"], "Tenant replaced successfully");
    assert_eq!(replaced.body["data"]["name"], "Renamed");
    assert_eq!(replaced.body["data"]["max_message_bytes"], Value::Null);
    // the name is required, and the limit's rule is the same as PATCH's
    assert_invalid(
        &api.put(&format!("/v1/tenants/{tenant}"), json!({})).await,
        "name",
    );
    assert_invalid(
        &api.put(
            &format!("/v1/tenants/{tenant}"),
            json!({"name": "x", "max_message_bytes": 100}),
        )
        .await,
        "max_message_bytes",
    );
}

#[tokio::test]
async fn alert_emails_are_checked_address_by_address_and_kept() {
    let api = TestApi::new();
    let path = format!("/v1/tenants/{}", api.tenant);
    let reply = api
        .patch(
            &path,
            json!({"alert_emails": ["ops@acme.example", "Ops <ops@acme.example>", "nobody"]}),
        )
        .await;
    assert_invalid(&reply, "alert_emails[1]");
    assert_invalid(&reply, "alert_emails[2]");
    let many: Vec<String> = (0..11).map(|i| format!("u{i}@acme.example")).collect();
    assert_invalid(
        &api.patch(&path, json!({"alert_emails": many})).await,
        "alert_emails",
    );
    assert_invalid(
        &api.patch(&path, json!({"alert_emails": "ops@acme.example"}))
            .await,
        "alert_emails",
    );

    let reply = api
        .patch(
            &path,
            json!({"alert_emails": [" ops@acme.example", "OPS@acme.example", "edi@acme.example"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.body["data"]["alert_emails"],
        json!(["ops@acme.example", "edi@acme.example"])
    );
    // a PATCH of something else keeps them, a PUT without them stops them
    let reply = api.patch(&path, json!({"name": "Renamed"})).await;
    assert_eq!(reply.body["data"]["alert_emails"][1], "edi@acme.example");
    let reply = api.put(&path, json!({"name": "Renamed"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["alert_emails"], json!([]));
}
