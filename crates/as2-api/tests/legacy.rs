//! `/api/v1`: seed 000's calls with its exact request fields and response shapes, over the
//! same rows as `/v1`.

mod common;

use as2_domain::Mode;
use as2_domain::api_key::Scope as KeyScope;
use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;

async fn station_number(api: &TestApi) -> i64 {
    let reply = api.post("/api/v1/stations", json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["data"][0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn create_detail_and_list_as_the_seed_shows() {
    let api = TestApi::new();
    let station = station_number(&api).await;
    let created = api
        .post(
            "/api/v1/partners/create",
            json!({
                "station": station,
                "as2_id": "AS2:CLIENTE_001",
                "name": "Primary Customer",
                "endpoint_url": "https://cliente.com/as2",
                "email": "as2@cliente.com"
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    assert_eq!(created.body["status"], "success");
    assert_eq!(created.body["msg"], "Partner created");
    let data = &created.body["data"];
    let id = data["id"].as_i64().unwrap();
    assert_eq!(data["partner_id"], id);
    assert_eq!(data["station_id"], station);
    assert_eq!(data["name"], "Primary Customer");
    assert_eq!(data["as2_id"], "AS2:CLIENTE_001");
    assert_eq!(data["url"], "https://cliente.com/as2");

    // the same row through /v1
    let v1 = api.get(&format!("/v1/partners/prt_{id:06}")).await;
    assert_eq!(v1.status, StatusCode::OK);
    assert_eq!(v1.body["data"]["email"], "as2@cliente.com");

    let detail = api.post("/api/v1/partners/detail", json!({"id": id})).await;
    assert_eq!(detail.body["data"]["as2_id"], "AS2:CLIENTE_001");
    let listed = api
        .post("/api/v1/partners", json!({"station": station}))
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    let other_station = api
        .post("/api/v1/partners", json!({"station": 999_999}))
        .await;
    assert_eq!(other_station.body["data"].as_array().unwrap().len(), 0);
    let all = api.post("/api/v1/partners", json!({})).await;
    assert_eq!(all.body["data"][0]["id"], id);
}

#[tokio::test]
async fn integer_codes_map_onto_the_settings() {
    let api = TestApi::new();
    let station = station_number(&api).await;
    let cert = api.db.store.certificates().create(
        as2_store::Scope::new(api.tenant, Mode::Test),
        &as2_store::repo::certificates::NewCertificate {
            name: "partner",
            info: &as2_domain::certificate::CertificateInfo {
                subject: "CN=p".into(),
                issuer: "CN=p".into(),
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
    );
    let cert = cert.unwrap().id.0;
    let created = api
        .post(
            "/api/v1/partners/create",
            json!({"station": station, "as2_id": "P", "name": "P", "email": "p@p.example", "endpoint_url": "https://p.example/as2",
                   "mdn": 4, "encryption": 6, "signature": 3, "certificate_id": cert, "auth": true, "auth_user": "u", "auth_password": "secret"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let id = created.body["data"]["id"].as_i64().unwrap();
    let v1 = api.get(&format!("/v1/partners/prt_{id:06}")).await.body["data"].clone();
    assert_eq!(
        (v1["mdn_mode"].as_str(), v1["mdn_signed"].as_bool()),
        (Some("async"), Some(true))
    );
    assert_eq!(
        (v1["encrypt"].as_bool(), v1["encrypt_algorithm"].as_str()),
        (Some(true), Some("aes256-gcm"))
    );
    assert_eq!(
        (v1["sign"].as_bool(), v1["sign_algorithm"].as_str()),
        (Some(true), Some("sha384"))
    );
    let detail = api.post("/api/v1/partners/detail", json!({"id": id})).await;
    assert_eq!(
        (
            detail.body["data"]["mdn"].as_i64(),
            detail.body["data"]["encryption"].as_i64(),
            detail.body["data"]["signature"].as_i64()
        ),
        (Some(4), Some(6), Some(3))
    );
    assert!(!String::from_utf8_lossy(&detail.bytes).contains("secret"));
}

#[tokio::test]
async fn errors_use_the_seed_envelope_and_name_fields() {
    let api = TestApi::new();
    let missing = api
        .post("/api/v1/partners/create", json!({"name": "x"}))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.body["status"], "error");
    assert!(missing.body["msg"].is_string());
    for field in ["station", "email"] {
        assert!(
            missing.body["errors"][field].is_array(),
            "{field}: {:?}",
            missing.body
        );
    }
    let station = station_number(&api).await;
    let bad = api
        .post("/api/v1/partners/create", json!({"station": station, "as2_id": "a b", "name": "x", "email": "e@e.example", "endpoint_url": "nope", "mdn": 9}))
        .await;
    assert_eq!(bad.body["status"], "error");
    assert!(bad.body["errors"]["mdn"].is_array(), "{:?}", bad.body);
    let bad = api.post("/api/v1/partners/create", json!({"station": station, "as2_id": "a b", "name": "x", "email": "e@e.example", "endpoint_url": "nope"})).await;
    for field in ["as2_id", "endpoint_url"] {
        assert!(
            bad.body["errors"][field].is_array(),
            "{field}: {:?}",
            bad.body
        );
    }
    let unknown = api
        .post("/api/v1/partners/detail", json!({"id": 424_242}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["status"], "error");
    let unauthenticated = api
        .call(Method::POST, "/api/v1/partners", None, Some(json!({})))
        .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unauthenticated.body["status"], "error");
}

#[tokio::test]
async fn reads_need_read_and_creations_need_write() {
    let api = TestApi::new();
    let reader = api.key_with(&[KeyScope::Read], Mode::Test);
    let list = api
        .call(
            Method::POST,
            "/api/v1/partners",
            Some(&reader),
            Some(json!({})),
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let create = api
        .call(
            Method::POST,
            "/api/v1/partners/create",
            Some(&reader),
            Some(json!({})),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let (_, other) = api.other_account();
    let station = station_number(&api).await;
    let foreign = api
        .call(
            Method::POST,
            "/api/v1/stations/detail",
            Some(&other),
            Some(json!({"id": station})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}
