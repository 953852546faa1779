//! `/v1/messages` and `/v1/usage`: sending (JSON and multipart), the stored payload and job,
//! filters, MDN, timeline, retry, size limits, validation and tenant scoping.

use crate::common::*;
use crate::upload::*;
use as2_api::{ApiConfig, AppState, router};
use as2_domain::Mode;
use as2_domain::id::MessageId;
use as2_domain::job::JobKind;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{ErrorKind, MessageError, MessageStatus};
use as2_store::Scope;
use as2_store::payload::PayloadStore;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use serde_json::json;
use tower::ServiceExt as _;

const EDI: &[u8] = b"ISA*00*          *00*          *ZZ*ACME~IEA*1*000000001~";

async fn partner(api: &TestApi) -> String {
    let reply = api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example.com/as2", "encrypt": false}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn send(api: &TestApi, partner: &str) -> serde_json::Value {
    let reply = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": STANDARD.encode(EDI), "filename": "invoice.edi", "subject": "Invoice 42"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    reply.body["data"].clone()
}

fn scope(api: &TestApi) -> Scope {
    Scope::new(api.tenant, Mode::Test)
}

fn message_id(data: &serde_json::Value) -> MessageId {
    data["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn create_stores_the_payload_and_enqueues_a_job() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let reply = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": STANDARD.encode(EDI), "filename": "invoice.edi", "subject": "Invoice 42"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    assert_eq!(reply.body["message"], "Message queued for sending");
    let data = &reply.body["data"];
    let id = data["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("msg_"));
    let as2_id = data["message_id"].as_str().unwrap();
    assert!(
        as2_id.starts_with('<') && as2_id.ends_with("@as2-platform>"),
        "{as2_id}"
    );
    assert_eq!(as2_id.len(), "<@as2-platform>".len() + 36);
    assert_eq!(data["direction"], "outbound");
    assert_eq!(data["partner_id"], partner);
    assert!(data["station_id"].as_str().unwrap().starts_with("stn_"));
    assert_eq!(data["subject"], "Invoice 42");
    assert_eq!(data["filename"], "invoice.edi");
    assert_eq!(data["content_type"], "application/edi-x12");
    assert_eq!(data["bytes"], EDI.len());
    assert_eq!(data["sha256"], sha256_hex(EDI));
    assert_eq!(data["mdn_mode"], "sync");
    assert_eq!(data["status"], "queued");
    assert_eq!(data["attempts"], 0);
    assert!(data["error"].is_null());
    assert!(data["mdn"].is_null());
    for field in ["created_at", "updated_at"] {
        let t = data[field].as_str().unwrap();
        assert!(t.ends_with('Z') && t.len() == 27, "{t}");
    }
    assert_eq!(data.as_object().unwrap().len(), 19);
    assert!(data["resent_from"].is_null());
    assert!(data["payload_purged_at"].is_null());

    let fetched = api.get(&format!("/v1/messages/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body["data"], *data);

    let payload = api.get(&format!("/v1/messages/{id}/payload")).await;
    assert_eq!(payload.status, StatusCode::OK);
    assert_eq!(payload.bytes, EDI);
    assert_eq!(payload.headers["content-type"], "application/edi-x12");
    assert_eq!(
        payload.headers["content-disposition"],
        "attachment; filename=\"invoice.edi\""
    );

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
    let numeric = id.trim_start_matches("msg_").trim_start_matches('0');
    assert!(
        job.payload.contains(&format!("\"message_id\":{numeric}")),
        "{}",
        job.payload
    );
    assert_eq!(job.max_attempts, 6, "partner retry_attempts 5 + 1");

    let events = api.get(&format!("/v1/messages/{id}/events")).await;
    assert_eq!(events.status, StatusCode::OK);
    assert_eq!(events.body["data"][0]["type"], "queued");
    assert_eq!(events.body["data"][0]["status"], "queued");
}

#[tokio::test]
async fn multipart_upload_and_content_type_defaults() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let xml = b"<order id=\"1\"/>".repeat(5000);
    let reply = post_multipart(
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
                filename: Some("order.xml"),
                content: &xml,
            },
            Part {
                name: "subject",
                filename: None,
                content: b"Order",
            },
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["filename"], "order.xml");
    assert_eq!(data["content_type"], "application/xml");
    assert_eq!(data["subject"], "Order");
    assert_eq!(data["bytes"], xml.len());
    assert_eq!(data["sha256"], sha256_hex(&xml));
    let payload = api
        .get(&format!(
            "/v1/messages/{}/payload",
            data["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(payload.bytes, xml);

    for (filename, expected) in [
        (Some("a.X12"), "application/edi-x12"),
        (Some("a.edifact"), "application/edifact"),
        (Some("a.json"), "application/json"),
        (Some("a.txt"), "text/plain"),
        (Some("a.bin"), "application/octet-stream"),
        (None, "application/octet-stream"),
    ] {
        let reply = api
            .post(
                "/v1/messages",
                json!({"partner_id": partner, "content": "aGk=", "filename": filename}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
        assert_eq!(reply.body["data"]["content_type"], expected, "{filename:?}");
    }
    let explicit = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": "aGk=", "filename": "a.txt", "content_type": "application/pdf"}),
        )
        .await;
    assert_eq!(explicit.body["data"]["content_type"], "application/pdf");
    let missing = post_multipart(
        &api,
        "/v1/messages",
        &[Part {
            name: "partner_id",
            filename: None,
            content: partner.as_bytes(),
        }],
    )
    .await;
    assert_invalid(&missing, "file");
}

#[tokio::test]
async fn every_rule_names_its_field() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let reply = api.post("/v1/messages", json!({})).await;
    assert_invalid(&reply, "partner_id");
    assert_invalid(&reply, "content");
    let reply = api
        .post(
            "/v1/messages",
            json!({"partner_id": "acme", "content": "%%%", "filename": "../etc/passwd",
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
        assert_invalid(&reply, field);
    }
    let reply = api
        .post(
            "/v1/messages",
            json!({"partner_id": "prt_999999", "content": "aGk="}),
        )
        .await;
    assert_invalid(&reply, "partner_id");
    let reply = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": ""}),
        )
        .await;
    assert_invalid(&reply, "content");
    let paused = api
        .patch(&format!("/v1/partners/{partner}"), json!({"active": false}))
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{:?}", paused.body);
    let reply = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": "aGk="}),
        )
        .await;
    assert_invalid(&reply, "partner_id");
    assert!(
        reply.body["errors"]["partner_id"][0]
            .as_str()
            .unwrap()
            .contains("inactive")
    );
    // a partner of the other mode does not exist for a live key
    let live = api
        .call(
            Method::POST,
            "/v1/messages",
            Some(&api.live_key),
            Some(json!({"partner_id": partner, "content": "aGk="})),
        )
        .await;
    assert_invalid(&live, "partner_id");

    for query in [
        "status=lost",
        "direction=sideways",
        "partner_id=acme",
        "created_after=yesterday",
        "created_before=2024-13-01",
        "page=0",
    ] {
        let reply = api.get(&format!("/v1/messages?{query}")).await;
        assert_invalid(&reply, query.split('=').next().unwrap());
    }
}

#[tokio::test]
async fn payloads_over_the_limit_are_413() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let dir = tempfile::tempdir().unwrap();
    // every payload an object (no inline bytes), so what a refused upload leaves is seen
    let state = AppState::new(
        api.db.store.clone(),
        PayloadStore::open(dir.path()).unwrap().with_inline_limit(0),
        ApiConfig {
            max_message_bytes: 16,
            ..ApiConfig::default()
        },
    );
    let small = router(state);
    let post = |content_type: String, body: Vec<u8>| {
        Request::builder()
            .method(Method::POST)
            .uri("/v1/messages")
            .header("authorization", format!("Bearer {}", api.key))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let json_body = json!({"partner_id": partner, "content": STANDARD.encode([7u8; 17])});
    let response = small
        .clone()
        .oneshot(post(
            "application/json".into(),
            serde_json::to_vec(&json_body).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (content_type, body) = multipart(&[
        Part {
            name: "partner_id",
            filename: None,
            content: partner.as_bytes(),
        },
        Part {
            name: "file",
            filename: Some("big.bin"),
            content: &[7u8; 17],
        },
    ]);
    let response = small
        .clone()
        .oneshot(post(content_type, body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let json_body = json!({"partner_id": partner, "content": STANDARD.encode([7u8; 16])});
    let response = small
        .oneshot(post(
            "application/json".into(),
            serde_json::to_vec(&json_body).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // nothing of the refused uploads is left behind
    let objects = walk(&dir.path().join("objects"));
    assert_eq!(objects, 1);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn mdn_retry_and_filters() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let first = send(&api, &partner).await;
    let second = send(&api, &partner).await;
    let (first_id, second_id) = (message_id(&first), message_id(&second));
    let s = scope(&api);

    let none = api.get(&format!("/v1/messages/{first_id}/mdn")).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.body["message"].as_str().unwrap().contains("No MDN"));

    let conflict = api
        .post(&format!("/v1/messages/{first_id}/retry"), json!({}))
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{:?}", conflict.body);
    assert_eq!(conflict.body["error"]["type"], "conflict_error");
    assert!(
        conflict.body["message"]
            .as_str()
            .unwrap()
            .contains("queued")
    );

    let messages = api.db.store.messages();
    messages
        .transition(
            s,
            first_id,
            MessageStatus::Processing,
            None,
            "sending",
            None,
        )
        .unwrap();
    messages
        .transition(
            s,
            first_id,
            MessageStatus::Delivered,
            None,
            "delivered",
            None,
        )
        .unwrap();
    let mdn = MdnRecord {
        message_id: first_id,
        disposition: "automatic-action/MDN-sent-automatically; processed".into(),
        positive: true,
        mic: Some("abc=, sha-256".into()),
        mic_matched: Some(true),
        signed: true,
        verified: true,
        original_message_id: None,
        raw_key: None,
        created_at: Utc::now(),
    };
    messages.record_mdn(s, &mdn).unwrap();
    let got = api.get(&format!("/v1/messages/{first_id}/mdn")).await;
    assert_eq!(got.status, StatusCode::OK);
    let data = &got.body["data"];
    assert_eq!(data["disposition"], mdn.disposition);
    assert_eq!(data["mic"], "abc=, sha-256");
    assert_eq!(data["mic_matched"], true);
    assert_eq!(data["signed"], true);
    assert_eq!(data["verified"], true);
    assert!(data["received_at"].as_str().unwrap().ends_with('Z'));
    let message = api.get(&format!("/v1/messages/{first_id}")).await;
    assert_eq!(message.body["data"]["mdn"], *data);
    assert_eq!(message.body["data"]["status"], "delivered");
    assert_eq!(message.body["data"]["attempts"], 1);
    let conflict = api
        .post(&format!("/v1/messages/{first_id}/retry"), json!({}))
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(
        conflict.body["message"]
            .as_str()
            .unwrap()
            .contains("delivered")
    );

    messages
        .transition(
            s,
            second_id,
            MessageStatus::Processing,
            None,
            "sending",
            None,
        )
        .unwrap();
    let error = MessageError {
        kind: ErrorKind::Transport,
        sentence: "Connection refused by acme.example.com:443".into(),
    };
    messages
        .transition(
            s,
            second_id,
            MessageStatus::Failed,
            Some(&error),
            "failed",
            None,
        )
        .unwrap();
    let failed = api.get(&format!("/v1/messages/{second_id}")).await;
    assert_eq!(
        failed.body["data"]["error"],
        json!({"type": "transport_error", "message": error.sentence})
    );
    let jobs = api.db.store.jobs();
    let lease = chrono::Duration::minutes(1);
    while jobs
        .claim(&[JobKind::SendMessage], Utc::now(), lease)
        .unwrap()
        .is_some()
    {}
    let retried = api
        .post(&format!("/v1/messages/{second_id}/retry"), json!({}))
        .await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{:?}", retried.body);
    assert_eq!(retried.body["data"]["status"], "queued");
    assert!(retried.body["data"]["error"].is_null());
    let job = jobs
        .claim(&[JobKind::SendMessage], Utc::now(), lease)
        .unwrap();
    assert!(
        job.unwrap()
            .payload
            .contains(&format!("\"message_id\":{}", second_id.0))
    );
    let events = api.get(&format!("/v1/messages/{second_id}/events")).await;
    let types: Vec<&str> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["queued", "sending", "failed", "retry_requested"]);

    let list = |query: &'static str| {
        let api = &api;
        async move {
            let reply = api.get(&format!("/v1/messages?{query}")).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {:?}", reply.body);
            reply.body["total"].as_u64().unwrap()
        }
    };
    assert_eq!(list("").await, 2);
    assert_eq!(list("status=delivered").await, 1);
    assert_eq!(list("status=queued&direction=outbound").await, 1);
    assert_eq!(list("direction=inbound").await, 0);
    assert_eq!(list("created_after=2000-01-01T00:00:00Z").await, 2);
    assert_eq!(list("created_before=2000-01-01T00:00:00Z").await, 0);
    let by_partner = api.get(&format!("/v1/messages?partner_id={partner}")).await;
    assert_eq!(by_partner.body["total"], 2);
    assert_eq!(by_partner.body["data"][0]["id"], second["id"]);
    let other_partner = api.get("/v1/messages?partner_id=prt_999999").await;
    assert_eq!(other_partner.body["total"], 0);
}

#[tokio::test]
async fn malformed_and_foreign_ids_are_404() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let sent = send(&api, &partner).await;
    let id = sent["id"].as_str().unwrap();
    for suffix in ["", "/payload", "/mdn", "/events"] {
        for bad in ["msg_1", "nope", "msg_999999"] {
            let reply = api.get(&format!("/v1/messages/{bad}{suffix}")).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{bad}{suffix}");
        }
    }
    let (_, other) = api.other_account();
    for suffix in ["", "/payload", "/mdn", "/events"] {
        let reply = api
            .call(
                Method::GET,
                &format!("/v1/messages/{id}{suffix}"),
                Some(&other),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{suffix}");
    }
    let reply = api
        .call(
            Method::POST,
            &format!("/v1/messages/{id}/retry"),
            Some(&other),
            Some(json!({})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = api
        .call(
            Method::POST,
            "/v1/messages",
            Some(&other),
            Some(json!({"partner_id": partner, "content": "aGk="})),
        )
        .await;
    assert_invalid(&reply, "partner_id");
    let list = api
        .call(Method::GET, "/v1/messages", Some(&other), None)
        .await;
    assert_eq!(list.body["total"], 0);
}

#[tokio::test]
async fn usage_counts_this_month_per_mode() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    send(&api, &partner).await;
    send(&api, &partner).await;
    let reply = api.get("/v1/usage").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["mode"], "test");
    assert_eq!(data["messages"], json!({"outbound": 2, "inbound": 0}));
    assert_eq!(data["bytes"], 2 * EDI.len());
    let start = data["period_start"].as_str().unwrap();
    let end = data["period_end"].as_str().unwrap();
    assert!(start.ends_with("-01T00:00:00.000000Z"), "{start}");
    assert!(end.ends_with("-01T00:00:00.000000Z"), "{end}");
    assert!(start < Utc::now().to_rfc3339().as_str() && end > start);
    let live = api
        .call(Method::GET, "/v1/usage", Some(&api.live_key), None)
        .await;
    assert_eq!(live.body["data"]["mode"], "live");
    assert_eq!(
        live.body["data"]["messages"],
        json!({"outbound": 0, "inbound": 0})
    );
    assert_eq!(live.body["data"]["bytes"], 0);
    assert_invalid(&api.get("/v1/usage?month=1").await, "month");
}

#[tokio::test]
async fn downloads_honour_an_accept_of_their_own_type_and_json_endpoints_still_refuse_it() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let id = send(&api, &partner).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = api.key.clone();
    let octets = [("accept", "application/octet-stream")];
    let payload = api
        .call_with_headers(
            Method::GET,
            &format!("/v1/messages/{id}/payload"),
            Some(&key),
            None,
            &octets,
        )
        .await;
    assert_eq!(payload.status, StatusCode::OK, "{:?}", payload.body);
    assert_eq!(payload.bytes, EDI);
    let legacy = api
        .call_with_headers(
            Method::POST,
            "/api/v1/messages/download",
            Some(&key),
            Some(json!({"id": id.parse::<MessageId>().unwrap().0})),
            &octets,
        )
        .await;
    assert_eq!(legacy.status, StatusCode::OK, "{:?}", legacy.body);
    assert_eq!(legacy.bytes, EDI);
    let cert = api
        .post(
            "/v1/certificates/generate",
            json!({"name": "ours", "common_name": "ours"}),
        )
        .await;
    let cert_id = cert.body["data"]["id"].as_str().unwrap().to_owned();
    for accept in ["application/octet-stream", "application/x-pem-file"] {
        let download = api
            .call_with_headers(
                Method::GET,
                &format!("/v1/certificates/{cert_id}/download"),
                Some(&key),
                None,
                &[("accept", accept)],
            )
            .await;
        assert_eq!(
            download.status,
            StatusCode::OK,
            "{accept}: {:?}",
            download.body
        );
        assert!(download.bytes.starts_with(b"-----BEGIN CERTIFICATE-----"));
    }
    // a JSON endpoint still answers 406 to a client that refuses JSON
    let json_only = api
        .call_with_headers(
            Method::GET,
            &format!("/v1/messages/{id}"),
            Some(&key),
            None,
            &octets,
        )
        .await;
    assert_eq!(json_only.status, StatusCode::NOT_ACCEPTABLE);
}

/// Issue 18: a payload at most the inline limit (64 KiB by default) is kept in its message's
/// row and downloads byte for byte under its `Content-Length`, as a larger one kept in the
/// payload store does, from JSON and from a multipart upload alike.
#[tokio::test]
async fn a_small_payload_is_kept_inline_and_downloads_byte_for_byte() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    // every byte value: nothing is treated as text on the way
    let small: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let large: Vec<u8> = (0..=255u8).rev().cycle().take(100 * 1024).collect();
    let json_upload = |bytes: &[u8]| json!({"partner_id": partner, "content": STANDARD.encode(bytes), "filename": "a.bin"});
    let reply = api.post("/v1/messages", json_upload(&small)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    let inline_id = message_id(&reply.body["data"]);
    let (content_type, body) = multipart(&[
        Part {
            name: "partner_id",
            filename: None,
            content: partner.as_bytes(),
        },
        Part {
            name: "file",
            filename: Some("b.bin"),
            content: &large,
        },
    ]);
    let reply = api
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/v1/messages")
                .header("authorization", format!("Bearer {}", api.key))
                .header("content-type", content_type)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    let object_id = message_id(&reply.body["data"]);

    let messages = api.db.store.messages();
    assert_eq!(
        messages.get(scope(&api), inline_id).unwrap().payload,
        Some(as2_domain::message::PayloadRef::Inline(small.clone()))
    );
    assert!(matches!(
        messages.get(scope(&api), object_id).unwrap().payload,
        Some(as2_domain::message::PayloadRef::Object(_))
    ));
    for (id, bytes) in [(inline_id, &small), (object_id, &large)] {
        let download = api.get(&format!("/v1/messages/{id}/payload")).await;
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(download.bytes, *bytes);
        assert_eq!(
            download.headers["content-length"],
            bytes.len().to_string().as_str()
        );
    }
}
