//! Several writers of one process on SQLite take turns without sleeping: each transaction
//! starts the moment the previous one commits (`as2_store::db::WriterQueue`), where SQLite's
//! busy handler left the lock free while the waiters slept, up to 100 ms a try, and the
//! unluckiest writer waited 230 to 440 ms.

use std::time::{Duration, Instant};

use crate::common::*;
use as2_domain::message::Direction;
use as2_store::db::PoolOptions;
use as2_store::testing::TestDb;

const WRITERS: usize = 8;
const EACH: usize = 40;

#[test]
fn writers_of_one_process_take_turns_without_sleeping() {
    // no checkpoint thread: its TRUNCATE of an idle database holds the write lock for up to
    // 100 ms by design (`as2_store::wal_checkpoint`), which is not what this test measures
    let db = TestDb::sqlite_with(&PoolOptions {
        wal_checkpoints: None,
        ..PoolOptions::default()
    });
    let store = &db.store;
    let s = scopes(store);
    let p = partner(store, s.a, "P1");
    let waits = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|threads| {
        for writer in 0..WRITERS {
            let (waits, p) = (&waits, &p);
            threads.spawn(move || {
                for n in 0..EACH {
                    let id = format!("<w{writer}-{n}@p1>");
                    let new = message(p, Direction::Inbound, &id);
                    let started = Instant::now();
                    store
                        .transaction(|tx| tx.messages().create(s.a, &new, None))
                        .unwrap();
                    waits.lock().unwrap().push(started.elapsed());
                }
            });
        }
    });
    let mut waits = waits.into_inner().unwrap();
    waits.sort();
    let total: Duration = waits.iter().sum();
    let longest = waits[waits.len() - 1];
    let p95 = waits[waits.len() * 95 / 100];
    // each commit is one fsync (under a millisecond here): the longest wait is the queue
    // ahead of it and a new connection's set-up (12 to 14 ms here), not a writer starved
    // behind the others' busy-handler sleeps (230 to 440 ms before the queue)
    assert!(
        longest < Duration::from_millis(100),
        "{} transactions by {WRITERS} writers: p95 {p95:?}, longest {longest:?}, all together {total:?}",
        waits.len()
    );
}
