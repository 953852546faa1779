//! Keyset paging of a creation range, on both backends: a range walked in parts after a
//! cursor sees every message of its scope once, in (created_at, id) order with ties broken on
//! the id, and never another tenant's or mode's; a part's messages read back by id.

use crate::common::*;
use as2_domain::id::MessageId;
use as2_domain::message::{Direction, Message, PayloadRef};
use as2_domain::partner::Partner;
use as2_store::repo::messages::{Cursor, NewMessage};
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};
use chrono::{Duration, Utc};

fn outbound(store: &Store, scope: Scope, partner: &Partner, n: usize) -> Message {
    let as2_id = format!("<{n}@acme>");
    let new = NewMessage {
        filename: Some("f.edi"),
        payload: Some(&PayloadRef::Object("ab/cdef".into())),
        ..message(partner, Direction::Outbound, &as2_id)
    };
    store
        .messages()
        .create_outbound(scope, &new, 3, None)
        .unwrap()
}

#[test]
fn a_range_is_walked_in_parts_after_a_cursor_in_created_at_then_id_order() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let mine = partner(store, s.a, "P1");
        let ids: Vec<MessageId> = (0..7).map(|n| outbound(store, s.a, &mine, n).id).collect();
        let theirs = partner(store, s.b, "P2");
        let foreign = outbound(store, s.b, &theirs, 0).id;
        let live = partner(store, s.a_live, "P3");
        outbound(store, s.a_live, &live, 0);
        // four messages share the first one's creation time: their order is the id's
        let tied: Vec<String> = ids[3..].iter().map(|id| id.0.to_string()).collect();
        db.execute(&format!(
            "UPDATE messages SET created_at = (SELECT created_at FROM messages WHERE id = {}) WHERE id IN ({})",
            ids[0].0,
            tied.join(",")
        ));
        let messages = store.messages();
        let mut expected: Vec<Cursor> = ids
            .iter()
            .map(|&id| Cursor {
                created_at: messages.get(s.a, id).unwrap().created_at,
                id,
            })
            .collect();
        expected.sort_by_key(|c| (c.created_at, c.id.0));
        assert_ne!(
            expected.iter().map(|c| c.id).collect::<Vec<_>>(),
            ids,
            "the ties change the order from the ids'"
        );

        let range = (
            Utc::now() - Duration::hours(1),
            Utc::now() + Duration::hours(1),
        );
        let mut walked = Vec::new();
        let mut after = None;
        loop {
            let part = messages.ids_after(s.a, range, after, 3).unwrap();
            assert!(part.len() <= 3);
            let Some(&last) = part.last() else { break };
            walked.extend(part);
            after = Some(last);
        }
        assert_eq!(walked, expected, "every message once, in order");

        let before = (range.0, expected[0].created_at);
        assert!(
            messages
                .ids_after(s.a, before, None, 10)
                .unwrap()
                .is_empty()
        );

        let read = messages
            .with_mdns(s.a, &[expected[1].id, foreign, expected[0].id])
            .unwrap();
        let read: Vec<MessageId> = read.iter().map(|(m, _)| m.id).collect();
        assert_eq!(
            read,
            [expected[0].id, expected[1].id],
            "never another tenant's"
        );
    }
}
