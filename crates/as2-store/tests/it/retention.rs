//! Retention on both backends, with a clock that moves: payloads and raw MDNs go after the
//! tenant's payload days (rows stay, marked), rows with their events after its record days;
//! never a message in flight, never twice, never an object another row still names; every
//! purge recorded.

use crate::common::*;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, Message, MessageStatus, PayloadRef};
use as2_domain::retention::RetentionOverride;
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::NewMessage;
use as2_store::retention::{RoundLimits, purge_round};
use as2_store::testing::TestDb;
use as2_store::{Scope, Store, StoreError};
use chrono::{Duration, Utc};

fn message(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    direction: Direction,
    name: &str,
) -> (Message, String) {
    let stored = payloads.put_bytes(name.as_bytes()).unwrap();
    let reference = PayloadRef::Object(stored.key.clone());
    let message = create(store, scope, direction, name, &reference);
    (message, stored.key)
}

/// A message of `name` whose payload (its name's bytes) is kept in its row.
fn inline_message(store: &Store, scope: Scope, direction: Direction, name: &str) -> Message {
    let reference = PayloadRef::Inline(name.as_bytes().to_vec());
    create(store, scope, direction, name, &reference)
}

fn create(
    store: &Store,
    scope: Scope,
    direction: Direction,
    name: &str,
    reference: &PayloadRef,
) -> Message {
    let partner = partner(store, scope, name);
    let as2_id = format!("<{name}@acme>");
    let new = NewMessage {
        filename: Some("f.edi"),
        bytes: i64::try_from(name.len()).unwrap(),
        payload: Some(reference),
        ..crate::common::message(&partner, direction, &as2_id)
    };
    match direction {
        Direction::Outbound => store.messages().create_outbound(scope, &new, 3, None),
        Direction::Inbound => store.messages().create(scope, &new, None),
    }
    .unwrap()
}

fn to(store: &Store, scope: Scope, message: &Message, path: &[MessageStatus]) {
    for status in path {
        store
            .messages()
            .transition(scope, message.id, *status, None, status.as_str(), None)
            .unwrap();
    }
}

fn exists(payloads: &PayloadStore, key: &str) -> bool {
    payloads.read(key).is_ok()
}

#[test]
fn retention_purges_payloads_then_rows_and_never_what_is_in_flight() {
    for db in TestDb::all() {
        let dir = tempfile::tempdir().unwrap();
        let payloads = PayloadStore::open(dir.path()).unwrap();
        let store = &db.store;
        let s = scopes(store); // a: Starter (90/400 by default), b: Free (30/90)
        let account = store
            .accounts()
            .tenant_for_operator(s.a.tenant_id)
            .unwrap()
            .account_id;
        store
            .accounts()
            .set_retention(
                account,
                s.a.tenant_id,
                RetentionOverride {
                    payload_days: Some(10),
                    record_days: Some(30),
                },
            )
            .unwrap();
        let start = Utc::now();

        let (delivered, delivered_key) = message(store, &payloads, s.a, Direction::Outbound, "D");
        to(
            store,
            s.a,
            &delivered,
            &[MessageStatus::Processing, MessageStatus::Delivered],
        );
        let raw_mdn = payloads.put_bytes(b"partner MDN").unwrap();
        store
            .messages()
            .record_mdn(
                s.a,
                &MdnRecord {
                    message_id: delivered.id,
                    disposition: "automatic-action/MDN-sent-automatically; processed".into(),
                    positive: true,
                    mic: None,
                    mic_matched: None,
                    signed: true,
                    verified: true,
                    original_message_id: Some(delivered.as2_message_id.clone()),
                    raw_key: Some(raw_mdn.key.clone()),
                    created_at: Utc::now(),
                },
            )
            .unwrap();
        let (received, received_key) = message(store, &payloads, s.a, Direction::Inbound, "R");
        // a small one received with its payload in its row
        let small = inline_message(store, s.a, Direction::Inbound, "I");
        let (queued, queued_key) = message(store, &payloads, s.a, Direction::Outbound, "Q");
        let (sent, sent_key) = message(store, &payloads, s.a, Direction::Outbound, "S");
        to(
            store,
            s.a,
            &sent,
            &[MessageStatus::Processing, MessageStatus::Sent],
        );
        // a resend in flight shares the delivered message's payload
        let copy = store
            .messages()
            .resend(s.a, delivered.id, "<copy@acme>", 3, None)
            .unwrap();
        // tenant b (Free: 30 days of payloads) has an old delivered message too
        let (other, other_key) = message(store, &payloads, s.b, Direction::Inbound, "B");
        // and so does tenant a's live mode (same policy: the tenant's)
        let (live, live_key) = message(store, &payloads, s.a_live, Direction::Inbound, "L");

        let limits = RoundLimits {
            batch: 1,
            batches: 10,
        };
        let nothing = purge_round(store, &payloads, start + Duration::days(9), limits).unwrap();
        assert_eq!((nothing.payloads, nothing.records), (0, 0), "{nothing:?}");

        let later = start + Duration::days(11);
        let first = purge_round(store, &payloads, later, limits).unwrap();
        assert_eq!(
            first.payloads, 4,
            "delivered, received, small, live: {first:?}"
        );
        assert_eq!(first.records, 0);
        // the delivered one's payload is still named by its resend: kept; the rest deleted
        assert!(exists(&payloads, &delivered_key));
        assert!(!exists(&payloads, &received_key));
        assert!(!exists(&payloads, &raw_mdn.key));
        assert!(!exists(&payloads, &live_key));
        assert_eq!(first.objects_deleted, 3);
        for (scope, id) in [
            (s.a, delivered.id),
            (s.a, received.id),
            (s.a, small.id),
            (s.a_live, live.id),
        ] {
            let purged = store.messages().get(scope, id).unwrap();
            assert_eq!(purged.payload, None, "row and inline bytes alike");
            assert!(purged.payload_purged_at.is_some());
        }
        let mdn = store.messages().mdn(s.a, delivered.id).unwrap().unwrap();
        assert_eq!(mdn.raw_key, None, "the raw MDN goes with the payload");
        // in flight, and the other tenant under its own plan: untouched
        for (scope, m, key) in [
            (s.a, &queued, &queued_key),
            (s.a, &sent, &sent_key),
            (s.b, &other, &other_key),
        ] {
            let kept = store.messages().get(scope, m.id).unwrap();
            assert_eq!(
                kept.payload.as_ref().and_then(PayloadRef::object_key),
                Some(key.as_str())
            );
            assert!(exists(&payloads, key));
        }
        assert_eq!(
            store.messages().get(s.a, copy.id).unwrap().payload,
            Some(PayloadRef::Object(delivered_key.clone()))
        );
        // a purged message cannot be resent: its sentence says why
        let refused = store
            .messages()
            .resend(s.a, delivered.id, "<again@acme>", 3, None);
        match refused {
            Err(StoreError::Conflict(sentence)) => {
                assert!(sentence.contains("retention"), "{sentence}");
            }
            other => panic!("{other:?}"),
        }
        // recorded, once per batch, and never purged twice
        let history = store.retention().history(s.a, 10).unwrap();
        assert_eq!(history.len(), 3, "{history:?}");
        assert!(history.iter().all(|p| p.kind == "payloads" && p.items == 1));
        let again = purge_round(store, &payloads, later, limits).unwrap();
        assert_eq!((again.payloads, again.records), (0, 0), "{again:?}");

        // the clock moves past the record days: rows and their timelines go
        let much_later = start + Duration::days(31);
        let second = purge_round(store, &payloads, much_later, limits).unwrap();
        assert_eq!(second.records, 4, "{second:?}");
        assert_eq!(second.payloads, 1, "tenant b, 30 days of payloads on Free");
        for (scope, id) in [
            (s.a, delivered.id),
            (s.a, received.id),
            (s.a, small.id),
            (s.a_live, live.id),
        ] {
            assert!(matches!(
                store.messages().get(scope, id),
                Err(StoreError::NotFound)
            ));
            // (their events and MDN went first: the foreign keys would refuse otherwise)
        }
        assert!(store.messages().mdn(s.a, delivered.id).unwrap().is_none());
        for id in [queued.id, sent.id, copy.id] {
            assert!(store.messages().get(s.a, id).is_ok());
        }
        // tenant b's 30 days of payloads are over by now, its 90 days of rows are not
        let b = store.messages().get(s.b, other.id).unwrap();
        assert!(b.payload_purged_at.is_some());
        assert!(!exists(&payloads, &other_key));
        let records: Vec<_> = store
            .retention()
            .history(s.a, 10)
            .unwrap()
            .into_iter()
            .filter(|p| p.kind == "records")
            .collect();
        assert_eq!(records.len(), 3);
    }
}
