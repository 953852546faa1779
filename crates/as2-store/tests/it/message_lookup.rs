//! The duplicate check of every received message (`Messages::find_by_as2_id`) stays a lookup
//! by its unique key however many messages the tenant has, on PostgreSQL before the table has
//! statistics: with the tenant's scope in its WHERE clause, the prepared statement's generic
//! plan walked the tenant's `(tenant_id, mode, …)` index and filtered every message (3.3 ms
//! per received message after 6 000 in `cargo xtask bench gateway`, and rising).

use std::time::{Duration, Instant};

use crate::common::*;
use as2_domain::message::Direction;
use as2_store::testing::TestDb;

/// Messages the tenant already has: a scan of them costs milliseconds, the unique lookup
/// tens of microseconds.
const EXISTING: usize = 30_000;

#[test]
fn the_duplicate_check_does_not_scan_the_tenants_messages() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let store = &db.store;
    let s = scopes(store);
    let p = partner(store, s.a, "P1");
    let other = partner(store, s.b, "P2");
    // the rows straight in SQL, as fast as PostgreSQL writes them: no statistics yet
    db.execute(&format!(
        "INSERT INTO messages (tenant_id, mode, direction, partner_id, station_id, as2_message_id, \
         content_type, bytes, sha256, mdn_mode, status, attempts, created_at, updated_at) \
         SELECT {tenant}, '{mode}', 'inbound', {partner}, {station}, '<m' || g || '@p1>', \
         'application/edi-x12', 3, '00', 'sync', 'received', 0, now(), now() \
         FROM generate_series(1, {EXISTING}) AS g",
        tenant = s.a.tenant(),
        mode = s.a.mode(),
        partner = p.id.0,
        station = p.settings.station_id.0,
    ));
    let messages = store.messages();
    // every pooled connection past the five executions after which PostgreSQL may keep a
    // generic plan for the statement
    let mut last = Duration::ZERO;
    for n in 0..80 {
        let started = Instant::now();
        let found = messages
            .find_by_as2_id(s.a, p.id, Direction::Inbound, &format!("<new{n}@p1>"))
            .unwrap();
        assert!(found.is_none());
        if n >= 40 {
            last += started.elapsed();
        }
    }
    assert!(
        last < Duration::from_millis(40),
        "40 lookups took {last:?}: the duplicate check scans the tenant's messages"
    );
    // still found, and only in its own scope
    let hit = messages
        .find_by_as2_id(s.a, p.id, Direction::Inbound, "<m17@p1>")
        .unwrap()
        .expect("an existing message");
    assert_eq!(hit.as2_message_id, "<m17@p1>");
    assert!(
        messages
            .find_by_as2_id(s.b, p.id, Direction::Inbound, "<m17@p1>")
            .unwrap()
            .is_none(),
        "another tenant's scope finds nothing through this tenant's partner"
    );
    assert!(
        messages
            .find_by_as2_id(s.b, other.id, Direction::Inbound, "<m17@p1>")
            .unwrap()
            .is_none()
    );
}
