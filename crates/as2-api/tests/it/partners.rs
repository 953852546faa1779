//! `/v1/partners` and `/v1/stations`: full bodies, every validation rule, PATCH and PUT.

use crate::common::*;
use as2_domain::Mode;
use axum::http::StatusCode;
use serde_json::json;

fn acme() -> serde_json::Value {
    json!({
        "name": "Acme Corporation",
        "as2_id": "ACME-CORP-AS2",
        "url": "https://acme.example.com/as2",
        "sign": true,
        "encrypt": false
    })
}

#[tokio::test]
async fn create_answers_the_full_partner() {
    let api = TestApi::new();
    let reply = api.post("/v1/partners", acme()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["message"], "Partner created successfully");
    let data = &reply.body["data"];
    assert!(data["id"].as_str().unwrap().starts_with("prt_"));
    assert_eq!(data["name"], "Acme Corporation");
    assert_eq!(data["as2_id"], "ACME-CORP-AS2");
    assert_eq!(data["url"], "https://acme.example.com/as2");
    assert_eq!(data["active"], true);
    assert_eq!(data["sign"], true);
    assert_eq!(data["encrypt"], false);
    assert_eq!(data["sign_algorithm"], "sha256");
    assert_eq!(data["mdn_mode"], "sync");
    assert_eq!(data["mode"], "test");
    assert_eq!(data["has_auth_password"], false);
    assert!(data["station_id"].as_str().unwrap().starts_with("stn_"));
    let created = data["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == "2024-01-15T10:30:00.000000Z".len(),
        "{created}"
    );
    assert!(data.get("auth_password").is_none());

    let id = data["id"].as_str().unwrap();
    let fetched = api.get(&format!("/v1/partners/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body["data"], *data);
}

#[tokio::test]
async fn inbound_security_is_demanded_by_default_and_each_demand_can_be_lifted() {
    let api = TestApi::new();
    let reply = api.post("/v1/partners", acme()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["require_signed"], true);
    assert_eq!(reply.body["data"]["require_encrypted"], true);
    let id = reply.body["data"]["id"].as_str().unwrap().to_owned();
    let patched = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"require_signed": false}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["data"]["require_signed"], false);
    assert_eq!(patched.body["data"]["require_encrypted"], true);
    // a full replacement that leaves them out gets the safe defaults back
    let replaced = api.put(&format!("/v1/partners/{id}"), acme()).await;
    assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
    assert_eq!(replaced.body["data"]["require_signed"], true);
    let wrong = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"require_encrypted": "no"}),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        wrong.body
    );
    assert!(
        wrong.body.to_string().contains("require_encrypted"),
        "the error names the field: {:?}",
        wrong.body
    );
}

#[tokio::test]
async fn every_rule_names_its_field() {
    let api = TestApi::new();
    let reply = api.post("/v1/partners", json!({})).await;
    for field in ["name", "as2_id", "url"] {
        assert_invalid(&reply, field);
    }
    let reply = api
        .post(
            "/v1/partners",
            json!({
                "name": "x", "as2_id": "has space", "url": "ftp://x", "email": "nope",
                "sign_algorithm": "md5", "encrypt_algorithm": "rot13", "mdn_mode": "sometimes",
                "encrypt": true, "auth": true, "firewall": true, "allowed_networks": ["not-a-net"],
                "retry_attempts": 99, "retry_interval": 0, "timeout": 0,
                "station_id": "bogus", "certificate_id": "cert_x"
            }),
        )
        .await;
    for field in [
        "as2_id",
        "url",
        "email",
        "sign_algorithm",
        "encrypt_algorithm",
        "mdn_mode",
        "auth_user",
        "auth_password",
        "allowed_networks",
        "retry_attempts",
        "retry_interval",
        "timeout",
        "station_id",
        "certificate_id",
    ] {
        assert_invalid(&reply, field);
    }
    assert_eq!(
        reply.body["errors"]["as2_id"][0],
        "The AS2 ID must not contain spaces"
    );
}

#[tokio::test]
async fn wrong_types_unknown_fields_and_broken_json_are_clear_4xx() {
    let api = TestApi::new();
    let reply = api
        .post(
            "/v1/partners",
            json!({"name": 5, "as2_id": "A", "url": "https://a.example"}),
        )
        .await;
    assert_invalid(&reply, "name");
    let reply = api
        .post(
            "/v1/partners",
            json!({"name": "n", "as2_id": "A", "url": "https://a.example", "colour": "red"}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.body
    );
    let request = axum::http::Request::post("/v1/partners")
        .header("authorization", format!("Bearer {}", api.key))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"name\": "))
        .unwrap();
    let reply = api.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
}

#[tokio::test]
async fn https_is_required_in_live_mode_only() {
    let api = TestApi::new();
    let mut body = acme();
    body["url"] = json!("http://acme.example.com/as2/receive");
    assert_eq!(
        api.post("/v1/partners", body.clone()).await.status,
        StatusCode::CREATED
    );
    let live = api
        .call(
            axum::http::Method::POST,
            "/v1/partners",
            Some(&api.live_key.clone()),
            Some(body),
        )
        .await;
    assert_invalid(&live, "url");
    assert_eq!(
        live.body["errors"]["url"][0],
        "The URL must be a valid HTTPS endpoint"
    );
}

#[tokio::test]
async fn patch_changes_given_fields_and_put_replaces_all() {
    let api = TestApi::new();
    let mut body = acme();
    body["email"] = json!("as2@acme.example.com");
    body["compress"] = json!(true);
    let id = api.post("/v1/partners", body).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patched = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"name": "Acme Corp", "auth": true, "auth_user": "acme", "auth_password": "pw"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["data"]["name"], "Acme Corp");
    assert_eq!(patched.body["data"]["compress"], true);
    assert_eq!(patched.body["data"]["has_auth_password"], true);
    assert!(!String::from_utf8_lossy(&patched.bytes).contains("\"pw\""));

    let replaced = api.put(&format!("/v1/partners/{id}"), json!({"name": "Acme", "as2_id": "ACME-CORP-AS2", "url": "https://acme.example.com/as2", "encrypt": false})).await;
    assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
    assert_eq!(
        replaced.body["data"]["compress"], false,
        "PUT resets omitted fields"
    );
    assert_eq!(replaced.body["data"]["email"], serde_json::Value::Null);
    assert_eq!(replaced.body["data"]["has_auth_password"], false);
    let incomplete = api
        .put(&format!("/v1/partners/{id}"), json!({"name": "Acme"}))
        .await;
    assert_invalid(&incomplete, "as2_id");
}

#[tokio::test]
async fn list_paginates_newest_first_and_filters_by_station() {
    let api = TestApi::new();
    for i in 0..3 {
        let mut body = acme();
        body["as2_id"] = json!(format!("P{i}"));
        assert_eq!(
            api.post("/v1/partners", body).await.status,
            StatusCode::CREATED
        );
    }
    let page = api.get("/v1/partners?per_page=2&page=1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["data"][0]["as2_id"], "P2");
    assert_eq!(
        (page.body["total"].as_i64(), page.body["last_page"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        (page.body["from"].as_i64(), page.body["to"].as_i64()),
        (Some(1), Some(2))
    );
    let second = api.get("/v1/partners?per_page=2&page=2").await;
    assert_eq!(second.body["data"][0]["as2_id"], "P0");
    let bad = api.get("/v1/partners?per_page=500&page=x").await;
    assert_invalid(&bad, "per_page");
    assert_invalid(&bad, "page");
    let other = api.get("/v1/partners?station_id=stn_999999").await;
    assert_eq!(other.body["total"], 0);
}

#[tokio::test]
async fn deleted_partner_is_gone_and_ids_are_checked() {
    let api = TestApi::new();
    let id = api.post("/v1/partners", acme()).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.delete(&format!("/v1/partners/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.get(&format!("/v1/partners/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    for bad in [
        "/v1/partners/123",
        "/v1/partners/prt_12",
        "/v1/partners/msg_000001",
        "/v1/partners/prt_999999",
    ] {
        let reply = api.get(bad).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(reply.body["error"]["type"], "resource_error");
    }
}

#[tokio::test]
async fn stations_crud_and_default() {
    let api = TestApi::new();
    let list = api.get("/v1/stations").await;
    assert_eq!(list.body["total"], 1, "bootstrap made one station per mode");
    let created = api
        .post(
            "/v1/stations",
            json!({"name": "EU", "as2_id": "ACME-EU", "default": true}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["data"]["default"], true);
    assert_eq!(
        created.body["data"]["mdn_url"],
        "http://127.0.0.1:8081/as2/test/receive"
    );
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let dup = api
        .post("/v1/stations", json!({"name": "EU2", "as2_id": "ACME-EU"}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{:?}", dup.body);
    let patched = api
        .patch(
            &format!("/v1/stations/{id}"),
            json!({"mdn_url": "https://as2.acme.example/mdn"}),
        )
        .await;
    assert_eq!(
        patched.body["data"]["mdn_url"],
        "https://as2.acme.example/mdn"
    );
    let bad = api
        .post(
            "/v1/stations",
            json!({"name": "", "as2_id": "a b", "certificate_id": "cert_000999"}),
        )
        .await;
    assert_invalid(&bad, "name");
    assert_invalid(&bad, "as2_id");
    let missing_cert = api
        .post(
            "/v1/stations",
            json!({"name": "X", "as2_id": "X", "certificate_id": "cert_000999"}),
        )
        .await;
    assert_invalid(&missing_cert, "certificate_id");
    let live = api
        .call(
            axum::http::Method::GET,
            "/v1/stations",
            Some(&api.live_key.clone()),
            None,
        )
        .await;
    assert_eq!(
        live.body["total"], 1,
        "test-mode stations are not visible to live keys"
    );
    let _ = Mode::Live;
}

/// Seed 002's own example: a partner created before its certificate arrives is accepted,
/// shown as not ready, refused as a message's partner, and ready once the certificate is
/// attached.
#[tokio::test]
async fn the_seed_example_partner_without_a_certificate_is_created_but_not_ready() {
    let api = TestApi::new();
    let reply = api
        .post(
            "/v1/partners",
            json!({"name": "Acme Corporation", "as2_id": "ACME-CORP-AS2",
                   "url": "https://acme.example.com/as2", "sign": true, "encrypt": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["ready_to_send"], false);
    assert_eq!(
        data["missing_for_sending"]["certificate_id"][0],
        "Encryption needs the partner's certificate"
    );
    let id = data["id"].as_str().unwrap().to_owned();
    let refused = api
        .post(
            "/v1/messages",
            json!({"partner_id": id, "filename": "po.edi", "content": "SVNBKjAwfg=="}),
        )
        .await;
    assert_invalid(&refused, "partner_id");
    assert!(
        refused.body["errors"]["partner_id"][0]
            .as_str()
            .unwrap()
            .contains("certificate"),
        "{:?}",
        refused.body
    );
    // their certificate arrives
    let cert = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "theirs", "common_name": "acme"}),
        )
        .await;
    let cert_id = cert.body["data"]["id"].as_str().unwrap().to_owned();
    let ready = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"certificate_id": cert_id}),
        )
        .await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    assert_eq!(ready.body["data"]["ready_to_send"], true);
    assert_eq!(ready.body["data"]["missing_for_sending"], json!({}));
    let sent = api
        .post(
            "/v1/messages",
            json!({"partner_id": id, "filename": "po.edi", "content": "SVNBKjAwfg=="}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{:?}", sent.body);
    // the seed-000 body without a certificate is accepted the same way
    let stations = api.get("/v1/stations").await;
    let station: i64 = stations.body["data"][0]["id"].as_str().unwrap()[4..]
        .parse()
        .unwrap();
    let legacy = api
        .post(
            "/api/v1/partners/create",
            json!({"station": station, "as2_id": "AS2:CLIENTE_002", "name": "Cliente",
                   "email": "as2@cliente.com", "endpoint_url": "https://cliente.com/as2",
                   "mdn": 2, "encryption": 4, "signature": 2}),
        )
        .await;
    assert_eq!(legacy.status, StatusCode::OK, "{:?}", legacy.body);
}

#[tokio::test]
async fn put_replaces_a_station_and_applies_the_same_rules() {
    let api = TestApi::new();
    let created = api
        .post(
            "/v1/stations",
            json!({"name": "EU", "as2_id": "ACME-EU", "mdn_url": "https://as2.acme.example/mdn"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    // every field replaced: the MDN URL left out takes its default again
    let replaced = api
        .put(
            &format!("/v1/stations/{id}"),
            json!({"name": "Europe", "as2_id": "ACME-EUROPE"}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
    assert_eq!(replaced.body["message"], "Station replaced successfully");
    assert_eq!(replaced.body["data"]["name"], "Europe");
    assert_eq!(replaced.body["data"]["as2_id"], "ACME-EUROPE");
    assert_eq!(
        replaced.body["data"]["mdn_url"], replaced.body["data"]["as2_url"],
        "{:?}",
        replaced.body
    );
    // name and AS2 ID are required, as on create, and every rule of PATCH holds
    let missing = api.put(&format!("/v1/stations/{id}"), json!({})).await;
    assert_invalid(&missing, "name");
    assert_invalid(&missing, "as2_id");
    let bad = api
        .put(
            &format!("/v1/stations/{id}"),
            json!({"name": "x", "as2_id": "a b", "certificate_id": "cert_000999"}),
        )
        .await;
    assert_invalid(&bad, "as2_id");
    // the default station stays the default when `default` is left out
    let stations = api.get("/v1/stations").await;
    let first = stations.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["default"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = api
        .put(
            &format!("/v1/stations/{first}"),
            json!({"name": "Main", "as2_id": "MAIN-STATION"}),
        )
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
    assert_eq!(kept.body["data"]["default"], true);
}
