//! `/v1/certificates`: upload (PEM, DER, PKCS#12, multipart), generation, download, list
//! filters, validation, and that a private key never leaves the store.

use crate::common::*;
use crate::upload::*;
use as2_core::cert::Certificate;
use as2_domain::id::CertificateId;
use as2_store::Scope;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

fn assert_time(value: &Value) {
    let t = value.as_str().unwrap_or_default();
    assert!(
        t.ends_with('Z') && t.len() == "2024-01-15T10:30:00.000000Z".len(),
        "{value}"
    );
}

fn assert_certificate_error(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert_eq!(reply.body["error"]["type"], "certificate_error");
    assert!(
        reply.body["message"].as_str().unwrap_or_default().len() > 20,
        "{:?}",
        reply.body
    );
}

fn no_private_key(reply: &Reply, key_pem: Option<&str>) {
    let text = String::from_utf8_lossy(&reply.bytes);
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(!text.contains("private_key"), "{text}");
    for line in key_pem.map(pem_body_lines).unwrap_or_default() {
        assert!(!text.contains(&line), "a key line leaked: {text}");
    }
}

#[tokio::test]
async fn generated_key_pair_downloads_and_parses_back() {
    let api = TestApi::new();
    let reply = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "Our signing key", "common_name": "acme.example", "days": 30}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["message"], "Certificate generated successfully");
    no_private_key(&reply, None);
    let data = &reply.body["data"];
    let id = data["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cert_"), "{id}");
    assert_eq!(data["name"], "Our signing key");
    assert_eq!(data["kind"], "key_pair");
    assert_eq!(data["subject"], "CN=acme.example");
    assert_eq!(data["issuer"], "CN=acme.example");
    let serial = data["serial"].as_str().unwrap();
    assert!(!serial.is_empty() && serial.chars().all(|c| c.is_ascii_hexdigit()));
    let fingerprint = data["fingerprint_sha256"].as_str().unwrap().to_owned();
    assert_eq!(fingerprint.len(), 64);
    assert!(
        fingerprint
            .chars()
            .all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    );
    for field in ["not_before", "not_after", "created_at"] {
        assert_time(&data[field]);
    }
    let before =
        chrono::DateTime::parse_from_rfc3339(data["not_before"].as_str().unwrap()).unwrap();
    let after = chrono::DateTime::parse_from_rfc3339(data["not_after"].as_str().unwrap()).unwrap();
    assert_eq!((after - before).num_days(), 30);
    assert_eq!(
        data["key_usage"],
        json!([
            "digitalSignature",
            "nonRepudiation",
            "keyEncipherment",
            "dataEncipherment"
        ])
    );
    let keys: Vec<&String> = data.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 11, "{keys:?}");

    let fetched = api.get(&format!("/v1/certificates/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body["data"], *data);

    let pem = api.get(&format!("/v1/certificates/{id}/download")).await;
    assert_eq!(pem.status, StatusCode::OK);
    assert_eq!(pem.headers["content-type"], "application/x-pem-file");
    assert!(
        pem.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("{id}.pem"))
    );
    no_private_key(&pem, None);
    let parsed = Certificate::load(&pem.bytes).unwrap();
    assert_eq!(sha256_hex(parsed.der()), fingerprint);

    let der = api
        .get(&format!("/v1/certificates/{id}/download?format=der"))
        .await;
    assert_eq!(der.status, StatusCode::OK);
    assert_eq!(der.headers["content-type"], "application/pkix-cert");
    assert_eq!(sha256_hex(&der.bytes), fingerprint);
    assert_eq!(
        Certificate::from_der(&der.bytes).unwrap().subject(),
        "CN=acme.example"
    );

    let bad = api
        .get(&format!("/v1/certificates/{id}/download?format=p12"))
        .await;
    assert_invalid(&bad, "format");

    // the key is stored (sealed) and readable by the engine only
    let scope = Scope::new(api.tenant, as2_domain::Mode::Test);
    let cert_id: CertificateId = id.parse().unwrap();
    let key = api
        .db
        .store
        .certificates()
        .private_key(scope, cert_id)
        .unwrap();
    assert!(as2_core::keys::load_private_key(&key, None).is_ok());
}

#[tokio::test]
async fn pem_certificate_key_pair_and_der_uploads() {
    let api = TestApi::new();
    let (key_pem, cert) = key_and_certificate("CN=partner,O=Example", 90);
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "Partner cert", "pem": cert.to_pem()}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["message"], "Certificate uploaded successfully");
    let data = &reply.body["data"];
    assert_eq!(data["name"], "Partner cert");
    assert_eq!(data["kind"], "certificate");
    assert_eq!(data["subject"], cert.subject());
    assert_eq!(data["issuer"], cert.issuer());
    assert_eq!(data["serial"], cert.serial_hex());
    assert_eq!(data["fingerprint_sha256"], sha256_hex(cert.der()));

    let pair = api
        .post(
            "/v1/certificates",
            json!({"name": "Our pair", "pem": format!("{key_pem}{}", cert.to_pem())}),
        )
        .await;
    assert_eq!(pair.status, StatusCode::CREATED, "{:?}", pair.body);
    assert_eq!(pair.body["data"]["kind"], "key_pair");
    no_private_key(&pair, Some(&key_pem));
    let id = pair.body["data"]["id"].as_str().unwrap().to_owned();
    no_private_key(
        &api.get(&format!("/v1/certificates/{id}")).await,
        Some(&key_pem),
    );
    no_private_key(&api.get("/v1/certificates").await, Some(&key_pem));
    no_private_key(
        &api.get(&format!("/v1/certificates/{id}/download")).await,
        Some(&key_pem),
    );
    no_private_key(
        &api.get(&format!("/v1/certificates/{id}/download?format=der"))
            .await,
        Some(&key_pem),
    );

    let der = api
        .post(
            "/v1/certificates",
            json!({"name": "DER", "der_base64": STANDARD.encode(cert.der())}),
        )
        .await;
    assert_eq!(der.status, StatusCode::CREATED, "{:?}", der.body);
    assert_eq!(der.body["data"]["kind"], "certificate");
    assert_eq!(
        der.body["data"]["fingerprint_sha256"],
        sha256_hex(cert.der())
    );

    // a key with somebody else's certificate
    let (_, other) = key_and_certificate("CN=other", 10);
    let mismatch = api
        .post(
            "/v1/certificates",
            json!({"name": "x", "pem": format!("{key_pem}{}", other.to_pem())}),
        )
        .await;
    assert_certificate_error(&mismatch);
    let garbage = api
        .post("/v1/certificates", json!({"name": "x", "pem": "hello"}))
        .await;
    assert_certificate_error(&garbage);
    let not_a_cert = api
        .post(
            "/v1/certificates",
            json!({"name": "x", "der_base64": STANDARD.encode(b"not a certificate")}),
        )
        .await;
    assert_certificate_error(&not_a_cert);
}

#[tokio::test]
async fn pkcs12_as_json_and_multipart() {
    let api = TestApi::new();
    let (p12, key_pem, cert_pem) = openssl_pkcs12("s3cret");
    let expected = Certificate::load(cert_pem.as_bytes()).unwrap();
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "Bundle", "pkcs12_base64": STANDARD.encode(&p12), "password": "s3cret"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["kind"], "key_pair");
    assert_eq!(reply.body["data"]["subject"], "CN=test");
    assert_eq!(
        reply.body["data"]["fingerprint_sha256"],
        sha256_hex(expected.der())
    );
    no_private_key(&reply, Some(&key_pem));

    let wrong = api
        .post(
            "/v1/certificates",
            json!({"name": "Bundle", "pkcs12_base64": STANDARD.encode(&p12), "password": "nope"}),
        )
        .await;
    assert_certificate_error(&wrong);

    let form = post_multipart(
        &api,
        "/v1/certificates",
        &[
            Part {
                name: "name",
                filename: None,
                content: b"Uploaded bundle",
            },
            Part {
                name: "password",
                filename: None,
                content: b"s3cret",
            },
            Part {
                name: "file",
                filename: Some("b.p12"),
                content: &p12,
            },
        ],
    )
    .await;
    assert_eq!(form.status, StatusCode::CREATED, "{:?}", form.body);
    assert_eq!(form.body["data"]["name"], "Uploaded bundle");
    assert_eq!(form.body["data"]["kind"], "key_pair");
    no_private_key(&form, Some(&key_pem));

    let pem_form = post_multipart(
        &api,
        "/v1/certificates",
        &[
            Part {
                name: "file",
                filename: Some("c.pem"),
                content: cert_pem.as_bytes(),
            },
            Part {
                name: "name",
                filename: None,
                content: b"PEM file",
            },
        ],
    )
    .await;
    assert_eq!(pem_form.status, StatusCode::CREATED, "{:?}", pem_form.body);
    assert_eq!(pem_form.body["data"]["kind"], "certificate");

    let missing = post_multipart(
        &api,
        "/v1/certificates",
        &[Part {
            name: "password",
            filename: None,
            content: b"x",
        }],
    )
    .await;
    assert_invalid(&missing, "file");
    assert_invalid(&missing, "name");
}

#[tokio::test]
async fn every_rule_names_its_field() {
    let api = TestApi::new();
    let reply = api.post("/v1/certificates", json!({})).await;
    assert_invalid(&reply, "name");
    assert_invalid(&reply, "pem");
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "x", "pkcs12_base64": "AAAA"}),
        )
        .await;
    assert_invalid(&reply, "password");
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "x", "der_base64": "%%%"}),
        )
        .await;
    assert_invalid(&reply, "der_base64");
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "x", "pem": "a", "der_base64": "AAAA"}),
        )
        .await;
    assert_invalid(&reply, "der_base64");
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "x", "pem": "a", "colour": 1}),
        )
        .await;
    assert_invalid(&reply, "colour");

    let reply = api.post("/v1/certificates/generate", json!({})).await;
    assert_invalid(&reply, "name");
    assert_invalid(&reply, "common_name");
    let reply = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "x", "common_name": "y", "days": 0, "key_size": 1024}),
        )
        .await;
    assert_invalid(&reply, "days");
    assert_invalid(&reply, "key_size");
    let reply = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "x", "common_name": "y", "days": 3651}),
        )
        .await;
    assert_invalid(&reply, "days");
    let reply = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "x", "common_name": "y", "days": "ten"}),
        )
        .await;
    assert_invalid(&reply, "days");

    for query in [
        "kind=bogus",
        "expires_soon=maybe",
        "per_page=1000",
        "colour=red",
    ] {
        let reply = api.get(&format!("/v1/certificates?{query}")).await;
        let field = query.split('=').next().unwrap();
        assert_invalid(&reply, field);
    }
}

#[tokio::test]
async fn list_filters_and_scoping() {
    let api = TestApi::new();
    let soon = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "Soon", "common_name": "soon", "days": 10}),
        )
        .await;
    let soon_id = soon.body["data"]["id"].as_str().unwrap().to_owned();
    let later = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "Later", "common_name": "later"}),
        )
        .await;
    let later_id = later.body["data"]["id"].as_str().unwrap().to_owned();
    let (_, cert) = key_and_certificate("CN=partner", 365);
    let plain = api
        .post(
            "/v1/certificates",
            json!({"name": "Plain", "pem": cert.to_pem()}),
        )
        .await;
    let plain_id = plain.body["data"]["id"].as_str().unwrap().to_owned();

    let ids = |reply: &Reply| -> Vec<String> {
        reply.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = api.get("/v1/certificates").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["total"], 3);
    assert_eq!(
        ids(&all),
        [plain_id.as_str(), later_id.as_str(), soon_id.as_str()]
    );
    assert_eq!(all.body["message"], "Certificates retrieved successfully");
    let expiring = api.get("/v1/certificates?expires_soon=true").await;
    assert_eq!(ids(&expiring), [soon_id.as_str()]);
    let key_pairs = api.get("/v1/certificates?kind=key_pair").await;
    assert_eq!(ids(&key_pairs), [later_id.as_str(), soon_id.as_str()]);
    let certs = api.get("/v1/certificates?kind=certificate").await;
    assert_eq!(ids(&certs), [plain_id.as_str()]);
    let live = api
        .call(Method::GET, "/v1/certificates", Some(&api.live_key), None)
        .await;
    assert_eq!(live.body["total"], 0);

    // malformed and foreign ids are 404
    for path in ["/v1/certificates/nope", "/v1/certificates/cert_999999"] {
        assert_eq!(api.get(path).await.status, StatusCode::NOT_FOUND);
    }
    let (_, other_key) = api.other_account();
    for (method, path) in [
        (Method::GET, format!("/v1/certificates/{soon_id}")),
        (Method::GET, format!("/v1/certificates/{soon_id}/download")),
        (Method::DELETE, format!("/v1/certificates/{soon_id}")),
    ] {
        let reply = api.call(method, &path, Some(&other_key), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.body["error"]["type"], "resource_error");
    }

    let deleted = api.delete(&format!("/v1/certificates/{soon_id}")).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        deleted.body["data"],
        json!({"id": soon_id, "deleted": true})
    );
    assert_eq!(
        api.get(&format!("/v1/certificates/{soon_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get(&format!("/v1/certificates/{soon_id}/download"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
