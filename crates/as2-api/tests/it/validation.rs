//! Every validation rule of partners, stations, certificates, messages, webhooks, tenants
//! and the seed-000 partner call, one request per rule: each answers 422 with the field
//! named and the sentence that says what is wrong, and nothing is written.

use crate::common::*;
use crate::upload::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// `base` with the fields of `changes` set (a `null` removes the field).
fn with(base: &Value, changes: &Value) -> Value {
    let mut out = base.clone();
    for (field, value) in changes.as_object().unwrap() {
        if value.is_null() {
            out.as_object_mut().unwrap().remove(field);
        } else {
            out[field] = value.clone();
        }
    }
    out
}

/// Asserts a 422 whose `errors[field]` holds `sentence` (any sentence when empty).
fn assert_rule(reply: &Reply, field: &str, sentence: &str, context: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{context}: {:?}",
        reply.body
    );
    let sentences = &reply.body["errors"][field];
    assert!(
        sentences.as_array().is_some_and(|s| !s.is_empty()),
        "{context}: {field} not named in {:?}",
        reply.body
    );
    if !sentence.is_empty() {
        assert!(
            sentences
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s.as_str() == Some(sentence)),
            "{context}: {field} should say {sentence:?}: {:?}",
            reply.body
        );
    }
    if reply.body.get("error").is_some() {
        assert_eq!(reply.body["error"]["type"], "validation_error", "{context}");
        assert_eq!(reply.body["message"], "Validation failed", "{context}");
    } else {
        assert_eq!(reply.body["status"], "error", "{context}");
    }
}

/// Runs each `(body, field, sentence)` against `method path` with `key`.
async fn check_rules(
    api: &TestApi,
    method: Method,
    path: &str,
    key: &str,
    cases: Vec<(Value, &str, &str)>,
) {
    for (body, field, sentence) in cases {
        let reply = api
            .call(method.clone(), path, Some(key), Some(body.clone()))
            .await;
        assert_rule(&reply, field, sentence, &format!("{method} {path} {body}"));
    }
}

async fn public_certificate(api: &TestApi) -> String {
    let (_, cert) = key_and_certificate("CN=theirs", 30);
    let reply = api
        .post(
            "/v1/certificates",
            json!({"name": "Theirs", "pem": cert.to_pem()}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn partner_rules() {
    let api = TestApi::new();
    let key = api.key.clone();
    let base =
        json!({"name": "N", "as2_id": "A1", "url": "https://p.example/as2", "encrypt": false});
    let url_host = "The URL must be a valid URL with a host name";
    let cases = vec![
        (
            with(&base, &json!({"name": null})),
            "name",
            "The name field is required",
        ),
        (
            with(&base, &json!({"name": "  "})),
            "name",
            "The name field is required",
        ),
        (
            with(&base, &json!({"name": "n".repeat(256)})),
            "name",
            "The name must be at most 255 characters",
        ),
        (
            with(&base, &json!({"name": "a\u{7}b"})),
            "name",
            "The name must not contain control characters",
        ),
        (with(&base, &json!({"name": 5})), "name", ""),
        (
            with(&base, &json!({"as2_id": null})),
            "as2_id",
            "The AS2 ID field is required",
        ),
        (
            with(&base, &json!({"as2_id": ""})),
            "as2_id",
            "The AS2 ID field is required",
        ),
        (
            with(&base, &json!({"as2_id": "x".repeat(129)})),
            "as2_id",
            "The AS2 ID must be at most 128 characters",
        ),
        (
            with(&base, &json!({"as2_id": "has space"})),
            "as2_id",
            "The AS2 ID must not contain spaces",
        ),
        (
            with(&base, &json!({"as2_id": "ümlaut"})),
            "as2_id",
            "The AS2 ID may only contain printable ASCII characters",
        ),
        (
            with(&base, &json!({"as2_id": "q\"uote"})),
            "as2_id",
            "The AS2 ID must not contain quotes or backslashes",
        ),
        (
            with(&base, &json!({"url": null})),
            "url",
            "The URL field is required",
        ),
        (
            with(&base, &json!({"url": "ftp://p.example/as2"})),
            "url",
            "The URL must be a valid http:// or https:// endpoint",
        ),
        (
            with(&base, &json!({"url": "https://ho st/as2"})),
            "url",
            url_host,
        ),
        (
            with(&base, &json!({"url": "https://p.example:99999/as2"})),
            "url",
            url_host,
        ),
        (
            with(&base, &json!({"url": null, "endpoint_url": "nope"})),
            "url",
            "The URL must be a valid http:// or https:// endpoint",
        ),
        (
            with(&base, &json!({"email": "nope"})),
            "email",
            "The email must be a valid email address",
        ),
        (
            with(&base, &json!({"mdn_url": "mailto:x"})),
            "mdn_url",
            "The URL must be a valid http:// or https:// endpoint",
        ),
        (
            with(&base, &json!({"sign_algorithm": "md5"})),
            "sign_algorithm",
            "The sign algorithm must be one of: sha1, sha256, sha384, sha512",
        ),
        (
            with(&base, &json!({"encrypt_algorithm": "rot13"})),
            "encrypt_algorithm",
            "The encrypt algorithm must be one of: 3des, aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm",
        ),
        (
            with(&base, &json!({"mdn_mode": "sometimes"})),
            "mdn_mode",
            "The mdn mode must be one of: sync, async, none",
        ),
        (
            with(&base, &json!({"certificate_id": "cert_x"})),
            "certificate_id",
            "The certificate id must look like cert_000001",
        ),
        (
            with(&base, &json!({"certificate_id": "cert_999999"})),
            "certificate_id",
            "The selected certificate does not exist",
        ),
        (
            with(&base, &json!({"encryption_certificate_id": "x"})),
            "encryption_certificate_id",
            "The certificate id must look like cert_000001",
        ),
        (
            with(&base, &json!({"encryption_certificate_id": "cert_999999"})),
            "encryption_certificate_id",
            "The selected certificate does not exist",
        ),
        (
            with(&base, &json!({"auth": true, "auth_password": "p"})),
            "auth_user",
            "The authentication user is required when auth is enabled",
        ),
        (
            with(
                &base,
                &json!({"auth": true, "auth_user": "a:b", "auth_password": "p"}),
            ),
            "auth_user",
            "The authentication user must not contain a colon or control characters",
        ),
        (
            with(&base, &json!({"auth": true, "auth_user": "u"})),
            "auth_password",
            "The authentication password is required when auth is enabled",
        ),
        (
            with(&base, &json!({"firewall": true})),
            "allowed_networks",
            "At least one allowed network is required when the firewall is enabled",
        ),
        (
            with(&base, &json!({"allowed_networks": ["10.0.0.0/33"]})),
            "allowed_networks",
            "`10.0.0.0/33` is not an IP address or a network in CIDR notation",
        ),
        (
            with(&base, &json!({"allowed_networks": "10.0.0.0/8"})),
            "allowed_networks",
            "",
        ),
        (
            with(&base, &json!({"retry_attempts": -1})),
            "retry_attempts",
            "The retry attempts must be between 0 and 50",
        ),
        (
            with(&base, &json!({"retry_attempts": 51})),
            "retry_attempts",
            "The retry attempts must be between 0 and 50",
        ),
        (
            with(&base, &json!({"retry_interval": 0})),
            "retry_interval",
            "The retry interval must be between 1 and 86400 seconds",
        ),
        (
            with(&base, &json!({"retry_interval": 86_401})),
            "retry_interval",
            "The retry interval must be between 1 and 86400 seconds",
        ),
        (
            with(&base, &json!({"timeout": 0})),
            "timeout",
            "The timeout must be between 1 and 3600 seconds",
        ),
        (
            with(&base, &json!({"timeout": 3601})),
            "timeout",
            "The timeout must be between 1 and 3600 seconds",
        ),
        (
            with(&base, &json!({"station_id": "bogus"})),
            "station_id",
            "The station id must look like stn_000001",
        ),
        (
            with(&base, &json!({"station_id": "stn_999999"})),
            "station_id",
            "The selected station does not exist",
        ),
        (with(&base, &json!({"active": "yes"})), "active", ""),
        (
            with(&base, &json!({"colour": "red"})),
            "colour",
            "This field is not recognised",
        ),
    ];
    check_rules(&api, Method::POST, "/v1/partners", &key, cases.clone()).await;
    // the same rules hold for PUT, and for the fields PATCH changes
    let created = api.post("/v1/partners", base.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/partners/{id}");
    check_rules(&api, Method::PUT, &path, &key, cases).await;
    check_rules(
        &api,
        Method::PATCH,
        &path,
        &key,
        vec![
            (
                json!({"as2_id": "a b"}),
                "as2_id",
                "The AS2 ID must not contain spaces",
            ),
            (
                json!({"url": "ftp://x"}),
                "url",
                "The URL must be a valid http:// or https:// endpoint",
            ),
            (
                json!({"auth": true}),
                "auth_user",
                "The authentication user is required when auth is enabled",
            ),
            (
                json!({"timeout": 0}),
                "timeout",
                "The timeout must be between 1 and 3600 seconds",
            ),
        ],
    )
    .await;
    // live mode wants HTTPS for both URLs
    let live = api.live_key.clone();
    check_rules(
        &api,
        Method::POST,
        "/v1/partners",
        &live,
        vec![
            (
                with(&base, &json!({"url": "http://p.example/as2"})),
                "url",
                "The URL must be a valid HTTPS endpoint",
            ),
            (
                with(&base, &json!({"mdn_url": "http://p.example/mdn"})),
                "mdn_url",
                "The URL must be a valid HTTPS endpoint",
            ),
        ],
    )
    .await;
    assert_eq!(
        api.get("/v1/partners").await.body["total"],
        1,
        "nothing refused was written"
    );
    assert_eq!(api.get(&path).await.body["data"]["name"], "N");
}

#[tokio::test]
async fn a_partner_needs_a_station() {
    let api = TestApi::new();
    let station = api.get("/v1/stations").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = api.delete(&format!("/v1/stations/{station}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    let reply = api
        .post(
            "/v1/partners",
            json!({"name": "N", "as2_id": "A1", "url": "https://p.example/as2", "encrypt": false}),
        )
        .await;
    assert_rule(
        &reply,
        "station_id",
        "The tenant has no station yet; create one or name station_id",
        "no station",
    );
}

#[tokio::test]
async fn station_rules() {
    let api = TestApi::new();
    let key = api.key.clone();
    let public = public_certificate(&api).await;
    let base = json!({"name": "EU", "as2_id": "ACME-EU"});
    let cases = vec![
        (json!({"as2_id": "X"}), "name", "The name field is required"),
        (
            with(&base, &json!({"name": "n".repeat(256)})),
            "name",
            "The name must be at most 255 characters",
        ),
        (
            json!({"name": "X"}),
            "as2_id",
            "The AS2 ID field is required",
        ),
        (
            with(&base, &json!({"as2_id": "a b"})),
            "as2_id",
            "The AS2 ID must not contain spaces",
        ),
        (
            with(&base, &json!({"mdn_url": "nope"})),
            "mdn_url",
            "The URL must be a valid http:// or https:// endpoint",
        ),
        (
            with(&base, &json!({"certificate_id": "cert_x"})),
            "certificate_id",
            "The certificate id must look like cert_000001",
        ),
        (
            with(&base, &json!({"certificate_id": "cert_999999"})),
            "certificate_id",
            "The selected certificate does not exist",
        ),
        (
            with(&base, &json!({"certificate_id": public})),
            "certificate_id",
            "The certificate must be a key pair (certificate with its private key)",
        ),
        (
            with(&base, &json!({"encryption_certificate_id": "cert_999999"})),
            "encryption_certificate_id",
            "The selected certificate does not exist",
        ),
        (with(&base, &json!({"default": "yes"})), "default", ""),
    ];
    check_rules(&api, Method::POST, "/v1/stations", &key, cases).await;
    assert_eq!(api.get("/v1/stations").await.body["total"], 1);
    // seed 000's station call keeps the rules
    let legacy = vec![
        (
            json!({"name": "", "as2_id": "X"}),
            "name",
            "The name field is required",
        ),
        (
            json!({"name": "X", "as2_id": "a b"}),
            "as2_id",
            "The AS2 ID must not contain spaces",
        ),
        (
            json!({"name": "X", "as2_id": "X", "certificate_id": 999_999}),
            "certificate_id",
            "The selected certificate does not exist",
        ),
    ];
    check_rules(&api, Method::POST, "/api/v1/stations/create", &key, legacy).await;
}

#[tokio::test]
async fn legacy_partner_rules() {
    let api = TestApi::new();
    let key = api.key.clone();
    let station = api.post("/api/v1/stations", json!({})).await.body["data"][0]["id"]
        .as_i64()
        .unwrap();
    let base = json!({"station": station, "as2_id": "AS2:CLIENTE_001", "name": "Primary Customer",
                      "endpoint_url": "https://cliente.com/as2", "email": "as2@cliente.com"});
    let cases = vec![
        (
            with(&base, &json!({"station": null})),
            "station",
            "The station field is required",
        ),
        (
            with(&base, &json!({"station": 999_999})),
            "station",
            "The selected station does not exist",
        ),
        (
            with(&base, &json!({"email": null})),
            "email",
            "The email field is required",
        ),
        (
            with(&base, &json!({"email": "nope"})),
            "email",
            "The email must be a valid email address",
        ),
        (
            with(&base, &json!({"name": null})),
            "name",
            "The name field is required",
        ),
        (
            with(&base, &json!({"as2_id": null})),
            "as2_id",
            "The AS2 ID field is required",
        ),
        (
            with(&base, &json!({"as2_id": "a b"})),
            "as2_id",
            "The AS2 ID must not contain spaces",
        ),
        (
            with(&base, &json!({"endpoint_url": null})),
            "endpoint_url",
            "The URL field is required",
        ),
        (
            with(&base, &json!({"endpoint_url": "nope"})),
            "endpoint_url",
            "The URL must be a valid http:// or https:// endpoint",
        ),
        (
            with(&base, &json!({"mdn": 5})),
            "mdn",
            "The mdn must be 0 (none), 1 (sync), 2 (sync signed), 3 (async) or 4 (async signed)",
        ),
        (
            with(&base, &json!({"encryption": 7})),
            "encryption",
            "The encryption must be 0 (none) or 1–6 (3des, aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm)",
        ),
        (
            with(&base, &json!({"signature": 9})),
            "signature",
            "The signature must be 0 (none) or 1–4 (sha1, sha256, sha384, sha512)",
        ),
        (
            with(&base, &json!({"certificate_id": 999_999})),
            "certificate_id",
            "The selected certificate does not exist",
        ),
        (
            with(&base, &json!({"auth": true})),
            "auth_user",
            "The authentication user is required when auth is enabled",
        ),
        (
            with(&base, &json!({"auth": true, "auth_user": "u"})),
            "auth_password",
            "The authentication password is required when auth is enabled",
        ),
        (
            with(&base, &json!({"firewall": true})),
            "allowed_networks",
            "At least one allowed network is required when the firewall is enabled",
        ),
        (with(&base, &json!({"station": "one"})), "station", ""),
        (
            with(&base, &json!({"url": "https://cliente.com/as2"})),
            "url",
            "This field is not recognised",
        ),
    ];
    check_rules(&api, Method::POST, "/api/v1/partners/create", &key, cases).await;
    check_rules(
        &api,
        Method::POST,
        "/api/v1/partners/detail",
        &key,
        vec![
            (json!({}), "id", "The id field is required"),
            (json!({"id": 0}), "id", "The id must be a positive integer"),
        ],
    )
    .await;
    assert_eq!(api.get("/v1/partners").await.body["total"], 0);
}

#[tokio::test]
async fn certificate_rules() {
    let api = TestApi::new();
    let key = api.key.clone();
    let (_, cert) = key_and_certificate("CN=x", 30);
    let pem = cert.to_pem();
    let only_one = "Send only one of pem, der_base64 or pkcs12_base64";
    let cases = vec![
        (json!({"pem": pem}), "name", "The name field is required"),
        (
            json!({"name": " ", "pem": pem}),
            "name",
            "The name field is required",
        ),
        (
            json!({"name": "n".repeat(256), "pem": pem}),
            "name",
            "The name must be at most 255 characters",
        ),
        (
            json!({"name": "x"}),
            "pem",
            "One of pem, der_base64 or pkcs12_base64 is required",
        ),
        (
            json!({"name": "x", "pem": "  "}),
            "pem",
            "The pem field is empty",
        ),
        (
            json!({"name": "x", "pem": pem, "der_base64": "MAA="}),
            "der_base64",
            only_one,
        ),
        (
            json!({"name": "x", "pem": pem, "pkcs12_base64": "MAA=", "password": "p"}),
            "pkcs12_base64",
            only_one,
        ),
        (
            json!({"name": "x", "der_base64": "%%%"}),
            "der_base64",
            "The der_base64 field must be valid base64",
        ),
        (
            json!({"name": "x", "der_base64": ""}),
            "der_base64",
            "The der_base64 field is empty",
        ),
        (
            json!({"name": "x", "pkcs12_base64": "%%%", "password": "p"}),
            "pkcs12_base64",
            "The pkcs12_base64 field must be valid base64",
        ),
        (
            json!({"name": "x", "pkcs12_base64": "MAA="}),
            "password",
            "The password field is required with pkcs12_base64",
        ),
        (
            json!({"name": "x", "pem": pem, "colour": 1}),
            "colour",
            "This field is not recognised",
        ),
        (json!({"name": 1, "pem": pem}), "name", ""),
    ];
    check_rules(&api, Method::POST, "/v1/certificates", &key, cases).await;
    let generate = vec![
        (
            json!({"common_name": "c"}),
            "name",
            "The name field is required",
        ),
        (
            json!({"name": "x"}),
            "common_name",
            "The common name field is required",
        ),
        (
            json!({"name": "x", "common_name": "c".repeat(65)}),
            "common_name",
            "The common name must be at most 64 characters",
        ),
        (
            json!({"name": "x", "common_name": "a\nb"}),
            "common_name",
            "The common name must not contain control characters",
        ),
        (
            json!({"name": "x", "common_name": "c", "days": 0}),
            "days",
            "The days must be between 1 and 3650",
        ),
        (
            json!({"name": "x", "common_name": "c", "days": 3651}),
            "days",
            "The days must be between 1 and 3650",
        ),
        (
            json!({"name": "x", "common_name": "c", "key_size": 1024}),
            "key_size",
            "The key size must be 2048, 3072 or 4096",
        ),
        (
            json!({"name": "x", "common_name": "c", "days": "ten"}),
            "days",
            "",
        ),
    ];
    check_rules(
        &api,
        Method::POST,
        "/v1/certificates/generate",
        &key,
        generate,
    )
    .await;
    // multipart uploads
    let no_file = post_multipart(
        &api,
        "/v1/certificates",
        &[Part {
            name: "name",
            filename: None,
            content: b"x",
        }],
    )
    .await;
    assert_rule(
        &no_file,
        "file",
        "The file field is required",
        "multipart without file",
    );
    let empty = post_multipart(
        &api,
        "/v1/certificates",
        &[
            Part {
                name: "name",
                filename: None,
                content: b"x",
            },
            Part {
                name: "file",
                filename: Some("c.pem"),
                content: b"",
            },
        ],
    )
    .await;
    assert_rule(
        &empty,
        "file",
        "The file is empty",
        "multipart with an empty file",
    );
    let unnamed = post_multipart(
        &api,
        "/v1/certificates",
        &[Part {
            name: "file",
            filename: Some("c.pem"),
            content: pem.as_bytes(),
        }],
    )
    .await;
    assert_rule(
        &unnamed,
        "name",
        "The name field is required",
        "multipart without name",
    );
    let unknown = post_multipart(
        &api,
        "/v1/certificates",
        &[Part {
            name: "colour",
            filename: None,
            content: b"red",
        }],
    )
    .await;
    assert_rule(
        &unknown,
        "colour",
        "This field is not recognised",
        "multipart unknown field",
    );
    assert_eq!(api.get("/v1/certificates").await.body["total"], 0);
    // query parameters
    let stored = public_certificate(&api).await;
    for (path, field, sentence) in [
        (
            format!("/v1/certificates/{stored}/download?format=zip"),
            "format",
            "The format must be pem or der",
        ),
        (
            format!("/v1/certificates/{stored}/download?colour=red"),
            "colour",
            "Unknown query parameter `colour`",
        ),
        (
            "/v1/certificates?kind=bogus".to_owned(),
            "kind",
            "The kind must be certificate or key_pair",
        ),
        (
            "/v1/certificates?expires_soon=maybe".to_owned(),
            "expires_soon",
            "The expires soon filter must be true or false",
        ),
        (
            "/v1/certificates?per_page=101".to_owned(),
            "per_page",
            "The per page must be between 1 and 100",
        ),
        (
            "/v1/certificates?page=0".to_owned(),
            "page",
            "The page must be a positive integer",
        ),
        (
            "/v1/certificates?page=x".to_owned(),
            "page",
            "The page must be an integer",
        ),
    ] {
        assert_rule(&api.get(&path).await, field, sentence, &path);
    }
}

#[tokio::test]
async fn message_rules() {
    let api = TestApi::new();
    let key = api.key.clone();
    let partner = api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example.com/as2", "encrypt": false}),
        )
        .await;
    let partner = partner.body["data"]["id"].as_str().unwrap().to_owned();
    let paused = api
        .post(
            "/v1/partners",
            json!({"name": "Paused", "as2_id": "PAUSED", "url": "https://p.example/as2", "encrypt": false, "active": false}),
        )
        .await;
    let paused = paused.body["data"]["id"].as_str().unwrap().to_owned();
    let base = json!({"partner_id": partner, "content": "aGk="});
    let type_sentence = "The content type must be a MIME type such as application/edi-x12";
    let cases = vec![
        (
            with(&base, &json!({"partner_id": null})),
            "partner_id",
            "The partner id field is required",
        ),
        (
            with(&base, &json!({"partner_id": " "})),
            "partner_id",
            "The partner id field is required",
        ),
        (
            with(&base, &json!({"partner_id": "acme"})),
            "partner_id",
            "The partner id must look like prt_000001",
        ),
        (
            with(&base, &json!({"partner_id": "prt_999999"})),
            "partner_id",
            "The selected partner does not exist",
        ),
        (
            with(&base, &json!({"partner_id": paused})),
            "partner_id",
            "The selected partner is inactive; activate it before sending",
        ),
        (
            with(&base, &json!({"content": null})),
            "content",
            "The content field is required",
        ),
        (
            with(&base, &json!({"content": "%%%"})),
            "content",
            "The content must be valid base64",
        ),
        (
            with(&base, &json!({"content": ""})),
            "content",
            "The content must not be empty",
        ),
        (with(&base, &json!({"content": 5})), "content", ""),
        (
            with(&base, &json!({"filename": "f".repeat(256)})),
            "filename",
            "The filename must be at most 255 characters",
        ),
        (
            with(&base, &json!({"filename": "../etc/passwd"})),
            "filename",
            "The filename must not contain path separators or control characters",
        ),
        (
            with(&base, &json!({"filename": "a\\b"})),
            "filename",
            "The filename must not contain path separators or control characters",
        ),
        (
            with(&base, &json!({"filename": "a\u{0}b"})),
            "filename",
            "The filename must not contain path separators or control characters",
        ),
        (
            with(&base, &json!({"content_type": "nonsense"})),
            "content_type",
            type_sentence,
        ),
        (
            with(&base, &json!({"content_type": "text/pl ain"})),
            "content_type",
            type_sentence,
        ),
        (
            with(
                &base,
                &json!({"content_type": format!("text/{}", "x".repeat(300))}),
            ),
            "content_type",
            type_sentence,
        ),
        (
            with(&base, &json!({"subject": "s".repeat(999)})),
            "subject",
            "The subject must be at most 998 characters",
        ),
        (
            with(&base, &json!({"subject": "a\r\nBcc: x"})),
            "subject",
            "The subject must not contain control characters",
        ),
        (
            with(&base, &json!({"colour": "red"})),
            "colour",
            "This field is not recognised",
        ),
    ];
    check_rules(&api, Method::POST, "/v1/messages", &key, cases).await;
    // a partner of the other mode does not exist for a live key
    let live = api.live_key.clone();
    check_rules(
        &api,
        Method::POST,
        "/v1/messages",
        &live,
        vec![(
            base.clone(),
            "partner_id",
            "The selected partner does not exist",
        )],
    )
    .await;
    // multipart
    let no_file = post_multipart(
        &api,
        "/v1/messages",
        &[Part {
            name: "partner_id",
            filename: None,
            content: partner.as_bytes(),
        }],
    )
    .await;
    assert_rule(
        &no_file,
        "file",
        "The file field is required",
        "multipart without file",
    );
    let empty = post_multipart(
        &api,
        "/v1/messages",
        &[
            Part {
                name: "partner_id",
                filename: None,
                content: partner.as_bytes(),
            },
            Part {
                name: "file",
                filename: Some("a.edi"),
                content: b"",
            },
        ],
    )
    .await;
    assert_rule(
        &empty,
        "file",
        "The file must not be empty",
        "multipart with an empty file",
    );
    let two = post_multipart(
        &api,
        "/v1/messages",
        &[
            Part {
                name: "partner_id",
                filename: None,
                content: partner.as_bytes(),
            },
            Part {
                name: "file",
                filename: Some("a.edi"),
                content: b"a",
            },
            Part {
                name: "file",
                filename: Some("b.edi"),
                content: b"b",
            },
        ],
    )
    .await;
    assert_rule(
        &two,
        "file",
        "Send only one file",
        "multipart with two files",
    );
    let unknown = post_multipart(
        &api,
        "/v1/messages",
        &[
            Part {
                name: "partner_id",
                filename: None,
                content: partner.as_bytes(),
            },
            Part {
                name: "colour",
                filename: None,
                content: b"red",
            },
        ],
    )
    .await;
    assert_rule(
        &unknown,
        "colour",
        "This field is not recognised",
        "multipart unknown field",
    );
    let bad_partner = post_multipart(
        &api,
        "/v1/messages",
        &[
            Part {
                name: "partner_id",
                filename: None,
                content: b"acme",
            },
            Part {
                name: "file",
                filename: Some("a.edi"),
                content: b"a",
            },
        ],
    )
    .await;
    assert_rule(
        &bad_partner,
        "partner_id",
        "The partner id must look like prt_000001",
        "multipart bad partner",
    );
    assert_eq!(
        api.get("/v1/messages").await.body["total"],
        0,
        "nothing refused was queued"
    );
    // list filters
    let time_sentence = |name: &str| {
        format!("The {name} must be an ISO 8601 date-time such as 2024-01-15T10:30:00Z")
    };
    for (query, field, sentence) in [
        (
            "status=lost",
            "status",
            "The status must be one of queued, processing, sent, delivered, failed, received"
                .to_owned(),
        ),
        (
            "direction=sideways",
            "direction",
            "The direction must be inbound or outbound".to_owned(),
        ),
        (
            "partner_id=acme",
            "partner_id",
            "The partner id must look like prt_000001".to_owned(),
        ),
        (
            "created_after=yesterday",
            "created_after",
            time_sentence("created after"),
        ),
        (
            "created_before=2024-13-01",
            "created_before",
            time_sentence("created before"),
        ),
        (
            "created_after=2024-02-01T00:00:00Z&created_before=2024-01-01T00:00:00Z",
            "created_before",
            "The created before time must not be earlier than created after".to_owned(),
        ),
        (
            "page=0",
            "page",
            "The page must be a positive integer".to_owned(),
        ),
        (
            "per_page=0",
            "per_page",
            "The per page must be between 1 and 100".to_owned(),
        ),
        (
            "per_page=101",
            "per_page",
            "The per page must be between 1 and 100".to_owned(),
        ),
        (
            "sort=asc",
            "sort",
            "Unknown query parameter `sort`".to_owned(),
        ),
    ] {
        let path = format!("/v1/messages?{query}");
        assert_rule(&api.get(&path).await, field, &sentence, &path);
    }
}

#[tokio::test]
async fn webhook_rules() {
    let api = TestApi::new();
    let key = api.key.clone();
    let base = json!({"url": "https://hooks.example.com/in", "events": ["message.delivered"]});
    let cases = vec![
        (
            with(&base, &json!({"url": null})),
            "url",
            "The URL field is required",
        ),
        (
            with(&base, &json!({"url": "not a url"})),
            "url",
            "The URL must be a valid http:// or https:// endpoint",
        ),
        (
            with(&base, &json!({"url": "https://ho st/in"})),
            "url",
            "The URL must be a valid URL with a host name",
        ),
        (
            with(&base, &json!({"events": null})),
            "events",
            "The events field is required",
        ),
        (
            with(&base, &json!({"events": []})),
            "events",
            "At least one event is required",
        ),
        (
            with(&base, &json!({"events": ["message.lost"]})),
            "events",
            "`message.lost` is not a known event",
        ),
        (
            with(&base, &json!({"events": ["nothing.*"]})),
            "events",
            "`nothing.*` is not a known event",
        ),
        (
            with(&base, &json!({"events": "message.queued"})),
            "events",
            "",
        ),
        (
            with(&base, &json!({"description": "d".repeat(1001)})),
            "description",
            "The description must be at most 1000 characters",
        ),
        (with(&base, &json!({"active": "yes"})), "active", ""),
        (
            with(&base, &json!({"secret": "mine"})),
            "secret",
            "This field is not recognised",
        ),
    ];
    check_rules(&api, Method::POST, "/v1/webhook-endpoints", &key, cases).await;
    let live = api.live_key.clone();
    check_rules(
        &api,
        Method::POST,
        "/v1/webhook-endpoints",
        &live,
        vec![(
            with(&base, &json!({"url": "http://hooks.example.com/in"})),
            "url",
            "The URL must be a valid HTTPS endpoint",
        )],
    )
    .await;
    let created = api.post("/v1/webhook-endpoints", base).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let path = format!(
        "/v1/webhook-endpoints/{}",
        created.body["data"]["id"].as_str().unwrap()
    );
    check_rules(
        &api,
        Method::PATCH,
        &path,
        &key,
        vec![
            (
                json!({"url": "ftp://x"}),
                "url",
                "The URL must be a valid http:// or https:// endpoint",
            ),
            (
                json!({"events": []}),
                "events",
                "At least one event is required",
            ),
            (
                json!({"events": ["x"]}),
                "events",
                "`x` is not a known event",
            ),
            (
                json!({"description": "d".repeat(1001)}),
                "description",
                "The description must be at most 1000 characters",
            ),
        ],
    )
    .await;
    assert_eq!(
        api.get(&path).await.body["data"]["url"],
        "https://hooks.example.com/in"
    );
    assert_rule(
        &api.get(&format!("{path}/deliveries?per_page=0")).await,
        "per_page",
        "The per page must be between 1 and 100",
        "deliveries per_page",
    );
}

#[tokio::test]
async fn tenant_and_key_rules() {
    let api = TestApi::new();
    let key = api.key.clone();
    check_rules(
        &api,
        Method::POST,
        "/v1/tenants",
        &key,
        vec![
            (json!({"name": ""}), "name", ""),
            (json!({"name": "n".repeat(256)}), "name", ""),
            (json!({}), "name", "This field is required"),
        ],
    )
    .await;
    check_rules(
        &api,
        Method::POST,
        "/v1/api-keys",
        &key,
        vec![
            (json!({"name": ""}), "name", "The name field is required"),
            (
                json!({"name": "k", "kind": "zz"}),
                "kind",
                "The kind must be `tk` (tenant key) or `pk` (account key)",
            ),
            (
                json!({"name": "k", "mode": "prod"}),
                "mode",
                "The mode must be `test` or `live`",
            ),
            (
                json!({"name": "k", "scopes": ["root"]}),
                "scopes",
                "The scopes must be a non-empty list of read, write, delete, admin",
            ),
            (
                json!({"name": "k", "scopes": []}),
                "scopes",
                "The scopes must be a non-empty list of read, write, delete, admin",
            ),
        ],
    )
    .await;
    let tenant_key = api.key_with(
        &[
            as2_domain::api_key::Scope::Read,
            as2_domain::api_key::Scope::Write,
            as2_domain::api_key::Scope::Admin,
        ],
        as2_domain::Mode::Test,
    );
    check_rules(
        &api,
        Method::POST,
        "/v1/api-keys",
        &tenant_key,
        vec![(
            json!({"name": "k", "kind": "pk"}),
            "kind",
            "A tenant key cannot create account keys",
        )],
    )
    .await;
}

#[tokio::test]
async fn bodies_that_cannot_be_read_are_clear_4xx() {
    let api = TestApi::new();
    let raw = |path: &str, content_type: &str, body: Vec<u8>| {
        axum::http::Request::post(path)
            .header("authorization", format!("Bearer {}", api.key))
            .header("content-type", content_type)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    for path in [
        "/v1/partners",
        "/v1/stations",
        "/v1/certificates",
        "/v1/certificates/generate",
        "/v1/messages",
        "/v1/webhook-endpoints",
        "/v1/tenants",
        "/v1/api-keys",
        "/api/v1/partners/create",
        "/api/v1/messages/send",
    ] {
        for (content_type, body, status, code) in [
            (
                "application/json",
                b"{\"name\": ".to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_json",
            ),
            (
                "application/json",
                b"[1, 2]".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                "text/plain",
                b"name=x".to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
        ] {
            let reply = api.send(raw(path, content_type, body)).await;
            assert_eq!(
                reply.status, status,
                "{path} {content_type}: {:?}",
                reply.body
            );
            let code_field = if path.starts_with("/api/") {
                &reply.body["code"]
            } else {
                &reply.body["error"]["code"]
            };
            assert_eq!(code_field, code, "{path}: {:?}", reply.body);
        }
    }
    let huge = api
        .send(raw(
            "/v1/partners",
            "application/json",
            vec![b' '; 65 * 1024 * 1024],
        ))
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.body["error"]["code"], "payload_too_large");
    let empty = api
        .send(raw("/v1/partners", "application/json", Vec::new()))
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{:?}", empty.body);
}
