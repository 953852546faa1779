//! Resend and cancel in the store, on both backends: the copy shares the payload (still
//! referenced for the orphan sweep), names its original in `resent_from` and in the event it
//! announces; a cancel removes the waiting job and fails the message as `cancelled`.

use crate::common::*;
use as2_domain::job::JobKind;
use as2_domain::message::{Direction, ErrorKind, Message, MessageStatus, PayloadRef};
use as2_domain::pagination::PageRequest;
use as2_domain::webhook::{EventType, WebhookSettings};
use as2_store::repo::messages::NewMessage;
use as2_store::testing::TestDb;
use as2_store::{Announce, Scope, Store, StoreError};
use chrono::Utc;

fn queued(store: &Store, scope: Scope) -> Message {
    let partner = partner(store, scope, "P1");
    let new = NewMessage {
        subject: Some("Invoice"),
        filename: Some("invoice.edi"),
        payload: Some(&PayloadRef::Object("ab/cdef".into())),
        ..message(&partner, Direction::Outbound, "<original@acme>")
    };
    store
        .messages()
        .create_outbound(scope, &new, 3, None)
        .unwrap()
}

#[test]
fn a_resend_shares_the_payload_links_the_original_and_can_be_cancelled() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let settings = WebhookSettings {
            url: "https://hooks.example/as2".into(),
            description: None,
            events: vec!["*".into()],
            active: true,
        };
        let hook = store
            .webhooks()
            .create(s.a, &settings, "secret")
            .unwrap()
            .id;
        let original = queued(store, s.a);
        let messages = store.messages();
        let queued_again = Announce::new(EventType::MessageQueued);
        // in flight: refused
        let refused = messages.resend(s.a, original.id, "<copy@x>", 3, None);
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        // the original's job, claimed and done, as a worker would
        let job = store
            .jobs()
            .claim(
                &[JobKind::SendMessage],
                Utc::now(),
                chrono::Duration::minutes(1),
            )
            .unwrap()
            .expect("the original's job");
        assert!(
            job.payload
                .contains(&format!("\"message_id\":{},", original.id.0))
        );
        for to in [MessageStatus::Processing, MessageStatus::Delivered] {
            messages
                .transition(s.a, original.id, to, None, to.as_str(), None)
                .unwrap();
        }
        // another tenant cannot resend it
        let foreign = messages.resend(s.b, original.id, "<copy@x>", 3, None);
        assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");

        let copy = messages
            .resend(s.a, original.id, "<copy@x>", 3, Some(&queued_again))
            .unwrap();
        assert_ne!(copy.id, original.id);
        assert_eq!(copy.as2_message_id, "<copy@x>");
        assert_eq!(copy.resent_from, Some(original.id));
        assert_eq!(copy.status, MessageStatus::Queued);
        assert_eq!(copy.payload, Some(PayloadRef::Object("ab/cdef".into())));
        assert_eq!(copy.filename.as_deref(), Some("invoice.edi"));
        assert_eq!(copy.subject.as_deref(), Some("Invoice"));
        assert_eq!(copy.station_id, original.station_id);
        assert_eq!(
            messages.get(s.a, copy.id).unwrap().resent_from,
            Some(original.id)
        );
        assert!(
            store
                .payload_refs()
                .referenced(&["ab/cdef".to_owned()])
                .unwrap()
                .contains("ab/cdef")
        );
        let (latest, _) = store
            .webhooks()
            .deliveries(s.a, hook, PageRequest::default())
            .unwrap();
        let event = store.webhooks().event(latest[0].event_id).unwrap();
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["id"], copy.id.to_string());
        assert_eq!(data["resent_from"], original.id.to_string());
        let timeline = messages.events(s.a, original.id).unwrap();
        assert_eq!(timeline.last().unwrap().event_type, "resent");

        // the delivered original cannot be cancelled; the queued copy can, once
        let refused = messages.cancel(s.a, original.id, None);
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        let cancelled = messages.cancel(s.a, copy.id, None).unwrap();
        assert_eq!(cancelled.status, MessageStatus::Failed);
        assert_eq!(cancelled.error.unwrap().kind, ErrorKind::Cancelled);
        assert!(
            store
                .jobs()
                .claim(
                    &[JobKind::SendMessage],
                    Utc::now(),
                    chrono::Duration::minutes(1)
                )
                .unwrap()
                .is_none(),
            "the copy's job is gone"
        );
        let again = messages.cancel(s.a, copy.id, None);
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    }
}
