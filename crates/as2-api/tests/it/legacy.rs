//! `/api/v1`: seed 000's calls with its exact request fields and response shapes, over the
//! same rows as `/v1`.

use crate::common::*;
use crate::upload::*;
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::api_key::Scope as KeyScope;
use as2_domain::id::{MessageId, PartnerId, StationId};
use as2_domain::job::JobKind;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, MessageStatus};
use as2_store::repo::messages::NewMessage;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use serde_json::{Value, json};

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
    let id = created.body["data"]["id"].as_i64().unwrap();
    assert_eq!(
        created.body,
        success(
            "Partner created",
            json!({
                "id": id,
                "partner_id": id,
                "station_id": station,
                "name": "Primary Customer",
                "as2_id": "AS2:CLIENTE_001",
                "url": "https://cliente.com/as2"
            })
        )
    );

    // the same row through /v1
    let v1 = api.get(&format!("/v1/partners/prt_{id:06}")).await;
    assert_eq!(v1.status, StatusCode::OK);
    assert_eq!(v1.body["data"]["email"], "as2@cliente.com");

    let detail = api.post("/api/v1/partners/detail", json!({"id": id})).await;
    let partner = json!({
        "id": id,
        "partner_id": id,
        "station_id": station,
        "name": "Primary Customer",
        "as2_id": "AS2:CLIENTE_001",
        "url": "https://cliente.com/as2",
        "email": "as2@cliente.com",
        "mdn": 2,
        "certificate_id": null,
        "encryption": 0,
        "signature": 2,
        "auth": false,
        "auth_user": null,
        "firewall": false,
        "allowed_networks": [],
        "active": true,
        "require_signed": true,
        "require_encrypted": true,
        "tls_ca_bundle": null,
        "tls_ca_only": false,
        "tls_pin_sha256": null,
        "tls_client_certificate_id": null,
        "tls_inbound_client_certificate_id": null,
        "created_at": time_of(&detail.body["data"]["created_at"]),
    });
    assert_eq!(detail.body, success("Partner retrieved", partner.clone()));
    let listed = api
        .post("/api/v1/partners", json!({"station": station}))
        .await;
    assert_eq!(
        listed.body,
        success("Partners retrieved", json!([partner.clone()]))
    );
    let other_station = api
        .post("/api/v1/partners", json!({"station": 999_999}))
        .await;
    assert_eq!(other_station.body, success("Partners retrieved", json!([])));
    let all = api.post("/api/v1/partners", json!({})).await;
    assert_eq!(all.body, success("Partners retrieved", json!([partner])));

    // stations: list, detail and create in the same style
    let stations = api.post("/api/v1/stations", json!({})).await;
    let first = json!({
        "id": station,
        "station_id": station,
        "name": "Default station",
        "as2_id": "AS2PLATFORM",
        "certificate_id": null,
        "mdn_url": null,
        "as2_url": "http://127.0.0.1:8081/as2/test/receive",
        "default": true,
        "created_at": time_of(&stations.body["data"][0]["created_at"]),
    });
    assert_eq!(
        stations.body,
        success("Stations retrieved", json!([first.clone()]))
    );
    let created = api
        .post(
            "/api/v1/stations/create",
            json!({"name": "EU", "as2_id": "ACME-EU", "mdn_url": "https://as2.acme.example/mdn"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let eu = created.body["data"]["id"].as_i64().unwrap();
    let eu_data = json!({
        "id": eu,
        "station_id": eu,
        "name": "EU",
        "as2_id": "ACME-EU",
        "certificate_id": null,
        "mdn_url": "https://as2.acme.example/mdn",
        "as2_url": "http://127.0.0.1:8081/as2/test/receive",
        "default": false,
        "created_at": time_of(&created.body["data"]["created_at"]),
    });
    assert_eq!(created.body, success("Station created", eu_data.clone()));
    let detail = api.post("/api/v1/stations/detail", json!({"id": eu})).await;
    assert_eq!(detail.body, success("Station retrieved", eu_data));
    let v1 = api.get(&format!("/v1/stations/stn_{eu:06}")).await;
    assert_eq!(v1.body["data"]["as2_id"], "ACME-EU");
    assert_seed_invalid(
        &api.post(
            "/api/v1/stations/create",
            json!({"name": "", "as2_id": "a b"}),
        )
        .await,
        "as2_id",
        "station create",
    );
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
                not_before: Utc::now() - chrono::Duration::days(1),
                not_after: Utc::now() + chrono::Duration::days(300),
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
async fn a_partner_that_only_sends_to_us_needs_no_endpoint_url() {
    let api = TestApi::new();
    let station = station_number(&api).await;
    let created = api
        .post(
            "/api/v1/partners/create",
            json!({"station": station, "as2_id": "AS2:SENDER", "name": "Sender only",
                   "email": "as2@sender.example", "encryption": 0}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    assert_eq!(created.body["data"]["url"], "");
    let id = created.body["data"]["id"].as_i64().unwrap();
    // valid, and shown as not ready to send, saying why
    let v1 = api.get(&format!("/v1/partners/prt_{id:06}")).await;
    assert_eq!(v1.body["data"]["ready_to_send"], false);
    assert_eq!(
        v1.body["data"]["missing_for_sending"]["url"][0],
        "Sending needs the partner's AS2 URL"
    );
    // sending to it is refused naming what is missing
    let refused = api
        .post(
            "/api/v1/messages/send",
            json!({"partner_id": id, "content": STANDARD.encode(EDI), "filename": "a.edi"}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.body
    );
    assert!(
        refused
            .body
            .to_string()
            .contains("needs the partner's AS2 URL"),
        "{:?}",
        refused.body
    );
    // once it has a URL it is ready; /v1 never accepts an empty one
    let emptied = api
        .patch(&format!("/v1/partners/prt_{id:06}"), json!({"url": " "}))
        .await;
    assert_eq!(emptied.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        emptied.body["errors"]["url"][0],
        "The URL must not be empty"
    );
    let given = api
        .patch(
            &format!("/v1/partners/prt_{id:06}"),
            json!({"url": "https://sender.example/as2"}),
        )
        .await;
    assert_eq!(given.status, StatusCode::OK, "{:?}", given.body);
    assert_eq!(given.body["data"]["ready_to_send"], true);
    // /v1 still requires the URL on creation
    let v1_created = api
        .post(
            "/v1/partners",
            json!({"name": "n", "as2_id": "N", "encrypt": false}),
        )
        .await;
    assert_eq!(v1_created.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        v1_created.body["errors"]["url"][0],
        "The URL field is required"
    );
}

#[tokio::test]
async fn firewall_true_allows_the_endpoints_addresses_or_the_listed_networks() {
    let api = TestApi::new();
    let station = station_number(&api).await;
    let create = |as2_id: &str, extra: Value| {
        let mut body = json!({"station": station, "as2_id": as2_id, "name": as2_id,
                              "email": "as2@p.example", "encryption": 0, "firewall": true});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let networks = |reply: &Reply| reply.body["data"]["allowed_networks"].clone();
    // the seed's own body: the endpoint's address is what the firewall allows
    let by_address = api
        .post(
            "/api/v1/partners/create",
            create(
                "AS2:BY_ADDRESS",
                json!({"endpoint_url": "https://93.184.215.14:4080/as2"}),
            ),
        )
        .await;
    assert_eq!(by_address.status, StatusCode::OK, "{:?}", by_address.body);
    let id = by_address.body["data"]["id"].as_i64().unwrap();
    let detail = api.post("/api/v1/partners/detail", json!({"id": id})).await;
    assert_eq!(detail.body["data"]["firewall"], true);
    assert_eq!(networks(&detail), json!(["93.184.215.14/32"]));
    // a host name: what it resolves to
    let by_name = api
        .post(
            "/api/v1/partners/create",
            create(
                "AS2:BY_NAME",
                json!({"endpoint_url": "http://localhost:8080/as2"}),
            ),
        )
        .await;
    assert_eq!(by_name.status, StatusCode::OK, "{:?}", by_name.body);
    let id = by_name.body["data"]["id"].as_i64().unwrap();
    let detail = api.post("/api/v1/partners/detail", json!({"id": id})).await;
    let listed = networks(&detail).to_string();
    assert!(
        listed.contains("127.0.0.1/32") || listed.contains("::1/128"),
        "{listed}"
    );
    // networks listed in the body win
    let listed = api
        .post(
            "/api/v1/partners/create",
            create(
                "AS2:LISTED",
                json!({"endpoint_url": "https://93.184.215.14/as2", "allowed_networks": ["198.51.100.0/24"]}),
            ),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let id = listed.body["data"]["id"].as_i64().unwrap();
    let detail = api.post("/api/v1/partners/detail", json!({"id": id})).await;
    assert_eq!(networks(&detail), json!(["198.51.100.0/24"]));
    // nothing to derive the addresses from: 422 on firewall, saying what to give
    let nothing = api
        .post("/api/v1/partners/create", create("AS2:NOTHING", json!({})))
        .await;
    assert_seed_invalid(&nothing, "firewall", "no endpoint_url");
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
    // every field at once: the seed's own rules and the partner's
    assert_eq!(
        missing.body["errors"],
        json!({
            "station": ["The station field is required"],
            "email": ["The email field is required"],
            "as2_id": ["The AS2 ID field is required"]
        })
    );
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

/// Asserts an ISO 8601 UTC time with microseconds and returns it.
fn time_of(value: &Value) -> String {
    let t = value.as_str().unwrap_or_default();
    assert!(
        t.ends_with('Z') && t.len() == "2024-01-15T10:30:00.000000Z".len(),
        "{value}"
    );
    t.to_owned()
}

/// Seed 000's success envelope around `data`.
fn success(msg: &str, data: Value) -> Value {
    let mut envelope = json!({"status": "success", "msg": msg});
    envelope["data"] = data;
    envelope
}

/// A `/v1` certificate as seed 000 shows it: the same fields, integer ids.
fn seed_certificate(v1: &Value) -> Value {
    let id: i64 = v1["id"].as_str().unwrap()["cert_".len()..].parse().unwrap();
    let mut data = v1.clone();
    data["id"] = json!(id);
    data["certificate_id"] = json!(id);
    data
}

#[tokio::test]
async fn certificates_create_detail_list_and_download() {
    let api = TestApi::new();
    let (_, cert) = key_and_certificate("CN=partner.example", 365);
    let created = api
        .post(
            "/api/v1/certificates/create",
            json!({"name": "Partner cert", "pem": cert.to_pem()}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let id = created.body["data"]["id"].as_i64().unwrap();
    let data = json!({
        "id": id,
        "certificate_id": id,
        "name": "Partner cert",
        "kind": "certificate",
        "subject": "CN=partner.example",
        "issuer": "CN=partner.example",
        "serial": cert.serial_hex(),
        "fingerprint_sha256": sha256_hex(cert.der()),
        "not_before": time_of(&created.body["data"]["not_before"]),
        "not_after": time_of(&created.body["data"]["not_after"]),
        "key_usage": created.body["data"]["key_usage"].clone(),
        "created_at": time_of(&created.body["data"]["created_at"]),
    });
    assert_eq!(created.body, success("Certificate created", data.clone()));

    // the same row through /v1, field for field
    let v1 = api.get(&format!("/v1/certificates/cert_{id:06}")).await;
    assert_eq!(v1.status, StatusCode::OK);
    assert_eq!(seed_certificate(&v1.body["data"]), data);

    let detail = api
        .post("/api/v1/certificates/detail", json!({"id": id}))
        .await;
    assert_eq!(detail.body, success("Certificate retrieved", data.clone()));

    // a key pair made through /v1 shows up here, without its key
    let (key_pem, pair_cert) = key_and_certificate("CN=us.example", 30);
    let pair = api
        .post(
            "/v1/certificates",
            json!({"name": "Our key", "pem": format!("{key_pem}{}", pair_cert.to_pem())}),
        )
        .await;
    assert_eq!(pair.status, StatusCode::CREATED, "{:?}", pair.body);
    let pair_data = seed_certificate(&pair.body["data"]);
    let listed = api.post("/api/v1/certificates", json!({})).await;
    assert_eq!(
        listed.body,
        success(
            "Certificates retrieved",
            json!([pair_data.clone(), data.clone()])
        )
    );
    let empty_body = api
        .call(Method::POST, "/api/v1/certificates", Some(&api.key), None)
        .await;
    assert_eq!(empty_body.body, listed.body);
    let key_pairs = api
        .post("/api/v1/certificates", json!({"kind": "key_pair"}))
        .await;
    assert_eq!(
        key_pairs.body,
        success("Certificates retrieved", json!([pair_data]))
    );
    for reply in [&listed, &key_pairs] {
        let text = String::from_utf8_lossy(&reply.bytes);
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        for line in pem_body_lines(&key_pem) {
            assert!(!text.contains(&line), "a key line leaked");
        }
    }

    let pem = api
        .post("/api/v1/certificates/download", json!({"id": id}))
        .await;
    assert_eq!(pem.status, StatusCode::OK);
    assert_eq!(pem.headers["content-type"], "application/x-pem-file");
    assert_eq!(
        pem.headers["content-disposition"],
        format!("attachment; filename=\"cert_{id:06}.pem\"").as_str()
    );
    assert_eq!(String::from_utf8(pem.bytes).unwrap(), cert.to_pem());
    let der = api
        .post(
            "/api/v1/certificates/download",
            json!({"id": id, "format": "der"}),
        )
        .await;
    assert_eq!(der.headers["content-type"], "application/pkix-cert");
    assert_eq!(der.bytes, cert.der());
    let pair_id = pair_data["id"].as_i64().unwrap();
    let pair_pem = api
        .post("/api/v1/certificates/download", json!({"id": pair_id}))
        .await;
    assert_eq!(
        String::from_utf8(pair_pem.bytes).unwrap(),
        pair_cert.to_pem(),
        "the certificate only, never the key"
    );
}

#[tokio::test]
async fn certificate_errors_use_the_seed_envelope() {
    let api = TestApi::new();
    let missing = api.post("/api/v1/certificates/create", json!({})).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        missing.body,
        json!({
            "status": "error",
            "msg": "Validation failed",
            "code": "validation_failed",
            "errors": {
                "name": ["The name field is required"],
                "pem": ["One of pem, der_base64 or pkcs12_base64 is required"]
            }
        })
    );
    let unreadable = api
        .post(
            "/api/v1/certificates/create",
            json!({"name": "x", "der_base64": "AAAA"}),
        )
        .await;
    assert_eq!(unreadable.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unreadable.body,
        json!({
            "status": "error",
            "msg": "The DER data is not a valid X.509 certificate",
            "code": "invalid_certificate"
        })
    );
    for (path, body, field) in [
        (
            "/api/v1/certificates/create",
            json!({"name": "x", "pkcs12_base64": "AAAA"}),
            "password",
        ),
        (
            "/api/v1/certificates/create",
            json!({"name": "x", "der_base64": "%%%"}),
            "der_base64",
        ),
        (
            "/api/v1/certificates/create",
            json!({"name": "x", "pem": "a", "colour": 1}),
            "colour",
        ),
        ("/api/v1/certificates", json!({"kind": "bogus"}), "kind"),
        ("/api/v1/certificates/detail", json!({}), "id"),
        ("/api/v1/certificates/detail", json!({"id": 0}), "id"),
        ("/api/v1/certificates/detail", json!({"id": "one"}), "id"),
        ("/api/v1/certificates/download", json!({}), "id"),
        (
            "/api/v1/certificates/download",
            json!({"id": 1, "format": "zip"}),
            "format",
        ),
    ] {
        let reply = api.post(path, body.clone()).await;
        assert_seed_invalid(&reply, field, &format!("{path} {body}"));
    }
    for path in [
        "/api/v1/certificates/detail",
        "/api/v1/certificates/download",
    ] {
        let unknown = api.post(path, json!({"id": 424_242})).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            unknown.body,
            json!({"status": "error", "msg": "Certificate not found", "code": "resource_not_found"})
        );
    }
}

/// Asserts a 422 in seed 000's envelope naming `field`.
fn assert_seed_invalid(reply: &Reply, field: &str, context: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{context}: {:?}",
        reply.body
    );
    assert_eq!(reply.body["status"], "error", "{context}");
    assert!(reply.body["msg"].is_string(), "{context}");
    assert!(
        reply.body["errors"][field][0].is_string(),
        "{field} not named for {context}: {:?}",
        reply.body
    );
}

async fn seed_partner(api: &TestApi, as2_id: &str) -> i64 {
    let station = station_number(api).await;
    let created = api
        .post(
            "/api/v1/partners/create",
            json!({"station": station, "as2_id": as2_id, "name": as2_id, "email": "as2@p.example",
                   "endpoint_url": "https://p.example/as2", "encryption": 0}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    created.body["data"]["id"].as_i64().unwrap()
}

const EDI: &[u8] = b"ISA*00*          *00*          *ZZ*ACME~IEA*1*000000001~";

#[tokio::test]
async fn messages_send_detail_list_and_download() {
    let api = TestApi::new();
    let partner = seed_partner(&api, "AS2:CLIENTE_001").await;
    let station = station_number(&api).await;
    let sent = api
        .post(
            "/api/v1/messages/send",
            json!({"partner_id": partner, "content": STANDARD.encode(EDI),
                   "filename": "invoice.edi", "subject": "Invoice 42"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    let got = &sent.body["data"];
    let id = got["id"].as_i64().unwrap();
    let as2_id = got["message_id"].as_str().unwrap().to_owned();
    assert!(
        as2_id.starts_with('<') && as2_id.ends_with("@as2-platform>"),
        "{as2_id}"
    );
    let created_at = time_of(&got["created_at"]);
    let mut data = json!({
        "id": id,
        "message_id": as2_id,
        "direction": "outbound",
        "partner_id": partner,
        "station_id": station,
        "subject": "Invoice 42",
        "filename": "invoice.edi",
        "content_type": "application/edi-x12",
        "bytes": EDI.len(),
        "sha256": sha256_hex(EDI),
        "mdn_mode": "sync",
        "status": "queued",
        "attempts": 0,
        "error": null,
        "mdn": null,
        "created_at": created_at,
        "updated_at": time_of(&got["updated_at"]),
    });
    assert_eq!(sent.body, success("Message queued", data.clone()));

    // the same row, payload and send job as /v1
    let v1 = api.get(&format!("/v1/messages/msg_{id:06}")).await;
    assert_eq!(v1.status, StatusCode::OK);
    assert_eq!(v1.body["data"]["message_id"], as2_id.as_str());
    assert_eq!(v1.body["data"]["partner_id"], format!("prt_{partner:06}"));
    let job = api
        .db
        .store
        .jobs()
        .claim(
            &[JobKind::SendMessage],
            Utc::now(),
            chrono::Duration::minutes(1),
        )
        .unwrap()
        .expect("a send_message job");
    assert!(
        job.payload.contains(&format!("\"message_id\":{id}")),
        "{}",
        job.payload
    );

    // an MDN arrives: detail shows it
    let scope = as2_store::Scope::new(api.tenant, Mode::Test);
    let messages = api.db.store.messages();
    let message_id = MessageId(id);
    messages
        .transition(
            scope,
            message_id,
            MessageStatus::Processing,
            None,
            "sending",
            None,
        )
        .unwrap();
    messages
        .transition(
            scope,
            message_id,
            MessageStatus::Delivered,
            None,
            "delivered",
            None,
        )
        .unwrap();
    messages
        .record_mdn(
            scope,
            &MdnRecord {
                message_id,
                disposition: "automatic-action/MDN-sent-automatically; processed".into(),
                positive: true,
                mic: Some("abc=, sha-256".into()),
                mic_matched: Some(true),
                signed: true,
                verified: true,
                original_message_id: None,
                raw_key: None,
                created_at: Utc::now(),
            },
        )
        .unwrap();
    let detail = api.post("/api/v1/messages/detail", json!({"id": id})).await;
    assert_eq!(detail.status, StatusCode::OK, "{:?}", detail.body);
    data["status"] = json!("delivered");
    data["attempts"] = json!(1);
    data["updated_at"] = json!(time_of(&detail.body["data"]["updated_at"]));
    data["mdn"] = json!({
        "disposition": "automatic-action/MDN-sent-automatically; processed",
        "mic": "abc=, sha-256",
        "mic_matched": true,
        "signed": true,
        "verified": true,
        "received_at": time_of(&detail.body["data"]["mdn"]["received_at"]),
    });
    assert_eq!(detail.body, success("Message retrieved", data.clone()));

    // a second message sent through /v1 to another partner is listed too, newest first
    let other = seed_partner(&api, "OTHER").await;
    let second = api
        .post(
            "/v1/messages",
            json!({"partner_id": format!("prt_{other:06}"), "content": "aGk="}),
        )
        .await;
    assert_eq!(second.status, StatusCode::ACCEPTED, "{:?}", second.body);
    let second_id = second.body["data"]["id"].as_str().unwrap()["msg_".len()..]
        .parse::<i64>()
        .unwrap();
    let listed = api.post("/api/v1/messages", json!({})).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let second_data = listed.body["data"][0].clone();
    assert_eq!(second_data["id"], second_id);
    assert_eq!(second_data["partner_id"], other);
    assert_eq!(second_data["content_type"], "application/octet-stream");
    assert_eq!(
        listed.body,
        json!({
            "status": "success",
            "msg": "Messages retrieved",
            "data": [second_data.clone(), data.clone()],
            "pagination": {"current_page": 1, "last_page": 1, "per_page": 20, "total": 2, "from": 1, "to": 2}
        })
    );
    let filtered = api
        .post(
            "/api/v1/messages",
            json!({"partner": partner, "status": "delivered", "direction": "outbound"}),
        )
        .await;
    assert_eq!(filtered.body["data"], json!([data.clone()]));
    let paged = api
        .post("/api/v1/messages", json!({"page": 2, "per_page": 1}))
        .await;
    assert_eq!(paged.body["data"], json!([data]));
    assert_eq!(
        paged.body["pagination"],
        json!({"current_page": 2, "last_page": 2, "per_page": 1, "total": 2, "from": 2, "to": 2})
    );
    let inbound = api
        .post("/api/v1/messages", json!({"direction": "inbound"}))
        .await;
    assert_eq!(inbound.body["data"], json!([]));

    let payload = api
        .post("/api/v1/messages/download", json!({"id": id}))
        .await;
    assert_eq!(payload.status, StatusCode::OK);
    assert_eq!(payload.bytes, EDI);
    assert_eq!(payload.headers["content-type"], "application/edi-x12");
    assert_eq!(
        payload.headers["content-disposition"],
        "attachment; filename=\"invoice.edi\""
    );
    // `/create` is the same call as `/send`, and `partner` the same field as `partner_id`
    let created = api
        .post(
            "/api/v1/messages/create",
            json!({"partner": partner, "content": "aGk="}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    assert_eq!(created.body["data"]["partner_id"], partner);
}

#[tokio::test]
async fn message_errors_name_fields() {
    let api = TestApi::new();
    let partner = seed_partner(&api, "P").await;
    let missing = api.post("/api/v1/messages/send", json!({})).await;
    assert_eq!(
        missing.body,
        json!({
            "status": "error",
            "msg": "Validation failed",
            "code": "validation_failed",
            "errors": {
                "content": ["The content field is required"],
                "partner_id": ["The partner_id field is required"]
            }
        })
    );
    let bad = api
        .post(
            "/api/v1/messages/send",
            json!({"partner_id": 0, "content": "%%%", "filename": "../etc/passwd",
                   "content_type": "nonsense", "subject": "a\r\nBcc: x"}),
        )
        .await;
    for field in [
        "partner_id",
        "content",
        "filename",
        "content_type",
        "subject",
    ] {
        assert_seed_invalid(&bad, field, "send with every field wrong");
    }
    for (path, body, field) in [
        (
            "/api/v1/messages/send",
            json!({"partner_id": 999_999, "content": "aGk="}),
            "partner_id",
        ),
        (
            "/api/v1/messages/send",
            json!({"partner_id": partner, "content": ""}),
            "content",
        ),
        (
            "/api/v1/messages/send",
            json!({"partner_id": partner, "content": "aGk=", "filename": "x".repeat(256)}),
            "filename",
        ),
        (
            "/api/v1/messages/send",
            json!({"partner_id": partner, "content": "aGk=", "subject": "s".repeat(999)}),
            "subject",
        ),
        (
            "/api/v1/messages/send",
            json!({"partner_id": "one", "content": "aGk="}),
            "partner_id",
        ),
        (
            "/api/v1/messages/send",
            json!({"partner_id": partner, "content": "aGk=", "colour": "red"}),
            "colour",
        ),
        ("/api/v1/messages", json!({"status": "lost"}), "status"),
        (
            "/api/v1/messages",
            json!({"direction": "sideways"}),
            "direction",
        ),
        ("/api/v1/messages", json!({"partner": -1}), "partner"),
        ("/api/v1/messages", json!({"page": 0}), "page"),
        ("/api/v1/messages", json!({"per_page": 101}), "per_page"),
        ("/api/v1/messages/detail", json!({}), "id"),
        ("/api/v1/messages/download", json!({"id": -5}), "id"),
    ] {
        let reply = api.post(path, body.clone()).await;
        assert_seed_invalid(&reply, field, &format!("{path} {body}"));
    }
    // nothing was stored or queued by the refused calls
    assert_eq!(api.get("/v1/messages").await.body["total"], 0);
    for path in ["/api/v1/messages/detail", "/api/v1/messages/download"] {
        let unknown = api.post(path, json!({"id": 424_242})).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            unknown.body,
            json!({"status": "error", "msg": "Message not found", "code": "resource_not_found"})
        );
    }
    // an inbound message without a stored payload: its download is a 404 naming that
    let scope = as2_store::Scope::new(api.tenant, Mode::Test);
    let station = station_number(&api).await;
    let inbound = api
        .db
        .store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Inbound,
                partner_id: PartnerId(partner),
                station_id: StationId(station),
                as2_message_id: "<in-1@partner>",
                subject: None,
                filename: None,
                content_type: "application/edi-x12",
                bytes: 0,
                sha256: "00",
                payload: None,
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Received,
                error: None,
                mic: None,
                destination_url: None,
            },
            None,
        )
        .unwrap();
    let no_payload = api
        .post("/api/v1/messages/download", json!({"id": inbound.id.0}))
        .await;
    assert_eq!(no_payload.status, StatusCode::NOT_FOUND);
    assert_eq!(
        no_payload.body,
        json!({"status": "error", "msg": "This message has no stored payload", "code": "payload_not_found"})
    );
    let huge = axum::http::Request::post("/api/v1/messages/send")
        .header("authorization", format!("Bearer {}", api.key))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(vec![b' '; 65 * 1024 * 1024]))
        .unwrap();
    let huge = api.send(huge).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.body["status"], "error");
    assert_eq!(huge.body["code"], "payload_too_large");
}
