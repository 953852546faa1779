//! Partner TLS settings (issue 12) on `/v1/partners` and `/api/v1/partners…`: every rule names
//! its field, the settings round-trip, PATCH removes with `""`, PUT resets, and the client
//! certificate's private key is never in a reply.

use crate::common::*;
use crate::upload::{key_and_certificate, pem_body_lines};
use axum::http::StatusCode;
use serde_json::{Value, json};

fn acme(extra: Value) -> Value {
    let mut body = json!({
        "name": "Acme Corporation",
        "as2_id": "ACME-CORP-AS2",
        "url": "https://acme.example.com/as2",
        "encrypt": false
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

/// Uploads `pem` and returns its `cert_…` id.
async fn upload(api: &TestApi, pem: String) -> String {
    let reply = api
        .post("/v1/certificates", json!({"name": "tls", "pem": pem}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

const PIN_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const PIN: &str = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

#[tokio::test]
async fn tls_settings_round_trip_and_the_key_is_never_shown() {
    let api = TestApi::new();
    let (ca_key, ca) = key_and_certificate("CN=Partner Private CA", 90);
    let (key_pem, ours) = key_and_certificate("CN=us", 90);
    let pair = upload(&api, format!("{key_pem}{}", ours.to_pem())).await;
    let bundle = format!("{}{}", ca.to_pem(), ours.to_pem());
    let reply = api
        .post(
            "/v1/partners",
            acme(json!({
                "tls_ca_bundle": bundle,
                "tls_ca_only": true,
                "tls_pin_sha256": PIN_HEX,
                "tls_client_certificate_id": pair,
                "tls_inbound_client_certificate_id": pair,
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["tls_ca_bundle"], bundle);
    assert_eq!(data["tls_ca_only"], true);
    assert_eq!(data["tls_pin_sha256"], PIN, "the pin is shown in one form");
    assert_eq!(data["tls_client_certificate_id"], pair);
    assert_eq!(data["tls_inbound_client_certificate_id"], pair);
    let id = data["id"].as_str().unwrap().to_owned();
    let fetched = api.get(&format!("/v1/partners/{id}")).await;
    assert_eq!(fetched.body["data"], *data);
    let number: i64 = id.trim_start_matches("prt_").parse().unwrap();
    let legacy = api
        .post("/api/v1/partners/detail", json!({"id": number}))
        .await;
    assert_eq!(legacy.body["data"]["tls_pin_sha256"], PIN);
    assert_eq!(legacy.body["data"]["tls_ca_only"], true);
    assert_eq!(
        legacy.body["data"]["tls_client_certificate_id"],
        pair.trim_start_matches("cert_").parse::<i64>().unwrap()
    );
    for reply in [&reply, &fetched, &legacy, &api.get("/v1/partners").await] {
        let text = String::from_utf8_lossy(&reply.bytes);
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        for line in pem_body_lines(&key_pem)
            .into_iter()
            .chain(pem_body_lines(&ca_key))
        {
            assert!(!text.contains(&line), "a key line leaked: {text}");
        }
    }

    // PATCH: "" removes a setting, the others stay
    let patched = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"tls_pin_sha256": "", "tls_client_certificate_id": ""}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["data"]["tls_pin_sha256"], Value::Null);
    assert_eq!(
        patched.body["data"]["tls_client_certificate_id"],
        Value::Null
    );
    assert_eq!(patched.body["data"]["tls_ca_bundle"], bundle);
    // PUT: what is not given goes back to the defaults (public roots)
    let replaced = api
        .put(&format!("/v1/partners/{id}"), acme(json!({})))
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
    assert_eq!(replaced.body["data"]["tls_ca_bundle"], Value::Null);
    assert_eq!(replaced.body["data"]["tls_ca_only"], false);
}

#[tokio::test]
async fn every_tls_rule_names_its_field() {
    let api = TestApi::new();
    let (key_pem, cert) = key_and_certificate("CN=us", 90);
    let cert_only = upload(&api, cert.to_pem()).await;
    let broken_certificate =
        "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQ==\n-----END CERTIFICATE-----\n";
    let cases = [
        (
            json!({"tls_ca_bundle": "not a certificate"}),
            "tls_ca_bundle",
        ),
        (
            json!({"tls_ca_bundle": broken_certificate}),
            "tls_ca_bundle",
        ),
        (json!({"tls_ca_bundle": key_pem}), "tls_ca_bundle"),
        (json!({"tls_ca_only": true}), "tls_ca_only"),
        (json!({"tls_pin_sha256": "sha256/abc"}), "tls_pin_sha256"),
        (json!({"tls_pin_sha256": &PIN_HEX[1..]}), "tls_pin_sha256"),
        (
            json!({"tls_client_certificate_id": "nope"}),
            "tls_client_certificate_id",
        ),
        (
            json!({"tls_client_certificate_id": "cert_999999"}),
            "tls_client_certificate_id",
        ),
        (
            json!({"tls_client_certificate_id": cert_only}),
            "tls_client_certificate_id",
        ),
        (
            json!({"tls_inbound_client_certificate_id": "cert_999999"}),
            "tls_inbound_client_certificate_id",
        ),
    ];
    for (extra, field) in cases {
        let reply = api.post("/v1/partners", acme(extra.clone())).await;
        assert_invalid(&reply, field);
        assert!(
            !String::from_utf8_lossy(&reply.bytes).contains("PRIVATE KEY"),
            "{extra}"
        );
    }
    // the same rules on PATCH and on seed 000's create
    let created = api.post("/v1/partners", acme(json!({}))).await;
    let id = created.body["data"]["id"].as_str().unwrap();
    let patched = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"tls_pin_sha256": "zz"}),
        )
        .await;
    assert_invalid(&patched, "tls_pin_sha256");
    let station = api.post("/api/v1/stations", json!({})).await.body["data"][0]["id"]
        .as_i64()
        .unwrap();
    let legacy = api
        .post(
            "/api/v1/partners/create",
            json!({
                "station": station,
                "as2_id": "AS2:OTHER",
                "name": "Other",
                "endpoint_url": "https://other.example/as2",
                "email": "as2@other.example",
                "tls_pin_sha256": "zz",
            }),
        )
        .await;
    assert_eq!(
        legacy.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        legacy.body
    );
    assert!(
        legacy.body.to_string().contains("tls_pin_sha256"),
        "{:?}",
        legacy.body
    );
}
