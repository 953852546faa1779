//! The writer queue's tests: grouping, a failing writer, a failed commit, a panic, and work
//! handed to the holder of the turn.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use diesel::connection::SimpleConnection as _;
use diesel::sql_types::Text;

use super::*;
use crate::db::{Database, PoolOptions};

fn database(dir: &tempfile::TempDir) -> Database {
    let url = dir.path().join("queue.sqlite3").display().to_string();
    let options = PoolOptions {
        wal_checkpoints: None,
        ..PoolOptions::default()
    };
    let db = Database::connect(&url, &options).unwrap();
    let mut conn = db.conn().unwrap();
    crate::with_conn!(&mut conn, |c| c.batch_execute(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE t (name TEXT NOT NULL,
             parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);"
    ))
    .unwrap();
    db
}

fn queue(db: &Database) -> &WriterQueue {
    match db {
        Database::Sqlite(.., queue) => queue,
        Database::Postgres(_) => unreachable!("an SQLite test"),
    }
}

/// Writes row `name` (its parent `parent`, which must exist when the group commits).
fn insert(tx: &mut Tx<'_>, name: &str, parent: Option<i64>) -> StoreResult<()> {
    let Tx::Sqlite(c) = tx else {
        unreachable!("an SQLite test")
    };
    diesel::sql_query("INSERT INTO t (name, parent) VALUES (?, ?)")
        .bind::<Text, _>(name)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(parent)
        .execute(&mut **c)?;
    Ok(())
}

fn names(db: &Database) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let mut conn = db.conn().unwrap();
    let rows: Vec<Name> = crate::with_conn!(&mut conn, |c| diesel::sql_query(
        "SELECT name FROM t ORDER BY name"
    )
    .load(c))
    .unwrap();
    rows.into_iter().map(|n| n.name).collect()
}

/// No row of a failed group is kept, and the next writer commits as ever.
fn nothing_kept_and_the_queue_goes_on(db: &Database) {
    assert!(names(db).is_empty());
    db.transaction(|tx| insert(tx, "after", None)).unwrap();
    assert_eq!(names(db), ["after"]);
}

/// Inside a writer's work: waits until `n` writers in all have come to the queue (those
/// after it wait for its turn), so that the test knows who is in its group.
fn wait_for_tickets(queue: &WriterQueue, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while queue.state.lock().next_ticket < n {
        assert!(Instant::now() < deadline, "the other writers never came");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `work` as a writer on its own thread, once `tickets` writers have come before it.
fn writer<'s, T: Send + 's>(
    threads: &'s std::thread::Scope<'s, '_>,
    db: &'s Database,
    tickets: u64,
    work: impl FnOnce(&mut Tx<'_>) -> StoreResult<T> + Send + 's,
) -> std::thread::ScopedJoinHandle<'s, StoreResult<T>> {
    wait_for_tickets(queue(db), tickets);
    threads.spawn(move || db.transaction(work))
}

/// `writers` threads of `each` transactions, each committed by `commit` (which writes the row
/// it names and lingers long enough for the others to queue behind it): every row is there,
/// in fewer than half as many commits as transactions.
fn writers_are_committed_together(commit: fn(&Database, String) -> StoreResult<()>) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let (writers, each) = (8, 25);
    std::thread::scope(|threads| {
        for w in 0..writers {
            let db = &db;
            threads.spawn(move || {
                for n in 0..each {
                    commit(db, format!("{w:02}-{n:02}")).unwrap();
                }
            });
        }
    });
    assert_eq!(names(&db).len(), writers * each);
    let commits = queue(&db).groups_committed();
    assert!(
        commits < (writers * each / 2) as u64,
        "{commits} commits for {} transactions",
        writers * each
    );
}

/// Writes `name`, then lingers long enough for the other writers to queue behind it.
fn insert_and_linger(tx: &mut Tx<'_>, name: &str) -> StoreResult<()> {
    insert(tx, name, None)?;
    std::thread::sleep(Duration::from_micros(300));
    Ok(())
}

/// Writers that arrive while one runs are committed with it: fewer commits than
/// transactions, and every one of them is there.
#[test]
fn writers_that_wait_are_committed_together() {
    writers_are_committed_together(|db, name| db.transaction(|tx| insert_and_linger(tx, &name)));
}

/// A writer alone commits at once, with no savepoint.
#[test]
fn a_writer_alone_commits_its_own_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let before = db.statements_run();
    db.transaction(|tx| insert(tx, "alone", None)).unwrap();
    // BEGIN IMMEDIATE, the INSERT, COMMIT
    assert_eq!(db.statements_run() - before, 3);
    assert_eq!(queue(&db).groups_committed(), 1);
    assert_eq!(names(&db), ["alone"]);
}

/// A writer whose work fails in the middle of a group loses its own rows only: the one
/// before it in the group and the one after it are committed.
#[test]
fn a_failing_writer_loses_only_its_own_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let q = queue(&db);
    std::thread::scope(|threads| {
        let first = writer(threads, &db, 0, |tx| {
            insert(tx, "first", None)?;
            wait_for_tickets(q, 3);
            Ok(())
        });
        let failing = writer(threads, &db, 1, |tx| {
            insert(tx, "failing", None)?;
            Err::<(), _>(StoreError::Conflict("refused by its own rule".into()))
        });
        let last = writer(threads, &db, 2, |tx| insert(tx, "last", None));
        assert!(first.join().unwrap().is_ok());
        assert!(matches!(
            failing.join().unwrap(),
            Err(StoreError::Conflict(_))
        ));
        assert!(last.join().unwrap().is_ok());
    });
    assert_eq!(names(&db), ["first", "last"]);
}

/// A group whose commit fails (here a deferred foreign key, checked at the commit) fails
/// every writer in it, and none of their rows is kept; the queue goes on.
#[test]
fn a_failed_commit_fails_every_writer_of_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let q = queue(&db);
    std::thread::scope(|threads| {
        let orphan = writer(threads, &db, 0, |tx| {
            insert(tx, "orphan", Some(404))?;
            wait_for_tickets(q, 2);
            Ok(())
        });
        let innocent = writer(threads, &db, 1, |tx| insert(tx, "innocent", None));
        let orphan = orphan.join().unwrap();
        let innocent = innocent.join().unwrap();
        assert!(
            matches!(&orphan, Err(StoreError::Unavailable(_))),
            "{orphan:?}"
        );
        assert!(
            matches!(&innocent, Err(StoreError::Database(_))),
            "{innocent:?}"
        );
    });
    nothing_kept_and_the_queue_goes_on(&db);
}

/// A writer that panics in its work abandons its group: the writer before it, waiting
/// for the commit, gets an error and its row is not kept; the queue goes on.
#[test]
fn a_panicking_writer_abandons_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let q = queue(&db);
    std::thread::scope(|threads| {
        let first = writer(threads, &db, 0, |tx| {
            insert(tx, "first", None)?;
            wait_for_tickets(q, 2);
            Ok(())
        });
        let panicking = writer(threads, &db, 1, |tx| -> StoreResult<()> {
            insert(tx, "panicking", None)?;
            panic!("a bug in a writer's work");
        });
        assert!(panicking.join().is_err());
        let first = first.join().unwrap();
        assert!(
            matches!(&first, Err(StoreError::Unavailable(_))),
            "{first:?}"
        );
    });
    nothing_kept_and_the_queue_goes_on(&db);
}

/// Inside a writer's work: waits until `n` handed writers' work waits in the queue.
fn wait_for_handed(queue: &WriterQueue, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while queue.state.lock().pending.len() < n {
        assert!(Instant::now() < deadline, "the handed work never came");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Hands `name`'s insert to the queue from a thread of its own; the thread that ran it.
fn handed<'s>(
    threads: &'s std::thread::Scope<'s, '_>,
    db: &'s Database,
    name: &'static str,
) -> std::thread::ScopedJoinHandle<'s, (std::thread::ThreadId, StoreResult<std::thread::ThreadId>)>
{
    threads.spawn(move || {
        let ran_on = db.transaction_owned(move |tx| {
            insert(tx, name, None)?;
            Ok(std::thread::current().id())
        });
        (std::thread::current().id(), ran_on)
    })
}

/// Work handed to the queue while a writer holds the turn is run by that writer's thread, in
/// its group (one commit for both), and its writer gets the work's value.
#[test]
fn handed_work_is_run_by_the_holder_of_the_turn() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let q = queue(&db);
    std::thread::scope(|threads| {
        let holder = writer(threads, &db, 0, |tx| {
            insert(tx, "holder", None)?;
            wait_for_handed(q, 1);
            Ok(std::thread::current().id())
        });
        wait_for_tickets(q, 1);
        let (own_thread, ran_on) = handed(threads, &db, "handed").join().unwrap();
        let holder_thread = holder.join().unwrap().unwrap();
        assert_eq!(ran_on.unwrap(), holder_thread);
        assert_ne!(own_thread, holder_thread);
    });
    assert_eq!(names(&db), ["handed", "holder"]);
    assert_eq!(q.groups_committed(), 1);
}

/// Hands `work` to the queue while a writer holds the turn (inserting "holder"), which must
/// still commit its own row alone: what became of `work`.
fn handed_beside_a_holder(
    work: impl FnOnce(&mut Tx<'_>) -> StoreResult<()> + Send + 'static,
) -> StoreResult<()> {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let q = queue(&db);
    let outcome = std::thread::scope(|threads| {
        let holder = writer(threads, &db, 0, |tx| {
            insert(tx, "holder", None)?;
            wait_for_handed(q, 1);
            Ok(())
        });
        wait_for_tickets(q, 1);
        let outcome = threads.spawn(|| db.transaction_owned(work)).join().unwrap();
        assert!(holder.join().unwrap().is_ok());
        outcome
    });
    assert_eq!(names(&db), ["holder"]);
    outcome
}

/// Handed work that fails is rolled back alone: its writer gets its error, the holder's
/// work is committed.
#[test]
fn failing_handed_work_loses_only_its_own_rows() {
    let outcome = handed_beside_a_holder(|tx| {
        insert(tx, "failing", None)?;
        Err(StoreError::Conflict("refused by its own rule".into()))
    });
    assert!(
        matches!(outcome, Err(StoreError::Conflict(_))),
        "{outcome:?}"
    );
}

/// Handed work that panics fails alone: the holder's thread goes on and commits its own.
#[test]
fn panicking_handed_work_fails_alone() {
    let outcome = handed_beside_a_holder(|tx| {
        insert(tx, "panicking", None)?;
        panic!("a bug in handed work");
    });
    assert!(
        matches!(&outcome, Err(StoreError::Unavailable(_))),
        "{outcome:?}"
    );
}

/// A group whose commit fails fails the handed work in it too; nothing is kept.
#[test]
fn a_failed_commit_fails_the_handed_work_in_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let q = queue(&db);
    std::thread::scope(|threads| {
        let orphan = writer(threads, &db, 0, |tx| {
            insert(tx, "orphan", Some(404))?;
            wait_for_handed(q, 1);
            Ok(())
        });
        wait_for_tickets(q, 1);
        let (_, innocent) = handed(threads, &db, "innocent").join().unwrap();
        assert!(
            matches!(&innocent, Err(StoreError::Unavailable(_))),
            "{innocent:?}"
        );
        assert!(orphan.join().unwrap().is_err());
    });
    nothing_kept_and_the_queue_goes_on(&db);
}

/// Handed work still waiting when the turn is freed (its holder's own work failed before it
/// could run any) gets the turn: its own thread runs it and commits.
#[test]
fn handed_work_waiting_when_the_turn_is_freed_takes_the_turn() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir);
    let q = queue(&db);
    std::thread::scope(|threads| {
        let failing = writer(threads, &db, 0, |tx| -> StoreResult<()> {
            insert(tx, "failing", None)?;
            wait_for_handed(q, 1);
            Err(StoreError::Conflict("refused by its own rule".into()))
        });
        wait_for_tickets(q, 1);
        let (own_thread, ran_on) = handed(threads, &db, "promoted").join().unwrap();
        assert_eq!(ran_on.unwrap(), own_thread);
        assert!(failing.join().unwrap().is_err());
    });
    assert_eq!(names(&db), ["promoted"]);
}

/// Many writers handing work at once: every row is there, in fewer commits than
/// transactions.
#[test]
fn handed_writers_are_committed_together() {
    writers_are_committed_together(|db, name| {
        db.transaction_owned(move |tx| insert_and_linger(tx, &name))
    });
}
