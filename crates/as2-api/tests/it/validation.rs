//! Every validation rule of partners, stations, certificates, messages, webhooks, tenants
//! and the seed-000 partner call, one request per rule: each answers 422 with the field
//! named and the sentence that says what is wrong, and nothing is written. The answers are
//! snapshots (`snapshots/it__validation__<test>.snap`): a change to a sentence shows up in
//! review.

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

/// The 422s of one test, in order, for one snapshot (`snapshots/it__validation__*.snap`):
/// each rule's request, the field it must name, and the whole answer, whose sentences a
/// person reads.
struct Rules<'a> {
    api: &'a TestApi,
    /// Ids this test created, shown as `[id]` (they depend on what ran before).
    ids: Vec<String>,
    seen: Vec<Seen>,
}

/// One rule as the snapshot shows it.
#[derive(serde::Serialize)]
struct Seen {
    request: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
    field: String,
    answer: Value,
}

impl<'a> Rules<'a> {
    fn new(api: &'a TestApi) -> Self {
        Self {
            api,
            ids: Vec::new(),
            seen: Vec::new(),
        }
    }

    fn redact(&self, text: &str) -> String {
        self.ids
            .iter()
            .fold(text.to_owned(), |t, id| t.replace(id.as_str(), "[id]"))
    }

    /// Asserts a 422 that names `field`, in the envelope of its surface, and records the
    /// answer to `request` (`"METHOD path"`, and a note where the body is not JSON).
    fn check(&mut self, reply: &Reply, field: &str, request: &str, body: Option<&Value>) {
        let context = format!(
            "{request} {}",
            body.map(Value::to_string).unwrap_or_default()
        );
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{context}: {:?}",
            reply.body
        );
        assert!(
            reply.body["errors"][field]
                .as_array()
                .is_some_and(|s| !s.is_empty()),
            "{context}: {field} not named in {:?}",
            reply.body
        );
        if reply.body.get("error").is_some() {
            assert_eq!(reply.body["error"]["type"], "validation_error");
            assert_eq!(reply.body["message"], "Validation failed", "{context}");
        } else {
            assert_eq!(reply.body["status"], "error");
        }
        self.seen.push(Seen {
            request: self.redact(request),
            body: body
                .map(|b| shorten(serde_json::from_str(&self.redact(&b.to_string())).unwrap())),
            field: field.to_owned(),
            answer: reply.body.clone(),
        });
    }

    /// Runs each `(body, field)` against `method path` with `key`.
    async fn cases(&mut self, method: Method, path: &str, key: &str, cases: Vec<(Value, &str)>) {
        for (body, field) in cases {
            let reply = self
                .api
                .call(method.clone(), path, Some(key), Some(body.clone()))
                .await;
            self.check(&reply, field, &format!("{method} {path}"), Some(&body));
        }
    }

    /// A rule of the query string: `GET path` names `field`.
    async fn get(&mut self, path: &str, field: &str) {
        let reply = self.api.get(path).await;
        self.check(&reply, field, &format!("GET {path}"), None);
    }

    /// Compares what was seen with the snapshot `name`; the random PEM of a request is
    /// redacted.
    fn snapshot(self, name: &str) {
        insta::assert_json_snapshot!(name, self.seen, {
            "[].body.pem" => "[pem]",
        });
    }
}

/// Long strings of a request shortened to their first characters and their length.
fn shorten(value: Value) -> Value {
    match value {
        Value::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(8).collect();
            Value::String(format!("{head}… ({} characters)", s.chars().count()))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(shorten).collect()),
        Value::Object(fields) => {
            Value::Object(fields.into_iter().map(|(k, v)| (k, shorten(v))).collect())
        }
        other => other,
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
    let mut rules = Rules::new(&api);
    let key = api.key.clone();
    let base =
        json!({"name": "N", "as2_id": "A1", "url": "https://p.example/as2", "encrypt": false});
    let cases = vec![
        (with(&base, &json!({"name": null})), "name"),
        (with(&base, &json!({"name": "  "})), "name"),
        (with(&base, &json!({"name": "n".repeat(256)})), "name"),
        (with(&base, &json!({"name": "a\u{7}b"})), "name"),
        (with(&base, &json!({"name": 5})), "name"),
        (with(&base, &json!({"as2_id": null})), "as2_id"),
        (with(&base, &json!({"as2_id": ""})), "as2_id"),
        (with(&base, &json!({"as2_id": "x".repeat(129)})), "as2_id"),
        (with(&base, &json!({"as2_id": "has space"})), "as2_id"),
        (with(&base, &json!({"as2_id": "ümlaut"})), "as2_id"),
        (with(&base, &json!({"as2_id": "q\"uote"})), "as2_id"),
        (with(&base, &json!({"url": null})), "url"),
        (with(&base, &json!({"url": "ftp://p.example/as2"})), "url"),
        (with(&base, &json!({"url": "https://ho st/as2"})), "url"),
        (
            with(&base, &json!({"url": "https://p.example:99999/as2"})),
            "url",
        ),
        (
            with(&base, &json!({"url": null, "endpoint_url": "nope"})),
            "url",
        ),
        (with(&base, &json!({"email": "nope"})), "email"),
        (with(&base, &json!({"mdn_url": "mailto:x"})), "mdn_url"),
        (
            with(&base, &json!({"sign_algorithm": "md5"})),
            "sign_algorithm",
        ),
        (
            with(&base, &json!({"encrypt_algorithm": "rot13"})),
            "encrypt_algorithm",
        ),
        (with(&base, &json!({"mdn_mode": "sometimes"})), "mdn_mode"),
        (
            with(&base, &json!({"certificate_id": "cert_x"})),
            "certificate_id",
        ),
        (
            with(&base, &json!({"certificate_id": "cert_999999"})),
            "certificate_id",
        ),
        (
            with(&base, &json!({"encryption_certificate_id": "x"})),
            "encryption_certificate_id",
        ),
        (
            with(&base, &json!({"encryption_certificate_id": "cert_999999"})),
            "encryption_certificate_id",
        ),
        (
            with(&base, &json!({"auth": true, "auth_password": "p"})),
            "auth_user",
        ),
        (
            with(
                &base,
                &json!({"auth": true, "auth_user": "a:b", "auth_password": "p"}),
            ),
            "auth_user",
        ),
        (
            with(&base, &json!({"auth": true, "auth_user": "u"})),
            "auth_password",
        ),
        (with(&base, &json!({"firewall": true})), "allowed_networks"),
        (
            with(&base, &json!({"allowed_networks": ["10.0.0.0/33"]})),
            "allowed_networks",
        ),
        (
            with(&base, &json!({"allowed_networks": "10.0.0.0/8"})),
            "allowed_networks",
        ),
        (
            with(&base, &json!({"retry_attempts": -1})),
            "retry_attempts",
        ),
        (
            with(&base, &json!({"retry_attempts": 51})),
            "retry_attempts",
        ),
        (with(&base, &json!({"retry_interval": 0})), "retry_interval"),
        (
            with(&base, &json!({"retry_interval": 86_401})),
            "retry_interval",
        ),
        (with(&base, &json!({"timeout": 0})), "timeout"),
        (with(&base, &json!({"timeout": 3601})), "timeout"),
        (with(&base, &json!({"station_id": "bogus"})), "station_id"),
        (
            with(&base, &json!({"station_id": "stn_999999"})),
            "station_id",
        ),
        (with(&base, &json!({"active": "yes"})), "active"),
        (with(&base, &json!({"colour": "red"})), "colour"),
    ];
    rules
        .cases(Method::POST, "/v1/partners", &key, cases.clone())
        .await;
    // the same rules hold for PUT, and for the fields PATCH changes
    let created = api.post("/v1/partners", base.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    rules.ids.push(id.clone());
    let path = format!("/v1/partners/{id}");
    rules.cases(Method::PUT, &path, &key, cases).await;
    rules
        .cases(
            Method::PATCH,
            &path,
            &key,
            vec![
                (json!({"as2_id": "a b"}), "as2_id"),
                (json!({"url": "ftp://x"}), "url"),
                (json!({"auth": true}), "auth_user"),
                (json!({"timeout": 0}), "timeout"),
            ],
        )
        .await;
    // live mode wants HTTPS for both URLs
    let live = api.live_key.clone();
    rules
        .cases(
            Method::POST,
            "/v1/partners",
            &live,
            vec![
                (with(&base, &json!({"url": "http://p.example/as2"})), "url"),
                (
                    with(&base, &json!({"mdn_url": "http://p.example/mdn"})),
                    "mdn_url",
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
    rules.snapshot("partner_rules");
}

#[tokio::test]
async fn a_partner_needs_a_station() {
    let api = TestApi::new();
    let mut rules = Rules::new(&api);
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
    rules.check(&reply, "station_id", "POST /v1/partners (no station)", None);
    rules.snapshot("a_partner_needs_a_station");
}

#[tokio::test]
async fn station_rules() {
    let api = TestApi::new();
    let mut rules = Rules::new(&api);
    let key = api.key.clone();
    let public = public_certificate(&api).await;
    rules.ids.push(public.clone());
    let base = json!({"name": "EU", "as2_id": "ACME-EU"});
    let cases = vec![
        (json!({"as2_id": "X"}), "name"),
        (with(&base, &json!({"name": "n".repeat(256)})), "name"),
        (json!({"name": "X"}), "as2_id"),
        (with(&base, &json!({"as2_id": "a b"})), "as2_id"),
        (with(&base, &json!({"mdn_url": "nope"})), "mdn_url"),
        (
            with(&base, &json!({"certificate_id": "cert_x"})),
            "certificate_id",
        ),
        (
            with(&base, &json!({"certificate_id": "cert_999999"})),
            "certificate_id",
        ),
        (
            with(&base, &json!({"certificate_id": public})),
            "certificate_id",
        ),
        (
            with(&base, &json!({"encryption_certificate_id": "cert_999999"})),
            "encryption_certificate_id",
        ),
        (with(&base, &json!({"default": "yes"})), "default"),
    ];
    rules.cases(Method::POST, "/v1/stations", &key, cases).await;
    assert_eq!(api.get("/v1/stations").await.body["total"], 1);
    // seed 000's station call keeps the rules
    let legacy = vec![
        (json!({"name": "", "as2_id": "X"}), "name"),
        (json!({"name": "X", "as2_id": "a b"}), "as2_id"),
        (
            json!({"name": "X", "as2_id": "X", "certificate_id": 999_999}),
            "certificate_id",
        ),
    ];
    rules
        .cases(Method::POST, "/api/v1/stations/create", &key, legacy)
        .await;
    rules.snapshot("station_rules");
}

#[tokio::test]
async fn legacy_partner_rules() {
    let api = TestApi::new();
    let mut rules = Rules::new(&api);
    let key = api.key.clone();
    let station = api.post("/api/v1/stations", json!({})).await.body["data"][0]["id"]
        .as_i64()
        .unwrap();
    let base = json!({"station": station, "as2_id": "AS2:CLIENTE_001", "name": "Primary Customer",
                      "endpoint_url": "https://cliente.com/as2", "email": "as2@cliente.com"});
    let cases = vec![
        (with(&base, &json!({"station": null})), "station"),
        (with(&base, &json!({"station": 999_999})), "station"),
        (with(&base, &json!({"email": null})), "email"),
        (with(&base, &json!({"email": "nope"})), "email"),
        (with(&base, &json!({"name": null})), "name"),
        (with(&base, &json!({"as2_id": null})), "as2_id"),
        (with(&base, &json!({"as2_id": "a b"})), "as2_id"),
        (with(&base, &json!({"endpoint_url": ""})), "endpoint_url"),
        (
            with(&base, &json!({"endpoint_url": "nope"})),
            "endpoint_url",
        ),
        (with(&base, &json!({"mdn": 5})), "mdn"),
        (with(&base, &json!({"encryption": 7})), "encryption"),
        (with(&base, &json!({"signature": 9})), "signature"),
        (
            with(&base, &json!({"certificate_id": 999_999})),
            "certificate_id",
        ),
        (with(&base, &json!({"auth": true})), "auth_user"),
        (
            with(&base, &json!({"auth": true, "auth_user": "u"})),
            "auth_password",
        ),
        // `firewall: true` allows the endpoint's addresses; a name that resolves to none
        (
            with(
                &base,
                &json!({"firewall": true, "endpoint_url": "https://cliente.invalid/as2"}),
            ),
            "firewall",
        ),
        (
            with(
                &base,
                &json!({"firewall": true, "allowed_networks": ["nope"]}),
            ),
            "allowed_networks",
        ),
        (with(&base, &json!({"station": "one"})), "station"),
        (
            with(&base, &json!({"url": "https://cliente.com/as2"})),
            "url",
        ),
    ];
    rules
        .cases(Method::POST, "/api/v1/partners/create", &key, cases)
        .await;
    rules
        .cases(
            Method::POST,
            "/api/v1/partners/detail",
            &key,
            vec![(json!({}), "id"), (json!({"id": 0}), "id")],
        )
        .await;
    assert_eq!(api.get("/v1/partners").await.body["total"], 0);
    rules.snapshot("legacy_partner_rules");
}

#[tokio::test]
async fn certificate_rules() {
    let api = TestApi::new();
    let mut rules = Rules::new(&api);
    let key = api.key.clone();
    let (_, cert) = key_and_certificate("CN=x", 30);
    let pem = cert.to_pem();
    let cases = vec![
        (json!({"pem": pem}), "name"),
        (json!({"name": " ", "pem": pem}), "name"),
        (json!({"name": "n".repeat(256), "pem": pem}), "name"),
        (json!({"name": "x"}), "pem"),
        (json!({"name": "x", "pem": "  "}), "pem"),
        (
            json!({"name": "x", "pem": pem, "der_base64": "MAA="}),
            "der_base64",
        ),
        (
            json!({"name": "x", "pem": pem, "pkcs12_base64": "MAA=", "password": "p"}),
            "pkcs12_base64",
        ),
        (json!({"name": "x", "der_base64": "%%%"}), "der_base64"),
        (json!({"name": "x", "der_base64": ""}), "der_base64"),
        (
            json!({"name": "x", "pkcs12_base64": "%%%", "password": "p"}),
            "pkcs12_base64",
        ),
        (json!({"name": "x", "pkcs12_base64": "MAA="}), "password"),
        (json!({"name": "x", "pem": pem, "colour": 1}), "colour"),
        (json!({"name": 1, "pem": pem}), "name"),
    ];
    rules
        .cases(Method::POST, "/v1/certificates", &key, cases)
        .await;
    let generate = vec![
        (json!({"common_name": "c"}), "name"),
        (json!({"name": "x"}), "common_name"),
        (
            json!({"name": "x", "common_name": "c".repeat(65)}),
            "common_name",
        ),
        (json!({"name": "x", "common_name": "a\nb"}), "common_name"),
        (json!({"name": "x", "common_name": "c", "days": 0}), "days"),
        (
            json!({"name": "x", "common_name": "c", "days": 3651}),
            "days",
        ),
        (
            json!({"name": "x", "common_name": "c", "key_size": 1024}),
            "key_size",
        ),
        (
            json!({"name": "x", "common_name": "c", "days": "ten"}),
            "days",
        ),
    ];
    rules
        .cases(Method::POST, "/v1/certificates/generate", &key, generate)
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
    rules.check(
        &no_file,
        "file",
        "POST /v1/certificates (multipart without file)",
        None,
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
    rules.check(
        &empty,
        "file",
        "POST /v1/certificates (multipart with an empty file)",
        None,
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
    rules.check(
        &unnamed,
        "name",
        "POST /v1/certificates (multipart without name)",
        None,
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
    rules.check(
        &unknown,
        "colour",
        "POST /v1/certificates (multipart unknown field)",
        None,
    );
    assert_eq!(api.get("/v1/certificates").await.body["total"], 0);
    // query parameters
    let stored = public_certificate(&api).await;
    rules.ids.push(stored.clone());
    for (path, field) in [
        (
            format!("/v1/certificates/{stored}/download?format=zip"),
            "format",
        ),
        (
            format!("/v1/certificates/{stored}/download?colour=red"),
            "colour",
        ),
        ("/v1/certificates?kind=bogus".to_owned(), "kind"),
        (
            "/v1/certificates?expires_soon=maybe".to_owned(),
            "expires_soon",
        ),
        ("/v1/certificates?per_page=101".to_owned(), "per_page"),
        ("/v1/certificates?page=0".to_owned(), "page"),
        ("/v1/certificates?page=x".to_owned(), "page"),
    ] {
        rules.get(&path, field).await;
    }
    rules.snapshot("certificate_rules");
}

#[tokio::test]
async fn message_rules() {
    let api = TestApi::new();
    let mut rules = Rules::new(&api);
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
    rules.ids.extend([partner.clone(), paused.clone()]);
    let base = json!({"partner_id": partner, "content": "aGk="});
    let cases = vec![
        (with(&base, &json!({"partner_id": null})), "partner_id"),
        (with(&base, &json!({"partner_id": " "})), "partner_id"),
        (with(&base, &json!({"partner_id": "acme"})), "partner_id"),
        (
            with(&base, &json!({"partner_id": "prt_999999"})),
            "partner_id",
        ),
        (with(&base, &json!({"partner_id": paused})), "partner_id"),
        (with(&base, &json!({"content": null})), "content"),
        (with(&base, &json!({"content": "%%%"})), "content"),
        (with(&base, &json!({"content": ""})), "content"),
        (with(&base, &json!({"content": 5})), "content"),
        (
            with(&base, &json!({"filename": "f".repeat(256)})),
            "filename",
        ),
        (
            with(&base, &json!({"filename": "../etc/passwd"})),
            "filename",
        ),
        (with(&base, &json!({"filename": "a\\b"})), "filename"),
        (with(&base, &json!({"filename": "a\u{0}b"})), "filename"),
        (
            with(&base, &json!({"content_type": "nonsense"})),
            "content_type",
        ),
        (
            with(&base, &json!({"content_type": "text/pl ain"})),
            "content_type",
        ),
        (
            with(
                &base,
                &json!({"content_type": format!("text/{}", "x".repeat(300))}),
            ),
            "content_type",
        ),
        (with(&base, &json!({"subject": "s".repeat(999)})), "subject"),
        (with(&base, &json!({"subject": "a\r\nBcc: x"})), "subject"),
        (with(&base, &json!({"colour": "red"})), "colour"),
    ];
    rules.cases(Method::POST, "/v1/messages", &key, cases).await;
    // a partner of the other mode does not exist for a live key
    let live = api.live_key.clone();
    rules
        .cases(
            Method::POST,
            "/v1/messages",
            &live,
            vec![(base.clone(), "partner_id")],
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
    rules.check(
        &no_file,
        "file",
        "POST /v1/messages (multipart without file)",
        None,
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
    rules.check(
        &empty,
        "file",
        "POST /v1/messages (multipart with an empty file)",
        None,
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
    rules.check(
        &two,
        "file",
        "POST /v1/messages (multipart with two files)",
        None,
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
    rules.check(
        &unknown,
        "colour",
        "POST /v1/messages (multipart unknown field)",
        None,
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
    rules.check(
        &bad_partner,
        "partner_id",
        "POST /v1/messages (multipart bad partner)",
        None,
    );
    assert_eq!(
        api.get("/v1/messages").await.body["total"],
        0,
        "nothing refused was queued"
    );
    // list filters
    for (query, field) in [
        ("status=lost", "status"),
        ("direction=sideways", "direction"),
        ("partner_id=acme", "partner_id"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2024-13-01", "created_before"),
        (
            "created_after=2024-02-01T00:00:00Z&created_before=2024-01-01T00:00:00Z",
            "created_before",
        ),
        ("page=0", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("sort=asc", "sort"),
    ] {
        let path = format!("/v1/messages?{query}");
        rules.get(&path, field).await;
    }
    rules.snapshot("message_rules");
}

#[tokio::test]
async fn webhook_rules() {
    let api = TestApi::new();
    let mut rules = Rules::new(&api);
    let key = api.key.clone();
    let base = json!({"url": "https://hooks.example.com/in", "events": ["message.delivered"]});
    let cases = vec![
        (with(&base, &json!({"url": null})), "url"),
        (with(&base, &json!({"url": "not a url"})), "url"),
        (with(&base, &json!({"url": "https://ho st/in"})), "url"),
        (with(&base, &json!({"events": null})), "events"),
        (with(&base, &json!({"events": []})), "events"),
        (with(&base, &json!({"events": ["message.lost"]})), "events"),
        (with(&base, &json!({"events": ["nothing.*"]})), "events"),
        (with(&base, &json!({"events": "message.queued"})), "events"),
        (
            with(&base, &json!({"description": "d".repeat(1001)})),
            "description",
        ),
        (with(&base, &json!({"active": "yes"})), "active"),
        (with(&base, &json!({"secret": "mine"})), "secret"),
    ];
    rules
        .cases(Method::POST, "/v1/webhook-endpoints", &key, cases)
        .await;
    let live = api.live_key.clone();
    rules
        .cases(
            Method::POST,
            "/v1/webhook-endpoints",
            &live,
            vec![(
                with(&base, &json!({"url": "http://hooks.example.com/in"})),
                "url",
            )],
        )
        .await;
    let created = api.post("/v1/webhook-endpoints", base).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    rules.ids.push(id.clone());
    let path = format!("/v1/webhook-endpoints/{id}");
    rules
        .cases(
            Method::PATCH,
            &path,
            &key,
            vec![
                (json!({"url": "ftp://x"}), "url"),
                (json!({"events": []}), "events"),
                (json!({"events": ["x"]}), "events"),
                (json!({"description": "d".repeat(1001)}), "description"),
            ],
        )
        .await;
    assert_eq!(
        api.get(&path).await.body["data"]["url"],
        "https://hooks.example.com/in"
    );
    rules
        .get(&format!("{path}/deliveries?per_page=0"), "per_page")
        .await;
    rules.snapshot("webhook_rules");
}

#[tokio::test]
async fn tenant_and_key_rules() {
    let api = TestApi::new();
    let mut rules = Rules::new(&api);
    let key = api.key.clone();
    rules
        .cases(
            Method::POST,
            "/v1/tenants",
            &key,
            vec![
                (json!({"name": ""}), "name"),
                (json!({"name": "n".repeat(256)}), "name"),
                (json!({}), "name"),
            ],
        )
        .await;
    rules
        .cases(
            Method::POST,
            "/v1/api-keys",
            &key,
            vec![
                (json!({"name": ""}), "name"),
                (json!({"name": "k", "kind": "zz"}), "kind"),
                (json!({"name": "k", "mode": "prod"}), "mode"),
                (json!({"name": "k", "scopes": ["root"]}), "scopes"),
                (json!({"name": "k", "scopes": []}), "scopes"),
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
    rules
        .cases(
            Method::POST,
            "/v1/api-keys",
            &tenant_key,
            vec![(json!({"name": "k", "kind": "pk"}), "kind")],
        )
        .await;
    rules.snapshot("tenant_and_key_rules");
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
