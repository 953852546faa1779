//! A message's payload by reference or inline (issue 18), on both backends: each kind reads
//! back as it was written, a resend copies it, a failed inbound message received again takes
//! either kind, and the orphan sweep's question names only objects.

use crate::common::*;
use as2_domain::message::{Direction, Message, MessageError, MessageStatus, PayloadRef};
use as2_domain::partner::Partner;
use as2_store::repo::messages::{NewMessage, ReceivedPayload};
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn outbound(
    store: &Store,
    scope: Scope,
    partner: &Partner,
    id: &str,
    payload: &PayloadRef,
) -> Message {
    let new = NewMessage {
        filename: Some("a.edi"),
        payload: Some(payload),
        ..message(partner, Direction::Outbound, id)
    };
    store
        .messages()
        .create_outbound(scope, &new, 3, None)
        .unwrap()
}

#[test]
fn each_kind_of_payload_reads_back_as_written_and_a_resend_copies_it() {
    // every byte value, a NUL first: the column is binary, not text
    let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let p1 = partner(store, s.a, "P1");
        for (n, payload) in [
            PayloadRef::Object(KEY.into()),
            PayloadRef::Inline(bytes.clone()),
            PayloadRef::Inline(Vec::new()),
        ]
        .into_iter()
        .enumerate()
        {
            let created = outbound(store, s.a, &p1, &format!("<m{n}@x>"), &payload);
            assert_eq!(created.payload.as_ref(), Some(&payload), "{}", db.url);
            let read = store.messages().get(s.a, created.id).unwrap();
            assert_eq!(read.payload.as_ref(), Some(&payload), "{}", db.url);
            // delivered, then sent again: the copy holds the same reference or bytes
            let messages = store.messages();
            for to in [
                MessageStatus::Processing,
                MessageStatus::Sent,
                MessageStatus::Delivered,
            ] {
                messages
                    .transition(s.a, created.id, to, None, to.as_str(), None)
                    .unwrap();
            }
            let copy = messages
                .resend(s.a, created.id, &format!("<copy{n}@x>"), 3, None)
                .unwrap();
            assert_eq!(copy.payload.as_ref(), Some(&payload), "{}", db.url);
            assert_eq!(
                messages.get(s.a, copy.id).unwrap().payload.as_ref(),
                Some(&payload)
            );
        }
        // the orphan sweep asks about keys: only the object is named (twice: the copy too)
        let named = store
            .payload_refs()
            .referenced(&[KEY.to_owned(), "f".repeat(32)])
            .unwrap();
        assert_eq!(named.into_iter().collect::<Vec<_>>(), vec![KEY.to_owned()]);
        // another tenant sees none of it
        assert!(
            store
                .messages()
                .find_by_as2_id(s.b, p1.id, Direction::Outbound, "<m1@x>")
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn a_failed_inbound_message_received_again_takes_either_kind_of_payload() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let partner = partner(store, s.a, "P1");
        let failure = MessageError {
            kind: as2_domain::message::ErrorKind::DecryptionFailed,
            sentence: "could not decrypt".into(),
        };
        let mut ids = Vec::new();
        for n in 0..2 {
            let failed = store
                .messages()
                .create(
                    s.a,
                    &NewMessage {
                        content_type: "application/octet-stream",
                        bytes: 0,
                        sha256: "",
                        status: MessageStatus::Failed,
                        error: Some(&failure),
                        ..message(&partner, Direction::Inbound, &format!("<in{n}@x>"))
                    },
                    None,
                )
                .unwrap();
            assert_eq!(failed.payload, None);
            ids.push(failed.id);
        }
        for (id, payload) in ids.into_iter().zip([
            PayloadRef::Inline(b"ISA*00*~".to_vec()),
            PayloadRef::Object(KEY.into()),
        ]) {
            let received = store
                .messages()
                .set_received(
                    s.a,
                    id,
                    ReceivedPayload {
                        payload: &payload,
                        bytes: 8,
                        sha256: "ab",
                        mic: "mic, sha256",
                    },
                    None,
                )
                .unwrap();
            assert_eq!(received.status, MessageStatus::Received);
            assert_eq!(received.payload, Some(payload), "{}", db.url);
        }
    }
}
