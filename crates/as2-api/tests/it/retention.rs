//! Retention through the API: a tenant's own days (422 naming the field when out of range or
//! in the wrong order), a purged payload's download answering 410 with a sentence, and the
//! export of a date range read back from its zip.

use std::io::Read as _;

use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::id::MessageId;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, MessageStatus, PayloadRef};
use as2_store::Scope;
use as2_store::repo::messages::NewMessage;
use as2_store::retention::{RoundLimits, purge_round};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{Duration, Utc};
use serde_json::json;

use crate::common::{TestApi, assert_invalid};

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

/// A message sent through the API and delivered (as a worker would), with our raw MDN kept.
async fn delivered(api: &TestApi, partner: &str, filename: &str) -> MessageId {
    let reply = api
        .post(
            "/v1/messages",
            json!({"partner_id": partner, "content": STANDARD.encode(EDI), "filename": filename}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    let id: MessageId = reply.body["data"]["id"].as_str().unwrap().parse().unwrap();
    let scope = Scope::new(api.tenant, Mode::Test);
    let messages = api.db.store.messages();
    for to in [MessageStatus::Processing, MessageStatus::Delivered] {
        messages
            .transition(scope, id, to, None, to.as_str(), None)
            .unwrap();
    }
    let mdn = MdnRecord {
        message_id: id,
        disposition: "automatic-action/MDN-sent-automatically; processed".into(),
        positive: true,
        mic: None,
        mic_matched: None,
        signed: true,
        verified: true,
        original_message_id: None,
        raw_key: None,
        created_at: Utc::now(),
    };
    messages
        .record_mdn_with_raw(scope, &mdn, Some(format!("MDN for {id}").as_bytes()))
        .unwrap();
    id
}

/// A message received from the partner under a file name of the partner's choosing (the
/// API refuses such a name for a message we send), with our raw MDN kept.
fn received(api: &TestApi, partner: &str, filename: &str) -> MessageId {
    let scope = Scope::new(api.tenant, Mode::Test);
    let partner = api
        .db
        .store
        .partners()
        .get(scope, partner.parse().unwrap())
        .unwrap();
    let payload = PayloadRef::Inline(EDI.to_vec());
    let message = api
        .db
        .store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Inbound,
                partner_id: partner.id,
                station_id: partner.settings.station_id,
                as2_message_id: "<received-1@acme.example>",
                subject: None,
                filename: Some(filename),
                content_type: "application/edi-x12",
                bytes: i64::try_from(EDI.len()).unwrap(),
                sha256: "00",
                payload: Some(&payload),
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Received,
                error: None,
                mic: None,
                destination_url: None,
            },
            None,
        )
        .unwrap();
    let mdn = MdnRecord {
        message_id: message.id,
        disposition: "automatic-action/MDN-sent-automatically; processed".into(),
        positive: true,
        mic: None,
        mic_matched: None,
        signed: true,
        verified: true,
        original_message_id: None,
        raw_key: None,
        created_at: Utc::now(),
    };
    api.db
        .store
        .messages()
        .record_mdn_with_raw(
            scope,
            &mdn,
            Some(format!("MDN for {}", message.id).as_bytes()),
        )
        .unwrap();
    message.id
}

#[tokio::test]
async fn tenant_retention_is_checked_field_by_field() {
    let api = TestApi::new();
    let path = format!("/v1/tenants/{}", api.tenant);
    let reply = api
        .patch(&path, json!({"retention_payload_days": 3651}))
        .await;
    assert_invalid(&reply, "retention_payload_days");
    let reply = api.patch(&path, json!({"retention_record_days": -1})).await;
    assert_invalid(&reply, "retention_record_days");
    let reply = api
        .patch(
            &path,
            json!({"retention_payload_days": 60, "retention_record_days": 30}),
        )
        .await;
    assert_invalid(&reply, "retention_record_days");
    assert!(
        reply.body["errors"]["retention_record_days"][0]
            .as_str()
            .unwrap()
            .contains("at least as long as payloads")
    );

    let reply = api
        .patch(
            &path,
            json!({"retention_payload_days": 30, "retention_record_days": 365}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["retention_payload_days"], 30);
    assert_eq!(reply.body["data"]["retention_record_days"], 365);
    // a PATCH of one is checked against the other as stored
    let reply = api
        .patch(&path, json!({"retention_payload_days": 400}))
        .await;
    assert_invalid(&reply, "retention_record_days");
    // 0 goes back to the plan's default
    let reply = api.patch(&path, json!({"retention_payload_days": 0})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(reply.body["data"]["retention_payload_days"].is_null());
    assert_eq!(reply.body["data"]["retention_record_days"], 365);
    // PUT without them resets both
    let reply = api.put(&path, json!({"name": "Renamed"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(reply.body["data"]["retention_record_days"].is_null());
}

#[tokio::test]
async fn a_purged_payload_is_gone_with_a_sentence_and_its_record_stays() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let id = delivered(&api, &partner, "old.edi").await;
    let payload = api.get(&format!("/v1/messages/{id}/payload")).await;
    assert_eq!(payload.status, StatusCode::OK);
    assert_eq!(payload.bytes, EDI);

    // the bootstrap account's plan keeps payloads at most 90 days: 91 days later they go
    let later = Utc::now() + Duration::days(91);
    let purged = purge_round(
        &api.db.store,
        api.state.payloads(),
        later,
        RoundLimits::default(),
    )
    .unwrap();
    assert_eq!(purged.payloads, 1, "{purged:?}");

    let gone = api.get(&format!("/v1/messages/{id}/payload")).await;
    assert_eq!(gone.status, StatusCode::GONE, "{:?}", gone.body);
    assert_eq!(gone.body["error"]["code"], "payload_purged");
    assert!(
        gone.body["message"]
            .as_str()
            .unwrap()
            .contains("deleted on"),
        "{:?}",
        gone.body
    );
    let record = api.get(&format!("/v1/messages/{id}")).await;
    assert_eq!(record.status, StatusCode::OK);
    assert!(record.body["data"]["payload_purged_at"].is_string());
    let resend = api
        .post(&format!("/v1/messages/{id}/resend"), json!({}))
        .await;
    assert_eq!(resend.status, StatusCode::CONFLICT, "{:?}", resend.body);
}

#[tokio::test]
async fn an_export_streams_the_range_as_a_zip() {
    let api = TestApi::new();
    let partner = partner(&api).await;
    let first = received(&api, &partner, "../../etc/first.edi");
    let second = delivered(&api, &partner, "second.edi").await;
    let since =
        (Utc::now() - Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until =
        (Utc::now() + Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let reply = api
        .get(&format!("/v1/exports/messages?since={since}&until={until}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/zip");

    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(reply.bytes)).unwrap();
    let mut lines = String::new();
    zip.by_name("messages.jsonl")
        .unwrap()
        .read_to_string(&mut lines)
        .unwrap();
    let lines: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["message"]["id"], first.to_string());
    assert_eq!(lines[1]["message"]["id"], second.to_string());
    assert_eq!(lines[1]["message"]["status"], "delivered");
    assert!(lines[1]["message"]["mdn"]["disposition"].is_string());
    let timeline: Vec<&str> = lines[1]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(timeline.contains(&"delivered"), "{timeline:?}");
    for (id, name) in [(first, "first.edi"), (second, "second.edi")] {
        let mut payload = Vec::new();
        zip.by_name(&format!("payloads/{id}/{name}"))
            .unwrap()
            .read_to_end(&mut payload)
            .unwrap();
        assert_eq!(payload, EDI);
        let mut mdn = String::new();
        zip.by_name(&format!("mdns/{id}.txt"))
            .unwrap()
            .read_to_string(&mut mdn)
            .unwrap();
        assert_eq!(mdn, format!("MDN for {id}"));
    }
    assert_eq!(zip.len(), 6, "no path from a file name escapes its folder");
    let mut manifest = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["count"], 2);
    assert_eq!(manifest["complete"], true);

    // a file download: Accept: application/zip is served, not refused as non-JSON
    let path = format!("/v1/exports/messages?since={since}&until={until}");
    let zipped = api
        .call_with_headers(
            axum::http::Method::GET,
            &path,
            Some(&api.key.clone()),
            None,
            &[("accept", "application/zip")],
        )
        .await;
    assert_eq!(zipped.status, StatusCode::OK);

    // another mode sees none of it
    let live = api
        .call(
            axum::http::Method::GET,
            &format!("/v1/exports/messages?since={since}&until={until}"),
            Some(&api.live_key.clone()),
            None,
        )
        .await;
    let live = zip::ZipArchive::new(std::io::Cursor::new(live.bytes)).unwrap();
    assert_eq!(
        live.len(),
        2,
        "only an empty messages.jsonl and the manifest"
    );
}

#[tokio::test]
async fn an_export_range_is_required_ordered_and_bounded() {
    let api = TestApi::new();
    let reply = api.get("/v1/exports/messages").await;
    assert_invalid(&reply, "since");
    assert_invalid(&reply, "until");
    let reply = api
        .get("/v1/exports/messages?since=2026-01-10T00:00:00Z&until=2026-01-01T00:00:00Z")
        .await;
    assert_invalid(&reply, "until");
    let reply = api
        .get("/v1/exports/messages?since=2026-01-01T00:00:00Z&until=2026-03-01T00:00:00Z")
        .await;
    assert_invalid(&reply, "until");
    assert!(
        reply.body["errors"]["until"][0]
            .as_str()
            .unwrap()
            .contains("31 days")
    );
    let reply = api
        .get("/v1/exports/messages?since=yesterday&until=2026-03-01T00:00:00Z&format=tar")
        .await;
    assert_invalid(&reply, "since");
    assert_invalid(&reply, "format");
}
