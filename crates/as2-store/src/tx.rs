//! The unit of work: one open transaction on either backend. What must commit together goes
//! through it: a message's change with the webhook event it causes (the outbox), a job's
//! outcome with the message it moves, a follow-up job with the state that needs it.

use diesel::{Connection as _, PgConnection, SqliteConnection};

use crate::db::{Database, DbConn};
use crate::error::StoreResult;

/// An open transaction. Its repositories ([`Tx::messages`], [`Tx::webhooks`], [`Tx::jobs`])
/// write inside it; everything commits when the closure given to [`Database::transaction`]
/// returns `Ok`, and nothing does when it returns `Err`.
pub enum Tx<'c> {
    /// PostgreSQL.
    Postgres(&'c mut PgConnection),
    /// SQLite (an immediate transaction: it holds the write lock from the start, so a read
    /// followed by a write never fails on a lock upgrade).
    Sqlite(&'c mut SqliteConnection),
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Postgres(_) => "Tx::Postgres",
            Self::Sqlite(_) => "Tx::Sqlite",
        })
    }
}

/// Runs `$body` with `$c` bound to the transaction's `&mut PgConnection` or
/// `&mut SqliteConnection` (the body is compiled once per backend, as with `with_conn!`).
///
/// The body runs in a closure, so a `?` inside it leaves the body with diesel's error (for
/// the caller's `map_err`), never the enclosing function.
macro_rules! with_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::tx::Tx::Postgres(conn) => {
                let $c: &mut ::diesel::PgConnection = conn;
                #[allow(clippy::redundant_closure_call)]
                (|| $body)()
            }
            $crate::tx::Tx::Sqlite(conn) => {
                let $c: &mut ::diesel::SqliteConnection = conn;
                #[allow(clippy::redundant_closure_call)]
                (|| $body)()
            }
        }
    };
}
pub(crate) use with_tx;

impl Database {
    /// Runs `work` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    /// On SQLite the commit may hold the work of other writers of the process too (group
    /// commit, [`crate::writer_queue`]); `Ok` means this work is committed.
    ///
    /// # Errors
    /// No connection, a failed statement, or `work`'s own error.
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&mut Tx<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.transaction_on(self.conn()?, work)
    }

    /// [`Database::transaction`] on `conn`, a connection of this pool.
    fn transaction_on<T>(
        &self,
        conn: DbConn,
        work: impl FnOnce(&mut Tx<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        match (self, conn) {
            (_, DbConn::Postgres(mut c)) => (*c).transaction(|c| work(&mut Tx::Postgres(c))),
            // SQLite: in this process's queue of writers, committed with the transactions
            // that wait on it (`crate::writer_queue`)
            (Self::Sqlite(.., queue), DbConn::Sqlite(c)) => queue.run(c, work),
            // (a pool hands out its own backend's connections: not reached)
            (Self::Postgres(_), DbConn::Sqlite(mut c)) => {
                (*c).immediate_transaction(|c| work(&mut Tx::Sqlite(c)))
            }
        }
    }

    /// [`Database::transaction`] for work that owns what it uses: on SQLite, when another
    /// writer of the process holds the turn, that writer's thread runs this work in its group
    /// rather than the turn coming to this thread ([`crate::writer_queue`]'s `handed`), which
    /// spares the queue this thread's wake-up. For the hot paths (a received message's
    /// record); the same guarantees as `transaction`.
    ///
    /// # Errors
    /// As [`Database::transaction`].
    pub fn transaction_owned<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Tx<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        match (self, self.conn()?) {
            (Self::Sqlite(.., queue), DbConn::Sqlite(c)) => queue.submit(c, work),
            (_, conn) => self.transaction_on(conn, work),
        }
    }
}
