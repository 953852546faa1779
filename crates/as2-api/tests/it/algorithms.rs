//! Issue 16 through the API: elliptic-curve key pairs generated (`key_type`) and uploaded
//! (PKCS#8 and SEC 1 PEM), the SHA-3 `sign_algorithm` values on `/v1`, and seed 000's
//! `partners/create` taking the algorithm settings (`signature` 5–7 for SHA-3,
//! `signature_scheme`, `key_transport`, `compress`, `compression_order`), and the partner's
//! `unsigned_mic` (what the MIC of a plain message covers).

use crate::common::*;
use as2_core::cert::Certificate;
use as2_core::crypto::{EcCurve, PublicKey};
use as2_core::keys::AnyPrivateKey;
use as2_domain::id::CertificateId;
use as2_store::Scope;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn ec_key_pairs_are_generated_on_both_curves() {
    let api = TestApi::new();
    for (key_type, curve) in [("ec-p256", EcCurve::P256), ("ec-p384", EcCurve::P384)] {
        let reply = api
            .post(
                "/v1/certificates/generate",
                json!({"name": key_type, "common_name": "ec.example", "key_type": key_type}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let data = &reply.body["data"];
        assert_eq!(data["kind"], "key_pair");
        assert_eq!(
            data["key_usage"],
            json!(["digitalSignature", "nonRepudiation", "keyAgreement"])
        );
        let text = String::from_utf8_lossy(&reply.bytes);
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        let id = data["id"].as_str().unwrap().to_owned();
        let pem = api.get(&format!("/v1/certificates/{id}/download")).await;
        let cert = Certificate::load(&pem.bytes).unwrap();
        let PublicKey::Ec(public) = cert.subject_public_key().unwrap() else {
            panic!("{key_type}: not an EC certificate");
        };
        assert_eq!(public.curve(), curve);
        // the stored key is the certificate's, and the engine's key provider loads it
        let scope = Scope::new(api.tenant, as2_domain::Mode::Test);
        let cert_id: CertificateId = id.parse().unwrap();
        let key = api
            .db
            .store
            .certificates()
            .private_key(scope, cert_id)
            .unwrap();
        let loaded = as2_core::keys::load_any_private_key(&key, None).unwrap();
        assert!(matches!(loaded, AnyPrivateKey::Ec(_)));
        assert_eq!(loaded.public_key(), PublicKey::Ec(public));
        as2_core::crypto::rust_crypto::DEFAULT_PROVIDER
            .load_private_key(&key)
            .unwrap();
    }
}

#[tokio::test]
async fn key_type_rules_name_their_fields() {
    let api = TestApi::new();
    let bad = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "x", "common_name": "x", "key_type": "ed25519"}),
        )
        .await;
    assert_invalid(&bad, "key_type");
    assert!(
        bad.body["errors"]["key_type"][0]
            .as_str()
            .unwrap_or_default()
            .contains("ec-p256"),
        "{:?}",
        bad.body
    );
    let sized = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "x", "common_name": "x", "key_type": "ec-p384", "key_size": 3072}),
        )
        .await;
    assert_invalid(&sized, "key_size");
    let rsa = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "rsa", "common_name": "x", "key_type": "rsa", "key_size": 3072}),
        )
        .await;
    assert_eq!(rsa.status, StatusCode::CREATED, "{:?}", rsa.body);
}

#[tokio::test]
async fn ec_key_pairs_upload_as_pkcs8_and_sec1() {
    let api = TestApi::new();
    let provider = &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
    let key = as2_core::keys::generate_ec_key(provider, EcCurve::P256).unwrap();
    let cert = as2_core::cert::generate_self_signed_for(
        provider,
        &key,
        "CN=ec upload",
        std::time::SystemTime::now(),
        std::time::Duration::from_secs(86_400),
    )
    .unwrap();
    let pkcs8 = AnyPrivateKey::Ec(key.clone()).to_pkcs8_pem().unwrap();
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "EC pair", "pem": format!("{}{}", *pkcs8, cert.to_pem())}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["kind"], "key_pair");
    assert!(!String::from_utf8_lossy(&reply.bytes).contains("PRIVATE KEY"));

    // SEC 1, what `openssl ecparam -genkey` writes
    let sec1 = sec1_pem(&key);
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "EC pair (SEC 1)", "pem": format!("{sec1}{}", cert.to_pem())}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["kind"], "key_pair");

    // an EC key with another key's certificate
    let other = as2_core::keys::generate_ec_key(provider, EcCurve::P256).unwrap();
    let other_pem = AnyPrivateKey::Ec(other).to_pkcs8_pem().unwrap();
    let mismatch = api
        .post(
            "/v1/certificates",
            json!({"name": "x", "pem": format!("{}{}", *other_pem, cert.to_pem())}),
        )
        .await;
    assert_eq!(
        mismatch.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        mismatch.body
    );
    assert_eq!(mismatch.body["error"]["type"], "certificate_error");
}

/// The SEC 1 `EC PRIVATE KEY` PEM of a key: the PKCS#8 `privateKey` OCTET STRING holds it.
fn sec1_pem(key: &as2_core::crypto::EcPrivateKey) -> String {
    use as2_core::der::Decode as _;
    let der = key.to_pkcs8_der().unwrap();
    let info = pkcs8::PrivateKeyInfoRef::from_der(&der).unwrap();
    let sec1 = info.private_key.as_bytes().to_vec();
    as2_core::der::pem::encode_string("EC PRIVATE KEY", as2_core::der::pem::LineEnding::LF, &sec1)
        .unwrap()
}

#[tokio::test]
async fn sha3_sign_algorithms_on_v1_and_the_seed_surface() {
    let api = TestApi::new();
    for alg in ["sha3-256", "sha3-384", "sha3-512"] {
        let reply = api
            .post(
                "/v1/partners",
                json!({"name": alg, "as2_id": format!("P-{alg}"), "url": "https://p.example/as2",
                       "encrypt": false, "sign": true, "sign_algorithm": alg}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        assert_eq!(reply.body["data"]["sign_algorithm"], alg);
    }
    let bad = api
        .post(
            "/v1/partners",
            json!({"name": "x", "as2_id": "P-X", "url": "https://p.example/as2",
                   "encrypt": false, "sign_algorithm": "sha3-224"}),
        )
        .await;
    assert_invalid(&bad, "sign_algorithm");

    let stations = api.post("/api/v1/stations", json!({})).await;
    let station = stations.body["data"][0]["id"].as_i64().unwrap();
    let legacy = api
        .post(
            "/api/v1/partners/create",
            json!({"station": station, "as2_id": "SEED-SHA3", "name": "Seed", "email": "e@e.example",
                   "endpoint_url": "https://p.example/as2", "mdn": 2, "encryption": 6, "signature": 6,
                   "signature_scheme": "pss", "key_transport": "rsa-oaep-sha256",
                   "compress": true, "compression_order": "after-signing"}),
        )
        .await;
    assert_eq!(legacy.status, StatusCode::OK, "{:?}", legacy.body);
    let id = legacy.body["data"]["id"].as_i64().unwrap();
    let v1 = api
        .get(&format!("/v1/partners/{}", as2_domain::id::PartnerId(id)))
        .await;
    assert_eq!(v1.status, StatusCode::OK, "{:?}", v1.body);
    let p = &v1.body["data"];
    assert_eq!(p["sign_algorithm"], "sha3-384");
    assert_eq!(p["encrypt_algorithm"], "aes256-gcm");
    assert_eq!(p["signature_scheme"], "pss");
    assert_eq!(p["key_transport"], "rsa-oaep-sha256");
    assert_eq!(p["compress"], true);
    assert_eq!(p["compression_order"], "after-signing");
    let bad = api
        .post(
            "/api/v1/partners/create",
            json!({"station": station, "as2_id": "SEED-BAD", "name": "Seed", "email": "e@e.example",
                   "endpoint_url": "https://p.example/as2", "signature": 8, "key_transport": "ecdh"}),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bad.body
    );
    assert!(bad.body["errors"]["signature"].is_array(), "{:?}", bad.body);
    assert!(
        bad.body["errors"]["key_transport"].is_array(),
        "{:?}",
        bad.body
    );
}

/// A partner's `unsigned_mic`: the RFC's `content-only` by default, `with-headers` taken on
/// create (both surfaces), PATCH and PUT, any other value a 422 naming the field.
#[tokio::test]
async fn unsigned_mic_is_a_partner_setting_on_both_surfaces() {
    let api = TestApi::new();
    let created = api
        .post(
            "/v1/partners",
            json!({"name": "Plain", "as2_id": "P-PLAIN", "url": "https://p.example/as2",
                   "encrypt": false, "sign": false}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["data"]["unsigned_mic"], "content-only");
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let patched = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"unsigned_mic": "with-headers"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["data"]["unsigned_mic"], "with-headers");
    // PUT replaces: a body without it goes back to the default
    let replaced = api
        .put(
            &format!("/v1/partners/{id}"),
            json!({"name": "Plain", "as2_id": "P-PLAIN", "url": "https://p.example/as2",
                   "encrypt": false, "sign": false}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{:?}", replaced.body);
    assert_eq!(replaced.body["data"]["unsigned_mic"], "content-only");
    let bad = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"unsigned_mic": "headers"}),
        )
        .await;
    assert_invalid(&bad, "unsigned_mic");

    let stations = api.post("/api/v1/stations", json!({})).await;
    let station = stations.body["data"][0]["id"].as_i64().unwrap();
    let legacy = api
        .post(
            "/api/v1/partners/create",
            json!({"station": station, "as2_id": "SEED-PLAIN", "name": "Seed", "email": "e@e.example",
                   "endpoint_url": "https://p.example/as2", "mdn": 2, "encryption": 0, "signature": 0,
                   "unsigned_mic": "with-headers"}),
        )
        .await;
    assert_eq!(legacy.status, StatusCode::OK, "{:?}", legacy.body);
    let seed_id = as2_domain::id::PartnerId(legacy.body["data"]["id"].as_i64().unwrap());
    let v1 = api.get(&format!("/v1/partners/{seed_id}")).await;
    assert_eq!(
        v1.body["data"]["unsigned_mic"], "with-headers",
        "{:?}",
        v1.body
    );
}
