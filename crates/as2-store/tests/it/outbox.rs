//! The outbox: a message's change and the webhook event it announces commit together, or
//! neither does.

use crate::common::*;
use as2_domain::id::WebhookEndpointId;
use as2_domain::message::{Direction, Message, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::webhook::{EventType, WebhookSettings};
use as2_store::repo::messages::NewMessage;
use as2_store::testing::TestDb;
use as2_store::{Announce, Scope, Store, StoreError};

fn endpoint(store: &Store, scope: Scope, events: &[&str]) -> WebhookEndpointId {
    let settings = WebhookSettings {
        url: "https://hooks.example/as2".into(),
        description: None,
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        active: true,
    };
    store
        .webhooks()
        .create(scope, &settings, "secret")
        .unwrap()
        .id
}

/// The event types delivered to `endpoint`, oldest first.
fn delivered(store: &Store, scope: Scope, endpoint: WebhookEndpointId) -> Vec<String> {
    let page = PageRequest {
        page: 1,
        per_page: 100,
    };
    let (deliveries, _) = store.webhooks().deliveries(scope, endpoint, page).unwrap();
    deliveries.into_iter().rev().map(|d| d.event_type).collect()
}

fn queued(store: &Store, scope: Scope, as2_id: &str) -> Message {
    let partner = partner(store, scope, "P1");
    let new = message(&partner, Direction::Outbound, as2_id);
    let announce = Announce::new(EventType::MessageQueued);
    store
        .messages()
        .create_outbound(scope, &new, 3, Some(&announce))
        .unwrap()
}

#[test]
fn a_change_is_written_with_its_event_for_the_subscribers_of_its_tenant_only() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let all = endpoint(store, s.a, &["message.*"]);
        let failures = endpoint(store, s.a, &["message.failed"]);
        let elsewhere = endpoint(store, s.b, &["*"]);
        let message = queued(store, s.a, "<m1@acme>");
        store
            .messages()
            .transition(
                s.a,
                message.id,
                MessageStatus::Processing,
                None,
                "sending",
                None,
            )
            .unwrap();
        let delivered_now = Announce::with(
            EventType::MessageDelivered,
            serde_json::json!({ "note": "extra" }),
        );
        store
            .messages()
            .transition(
                s.a,
                message.id,
                MessageStatus::Delivered,
                None,
                "delivered",
                Some(&delivered_now),
            )
            .unwrap();
        assert_eq!(
            delivered(store, s.a, all),
            ["message.queued", "message.delivered"]
        );
        assert!(delivered(store, s.a, failures).is_empty());
        assert!(delivered(store, s.b, elsewhere).is_empty());
        let page = PageRequest {
            page: 1,
            per_page: 10,
        };
        let (latest, _) = store.webhooks().deliveries(s.a, all, page).unwrap();
        let event = store.webhooks().event(latest[0].event_id).unwrap();
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(
            data["status"], "delivered",
            "the data is the message after it"
        );
        assert_eq!(data["id"], message.id.to_string());
        assert_eq!(data["note"], "extra");
    }
}

#[test]
fn a_refused_or_rolled_back_change_announces_nothing() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let all = endpoint(store, s.a, &["message.*"]);
        let message = queued(store, s.a, "<m2@acme>");
        let failed = Announce::new(EventType::MessageFailed);
        // the state machine refuses queued -> delivered: no event
        let refused = store.messages().transition(
            s.a,
            message.id,
            MessageStatus::Delivered,
            None,
            "delivered",
            Some(&failed),
        );
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        // a transaction that fails after the change takes the change and its event back
        let rolled_back = store.transaction(|tx| {
            tx.messages().transition(
                s.a,
                message.id,
                MessageStatus::Processing,
                None,
                "sending",
                Some(&failed),
            )?;
            Err::<(), _>(StoreError::Conflict("a later write failed".into()))
        });
        assert!(rolled_back.is_err());
        assert_eq!(
            store.messages().get(s.a, message.id).unwrap().status,
            MessageStatus::Queued
        );
        assert_eq!(delivered(store, s.a, all), ["message.queued"]);
        let timeline: Vec<_> = store
            .messages()
            .events(s.a, message.id)
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(timeline, ["queued"]);
    }
}

/// A received message's row, its timeline entry and its MDN are written together
/// (`create_with_mdn`: one statement on PostgreSQL) with the event it announces, for the
/// subscribers of its tenant only, not a deleted endpoint's; the same Message-ID again is a
/// conflict that writes nothing.
#[test]
fn a_received_message_is_written_with_its_mdn_and_its_event() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let p = partner(store, s.a, "P1");
        let subscriber = endpoint(store, s.a, &["message.received"]);
        let deleted = endpoint(store, s.a, &["*"]);
        store.webhooks().delete(s.a, deleted).unwrap();
        let elsewhere = endpoint(store, s.b, &["*"]);
        let payload = as2_domain::message::PayloadRef::Inline(b"ISA*00*~".to_vec());
        let new = NewMessage {
            subject: Some("invoice"),
            filename: Some("invoice.edi"),
            bytes: 8,
            sha256: "ab",
            payload: Some(&payload),
            mic: Some("abc=, sha-256"),
            ..message(&p, Direction::Inbound, "<r1@p1>")
        };
        let mdn = as2_domain::mdn::MdnRecord {
            message_id: as2_domain::id::MessageId(0),
            disposition: "automatic-action/MDN-sent-automatically; processed".into(),
            positive: true,
            mic: Some("abc=, sha-256".into()),
            mic_matched: None,
            signed: true,
            verified: false,
            original_message_id: Some("<r1@p1>".into()),
            raw_key: None,
            created_at: chrono::Utc::now(),
        };
        let announce = Announce::new(EventType::MessageReceived);
        let record = |new: &NewMessage<'_>| {
            store.transaction(|tx| {
                tx.messages().create_with_mdn(
                    s.a,
                    new,
                    Some((&mdn, Some(b"the MDN as sent".as_slice()))),
                    Some(&announce),
                )
            })
        };
        let message = record(&new).unwrap();
        assert_eq!(message.status, MessageStatus::Received);
        assert_eq!(message.payload, Some(payload.clone()));
        assert_eq!(message.mic.as_deref(), Some("abc=, sha-256"));
        let kept = store
            .messages()
            .mdn(s.a, message.id)
            .unwrap()
            .expect("its MDN");
        assert_eq!(kept.message_id, message.id);
        assert_eq!(kept.disposition, mdn.disposition);
        assert!(kept.positive && kept.signed && !kept.verified);
        assert_eq!(
            store
                .messages()
                .mdn_raw(s.a, message.id)
                .unwrap()
                .as_deref(),
            Some(b"the MDN as sent".as_slice())
        );
        let timeline = store.messages().events(s.a, message.id).unwrap();
        let kinds: Vec<&str> = timeline.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(kinds, ["received"], "{}", db.url);
        assert_eq!(delivered(store, s.a, subscriber), ["message.received"]);
        assert!(delivered(store, s.b, elsewhere).is_empty());

        let again = record(&new);
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(delivered(store, s.a, subscriber), ["message.received"]);
        // the other tenant's scope does not see it
        assert!(store.messages().mdn(s.b, message.id).unwrap().is_none());
    }
}
