//! Issue 15, support: the message search (AS2 Message-ID, file name, subject, station, sort),
//! the resend of a delivered or failed message as a new one, and the cancel of a queued one.

use crate::common::*;
use as2_domain::Mode;
use as2_domain::id::MessageId;
use as2_domain::job::JobKind;
use as2_domain::message::MessageStatus;
use as2_store::Scope;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use serde_json::{Value, json};

async fn partner(api: &TestApi, as2_id: &str) -> String {
    let reply = api
        .post(
            "/v1/partners",
            json!({"name": as2_id, "as2_id": as2_id, "url": "https://acme.example.com/as2", "encrypt": false}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn send(
    api: &TestApi,
    partner: &str,
    filename: &str,
    subject: &str,
    content: &[u8],
) -> Value {
    let reply = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": STANDARD.encode(content), "filename": filename, "subject": subject}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    reply.body["data"].clone()
}

fn id_of(data: &Value) -> MessageId {
    data["id"].as_str().unwrap().parse().unwrap()
}

/// The ids of the messages `query` lists, in order.
async fn ids(api: &TestApi, query: &str) -> Vec<String> {
    let reply = api.get(&format!("/v1/messages?{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {:?}", reply.body);
    reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Moves a queued message through processing to `to`, as a worker would.
fn finish(api: &TestApi, id: MessageId, to: MessageStatus) {
    let s = Scope::new(api.tenant, Mode::Test);
    let messages = api.db.store.messages();
    messages
        .transition(s, id, MessageStatus::Processing, None, "sending", None)
        .unwrap();
    messages
        .transition(s, id, to, None, to.as_str(), None)
        .unwrap();
}

#[tokio::test]
async fn search_finds_by_each_field_and_sorts() {
    let api = TestApi::new();
    let acme = partner(&api, "ACME").await;
    let globex = partner(&api, "GLOBEX").await;
    let a = send(&api, &acme, "Invoice_2024%.edi", "Invoice 42", b"aaaa").await;
    let b = send(&api, &acme, "orders.xml", "Purchase ORDER 7", b"bb").await;
    let c = send(&api, &globex, "invoiceX2024.edi", "Remittance", b"cccccccc").await;
    let (a_id, b_id, c_id) = (
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
        c["id"].as_str().unwrap().to_owned(),
    );

    // the AS2 Message-ID, exact, with and without its angle brackets
    let as2 = b["message_id"].as_str().unwrap();
    let enc = |s: &str| {
        s.replace('<', "%3C")
            .replace('>', "%3E")
            .replace('@', "%40")
    };
    assert_eq!(
        ids(&api, &format!("message_id={}", enc(as2))).await,
        [b_id.as_str()]
    );
    let bare = as2.trim_start_matches('<').trim_end_matches('>');
    assert_eq!(
        ids(&api, &format!("message_id={}", enc(bare))).await,
        [b_id.as_str()]
    );
    assert!(
        ids(&api, &format!("message_id={}", enc(&bare[1..])))
            .await
            .is_empty()
    );

    // file name and subject: case-insensitive substrings, wildcards taken literally
    assert_eq!(
        ids(&api, "filename=INVOICE").await,
        [c_id.as_str(), a_id.as_str()]
    );
    assert_eq!(ids(&api, "filename=_2024%25").await, [a_id.as_str()]);
    assert_eq!(ids(&api, "subject=order").await, [b_id.as_str()]);
    assert!(ids(&api, "subject=invoice%2042x").await.is_empty());

    // the station: all three go out from the default station; another station has none
    let station = a["station_id"].as_str().unwrap();
    assert_eq!(ids(&api, &format!("station_id={station}")).await.len(), 3);
    assert!(ids(&api, "station_id=stn_999999").await.is_empty());

    // combined with the existing filters
    assert_eq!(
        ids(&api, &format!("filename=invoice&partner_id={acme}")).await,
        [a_id.as_str()]
    );

    // sort: default newest first, ascending, by size, by last change
    assert_eq!(
        ids(&api, "").await,
        [c_id.as_str(), b_id.as_str(), a_id.as_str()]
    );
    assert_eq!(
        ids(&api, "sort=-created_at").await,
        [c_id.as_str(), b_id.as_str(), a_id.as_str()]
    );
    assert_eq!(
        ids(&api, "sort=created_at").await,
        [a_id.as_str(), b_id.as_str(), c_id.as_str()]
    );
    assert_eq!(
        ids(&api, "sort=bytes").await,
        [b_id.as_str(), a_id.as_str(), c_id.as_str()]
    );
    assert_eq!(
        ids(&api, "sort=-bytes").await,
        [c_id.as_str(), a_id.as_str(), b_id.as_str()]
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    finish(&api, id_of(&a), MessageStatus::Delivered);
    assert_eq!(ids(&api, "sort=-updated_at").await[0], a_id);
    // pages are stable and disjoint
    let first = ids(&api, "sort=created_at&per_page=2&page=1").await;
    let second = ids(&api, "sort=created_at&per_page=2&page=2").await;
    assert_eq!(first, [a_id, b_id]);
    assert_eq!(second, [c_id]);

    // bad parameters are 422s naming them
    for (query, field) in [
        ("sort=status", "sort"),
        ("sort=-", "sort"),
        ("station_id=acme", "station_id"),
        ("filename=", "filename"),
        ("subject=%20", "subject"),
        ("message_id=%3C%3E", "message_id"),
        ("message_id=a%20b", "message_id"),
    ] {
        let reply = api.get(&format!("/v1/messages?{query}")).await;
        assert_invalid(&reply, field);
    }
}

#[tokio::test]
async fn resend_queues_a_new_linked_message() {
    let api = TestApi::new();
    let acme = partner(&api, "ACME").await;
    let original = send(&api, &acme, "invoice.edi", "Invoice 42", b"ISA*00~").await;
    let original_id = original["id"].as_str().unwrap().to_owned();

    // still queued: in flight, refused
    let refused = api
        .post(&format!("/v1/messages/{original_id}/resend"), json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["type"], "conflict_error");
    assert!(refused.body["message"].as_str().unwrap().contains("queued"));

    finish(&api, id_of(&original), MessageStatus::Delivered);
    let reply = api
        .post(&format!("/v1/messages/{original_id}/resend"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let copy = &reply.body["data"];
    assert_ne!(copy["id"], original["id"]);
    assert_ne!(copy["message_id"], original["message_id"]);
    assert!(
        copy["message_id"]
            .as_str()
            .unwrap()
            .ends_with("@as2-platform>")
    );
    assert_eq!(copy["resent_from"], original_id.as_str());
    assert_eq!(copy["status"], "queued");
    for field in [
        "partner_id",
        "station_id",
        "filename",
        "subject",
        "sha256",
        "bytes",
        "content_type",
    ] {
        assert_eq!(copy[field], original[field], "{field}");
    }
    assert!(original["resent_from"].is_null());
    let copy_id = copy["id"].as_str().unwrap();
    let payload = api.get(&format!("/v1/messages/{copy_id}/payload")).await;
    assert_eq!(payload.bytes, b"ISA*00~");
    let events = api.get(&format!("/v1/messages/{original_id}/events")).await;
    let last = events.body["data"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "resent");
    assert!(last["detail"].as_str().unwrap().contains(copy_id));

    // the copy has its own send job
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
        .expect("a send job");
    let job2 = api
        .db
        .store
        .jobs()
        .claim(
            &[JobKind::SendMessage],
            Utc::now(),
            chrono::Duration::minutes(1),
        )
        .unwrap()
        .expect("the copy's send job");
    let numeric = copy_id.trim_start_matches("msg_").trim_start_matches('0');
    assert!(
        [job.payload, job2.payload]
            .iter()
            .any(|p| p.contains(&format!("\"message_id\":{numeric},"))),
    );

    // a failed message can be resent too; an unknown one is 404
    let failed = send(&api, &acme, "x.edi", "X", b"x").await;
    let failed_id = failed["id"].as_str().unwrap().to_owned();
    finish(&api, id_of(&failed), MessageStatus::Failed);
    let again = api
        .post(&format!("/v1/messages/{failed_id}/resend"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
    assert_eq!(again.body["data"]["resent_from"], failed_id.as_str());
    let missing = api.post("/v1/messages/msg_999999/resend", json!({})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // the search finds the copies by their link's subject, and lists the link
    let listed = api.get("/v1/messages?subject=invoice%2042").await;
    assert_eq!(listed.body["total"], 2, "{:?}", listed.body);
    assert_eq!(listed.body["data"][0]["resent_from"], original_id.as_str());
}

#[tokio::test]
async fn cancel_stops_a_queued_message_and_its_job() {
    let api = TestApi::new();
    let acme = partner(&api, "ACME").await;
    let queued = send(&api, &acme, "a.edi", "A", b"a").await;
    let id = queued["id"].as_str().unwrap().to_owned();

    let reply = api
        .post(&format!("/v1/messages/{id}/cancel"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["status"], "failed");
    assert_eq!(reply.body["data"]["error"]["type"], "cancelled");
    // its job is gone: nothing to claim
    let job = api
        .db
        .store
        .jobs()
        .claim(
            &[JobKind::SendMessage],
            Utc::now(),
            chrono::Duration::minutes(1),
        )
        .unwrap();
    assert!(job.is_none(), "{job:?}");
    let events = api.get(&format!("/v1/messages/{id}/events")).await;
    let last = events.body["data"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "cancelled");

    // twice: no longer queued
    let again = api
        .post(&format!("/v1/messages/{id}/cancel"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);

    // a cancelled message can be resent
    let resent = api
        .post(&format!("/v1/messages/{id}/resend"), json!({}))
        .await;
    assert_eq!(resent.status, StatusCode::CREATED, "{:?}", resent.body);

    // delivered: 409
    let delivered = send(&api, &acme, "b.edi", "B", b"b").await;
    let delivered_id = delivered["id"].as_str().unwrap().to_owned();
    finish(&api, id_of(&delivered), MessageStatus::Delivered);
    let refused = api
        .post(&format!("/v1/messages/{delivered_id}/cancel"), json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("delivered")
    );
}

#[tokio::test]
async fn a_worker_that_claimed_the_job_wins_over_cancel() {
    let api = TestApi::new();
    let acme = partner(&api, "ACME").await;
    let queued = send(&api, &acme, "a.edi", "A", b"a").await;
    let id = queued["id"].as_str().unwrap().to_owned();
    // claimed, the message still queued (the worker has not moved it yet)
    let job = api
        .db
        .store
        .jobs()
        .claim(
            &[JobKind::SendMessage],
            Utc::now(),
            chrono::Duration::minutes(1),
        )
        .unwrap();
    assert!(job.is_some());
    let reply = api
        .post(&format!("/v1/messages/{id}/cancel"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("being sent")
    );
    let still = api.get(&format!("/v1/messages/{id}")).await;
    assert_eq!(still.body["data"]["status"], "queued");
}

#[tokio::test]
async fn a_resend_with_an_idempotency_key_runs_once() {
    let api = TestApi::new();
    let acme = partner(&api, "ACME").await;
    let original = send(&api, &acme, "a.edi", "A", b"a").await;
    let id = original["id"].as_str().unwrap().to_owned();
    finish(&api, id_of(&original), MessageStatus::Failed);
    let path = format!("/v1/messages/{id}/resend");
    let headers = [("idempotency-key", "6f1c1b7e-4a7b-4c3e-9f5a-2b8f1d3c4e5a")];
    let mut copies = Vec::new();
    for _ in 0..2 {
        let reply = api
            .call_with_headers(
                axum::http::Method::POST,
                &path,
                Some(&api.key),
                Some(json!({})),
                &headers,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        copies.push(reply.body["data"]["id"].clone());
    }
    assert_eq!(copies[0], copies[1]);
    let all = api.get("/v1/messages").await;
    assert_eq!(all.body["total"], 2, "{:?}", all.body);
}

#[tokio::test]
async fn cancel_and_resend_are_announced() {
    let api = TestApi::new();
    let hook = api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.example.com/h", "events": ["message.queued", "message.failed"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{:?}", hook.body);
    let hook = hook.body["data"]["id"].as_str().unwrap().to_owned();
    let acme = partner(&api, "ACME").await;
    let queued = send(&api, &acme, "a.edi", "A", b"a").await;
    let id = queued["id"].as_str().unwrap().to_owned();
    let cancelled = api
        .post(&format!("/v1/messages/{id}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    let resent = api
        .post(&format!("/v1/messages/{id}/resend"), json!({}))
        .await;
    assert_eq!(resent.status, StatusCode::CREATED, "{:?}", resent.body);
    let reply = api
        .get(&format!("/v1/webhook-endpoints/{hook}/deliveries"))
        .await;
    let mut events: Vec<&str> = reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    events.sort_unstable();
    assert_eq!(
        events,
        ["message.failed", "message.queued", "message.queued"],
        "{:?}",
        reply.body
    );
}
