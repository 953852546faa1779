//! Connections to either backend (embedded SQLite or PostgreSQL) behind one pool type,
//! and the `with_conn!` macro that runs one diesel body on whichever backend is in use.
//!
//! **Unique lookups take no `LIMIT`** (`get_result`, not `first`): SQLite (3.49 and later,
//! bundled here) lets the planner read a bound `LIMIT ?` and marks the statement to be
//! prepared again whenever that parameter is bound, so diesel's cached statement was parsed
//! and planned anew at every execution of every `.first()`. That was a sixth of a gateway's
//! CPU per received message (`perf`, docs/PERFORMANCE.md). Where a unique key or index keeps
//! a query to one row, `get_result` reads the first row without a `LIMIT`; `first` stays
//! where several rows may match (PostgreSQL would send them all).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::SqliteConnection;
use diesel::connection::{Connection as _, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};

use crate::error::{StoreError, StoreResult};
use crate::pg_pool::{PgPool, PgPooled};
use crate::wal_checkpoint::{Checkpointer, WalCheckpoints};
use crate::writer_queue::WriterQueue;

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (WAL mode): the default, no server needed.
    Sqlite,
    /// PostgreSQL: production, several processes.
    Postgres,
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Most connections open at once (SQLite gets at most this many readers, one writer at a time).
    pub max_connections: u32,
    /// How long to wait for a free connection (and, on PostgreSQL, for a new one to be
    /// made): what a request waits at most before it is answered 503.
    pub connect_timeout: Duration,
    /// SQLite: WAL checkpoints by a thread of the pool instead of in the connection whose
    /// commit passed 1000 pages (`None`: SQLite's automatic checkpoint); see
    /// [`crate::wal_checkpoint`].
    pub wal_checkpoints: Option<WalCheckpoints>,
    /// SQLite: how a commit reaches the disk.
    pub sqlite_sync: SqliteSync,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            wal_checkpoints: Some(WalCheckpoints::default()),
            sqlite_sync: SqliteSync::Full,
        }
    }
}

impl PoolOptions {
    /// The defaults with the operator's `AS2_SQLITE_SYNCHRONOUS` (`full`, the default, or
    /// `normal`).
    ///
    /// # Errors
    /// Another value, named in the sentence.
    pub fn from_env() -> Result<Self, String> {
        let sqlite_sync = match std::env::var("AS2_SQLITE_SYNCHRONOUS")
            .ok()
            .as_deref()
            .map(str::trim)
        {
            None | Some("" | "full") => SqliteSync::Full,
            Some("normal") => SqliteSync::Normal,
            Some(other) => {
                return Err(format!(
                    "AS2_SQLITE_SYNCHRONOUS must be `full` or `normal`, not {other:?}"
                ));
            }
        };
        Ok(Self {
            sqlite_sync,
            ..Self::default()
        })
    }
}

/// How an SQLite commit reaches the disk (`PRAGMA synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSync {
    /// Every commit is synced to the disk before it returns (`FULL`, the default): a message
    /// row committed before its positive MDN survives a power failure, not only a crash of
    /// the process. Costs one `fsync` per commit (0.46 ms on the development machine's disk).
    #[default]
    Full,
    /// Commits are synced at checkpoints (`NORMAL`): a crash of the process loses nothing,
    /// a power failure or an OS crash may lose the last commits, whose MDNs were already sent.
    /// For an operator whose disk or host makes that acceptable; set by
    /// `AS2_SQLITE_SYNCHRONOUS=normal`.
    Normal,
}

/// A connection pool on either backend. Cheap to clone.
#[derive(Clone)]
pub enum Database {
    /// PostgreSQL pool (replaces connections the server dropped).
    Postgres(PgPool),
    /// SQLite pool, the statements its connections have run, its checkpoint thread
    /// (stopped when the last clone is dropped) and its writers' queue (which commits
    /// them in groups: [`crate::writer_queue`]).
    Sqlite(
        Pool<ConnectionManager<SqliteConnection>>,
        Arc<AtomicU64>,
        Option<Arc<Checkpointer>>,
        Arc<WriterQueue>,
    ),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// One pooled connection of either backend.
pub enum DbConn {
    /// PostgreSQL.
    Postgres(PgPooled),
    /// SQLite.
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
}

impl std::fmt::Debug for DbConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Postgres(_) => "DbConn::Postgres",
            Self::Sqlite(_) => "DbConn::Sqlite",
        })
    }
}

/// Runs `$body` with `$c` bound to `&mut PgConnection` or `&mut SqliteConnection`.
///
/// The body is compiled once per backend, so every diesel feature of each stays available
/// (RETURNING, `FOR UPDATE SKIP LOCKED` behind a backend match, ...).
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres(pooled) => {
                let $c: &mut ::diesel::PgConnection = &mut ***pooled;
                $body
            }
            $crate::db::DbConn::Sqlite(pooled) => {
                let $c: &mut ::diesel::SqliteConnection = &mut **pooled;
                $body
            }
        }
    };
}

/// Sets the pragmas every SQLite connection needs, and counts its statements.
#[derive(Debug, Clone, Default)]
struct SqlitePragmas {
    statements: Option<Arc<AtomicU64>>,
    /// No automatic checkpoint in this connection: the pool's checkpoint thread does them.
    no_autocheckpoint: bool,
    /// How commits reach the disk.
    sync: SqliteSync,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // busy_timeout first: switching to WAL takes a lock, and another process starting
        // on the same file (api-server and gateway started together) holds it for a moment
        let synchronous = match self.sync {
            SqliteSync::Full => "FULL",
            SqliteSync::Normal => "NORMAL",
        };
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
        ))
        .map_err(diesel::r2d2::Error::QueryError)?;
        if self.no_autocheckpoint {
            conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        if let Some(statements) = self.statements.clone() {
            conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                if matches!(event, InstrumentationEvent::StartQuery { .. }) {
                    statements.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        Ok(())
    }
}

/// Tells the backend from a URL: `sqlite://PATH` (or a bare path) or `postgres://`/`postgresql://`.
pub fn backend_of(url: &str) -> StoreResult<Backend> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite://")
        || url.starts_with("sqlite:")
        || url.ends_with(".sqlite3")
        || url.ends_with(".db")
    {
        Ok(Backend::Sqlite)
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

/// The file path diesel's SQLite driver takes.
pub(crate) fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

impl Database {
    /// Opens a pool on `url`.
    pub fn connect(url: &str, options: &PoolOptions) -> StoreResult<Self> {
        let unavailable =
            |e: diesel::r2d2::PoolError| StoreError::Unavailable(crate::redact(&e.to_string()));
        match backend_of(url)? {
            // No test query on every checkout (r2d2's default): it doubled the round trips of
            // a gateway request. `pg_pool` replaces dropped connections instead.
            Backend::Postgres => {
                PgPool::open(url, options.max_connections, options.connect_timeout)
                    .map(Self::Postgres)
                    .map_err(unavailable)
            }
            Backend::Sqlite => {
                let path = sqlite_path(url);
                if let Some(parent) = std::path::Path::new(path)
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent)?;
                }
                let statements = Arc::new(AtomicU64::new(0));
                let pool = Pool::builder()
                    .max_size(options.max_connections)
                    .connection_timeout(options.connect_timeout)
                    .test_on_check_out(false)
                    .connection_customizer(Box::new(SqlitePragmas {
                        statements: Some(statements.clone()),
                        no_autocheckpoint: options.wal_checkpoints.is_some(),
                        sync: options.sqlite_sync,
                    }))
                    .build(ConnectionManager::<SqliteConnection>::new(path))
                    .map_err(unavailable)?;
                let checkpointer = options
                    .wal_checkpoints
                    .map(|settings| Checkpointer::start(path, settings).map(Arc::new))
                    .transpose()?;
                Ok(Self::Sqlite(
                    pool,
                    statements,
                    checkpointer,
                    Arc::new(WriterQueue::default()),
                ))
            }
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(..) => Backend::Sqlite,
        }
    }

    /// How many SQL statements this pool's connections have run so far (transaction
    /// control included), for tests that hold a path to its number of round trips.
    pub fn statements_run(&self) -> u64 {
        match self {
            Self::Postgres(pool) => pool.statements_run(),
            Self::Sqlite(_, statements, ..) => statements.load(Ordering::Relaxed),
        }
    }

    /// Asks the database for nothing (`SELECT 1`): whether it answers.
    ///
    /// # Errors
    /// `Unavailable` when no connection could be had or the connection was lost.
    pub fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        with_conn!(&mut conn, |c| c.batch_execute("SELECT 1"))?;
        Ok(())
    }

    /// Takes a connection from the pool.
    pub fn conn(&self) -> StoreResult<DbConn> {
        let unavailable = |e: diesel::r2d2::PoolError| StoreError::Unavailable(e.to_string());
        match self {
            Self::Postgres(pool) => pool.get().map(DbConn::Postgres).map_err(unavailable),
            Self::Sqlite(pool, ..) => pool.get().map(DbConn::Sqlite).map_err(unavailable),
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::Connection as _;
    use diesel::RunQueryDsl as _;

    use super::*;

    /// Another process holding the database's lock (as a migration does) makes a new
    /// connection wait for it, not fail with "database is locked".
    #[test]
    fn a_new_connection_waits_for_a_lock_held_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.sqlite3");
        let url = path.display().to_string();
        let mut holder = SqliteConnection::establish(&url).unwrap();
        holder
            .batch_execute("CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
            .unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            holder.batch_execute("COMMIT;").unwrap();
        });
        let mut newcomer = SqliteConnection::establish(&url).unwrap();
        let result = SqlitePragmas::default().on_acquire(&mut newcomer);
        release.join().unwrap();
        assert!(result.is_ok(), "{result:?}");
    }

    #[derive(diesel::QueryableByName)]
    struct Synchronous {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        synchronous: i32,
    }

    /// Every commit is synced (`FULL` = 2) unless the operator chose `NORMAL` (1).
    #[test]
    fn commits_are_synced_unless_the_operator_loosens_it() {
        let dir = tempfile::tempdir().unwrap();
        for (sync, expected) in [(SqliteSync::Full, 2), (SqliteSync::Normal, 1)] {
            let url = dir.path().join(format!("{sync:?}.sqlite3"));
            let options = PoolOptions {
                sqlite_sync: sync,
                wal_checkpoints: None,
                ..PoolOptions::default()
            };
            let db = Database::connect(&url.display().to_string(), &options).unwrap();
            let mut conn = db.conn().unwrap();
            let DbConn::Sqlite(c) = &mut conn else {
                panic!("an SQLite connection")
            };
            let row: Synchronous = diesel::sql_query("PRAGMA synchronous")
                .get_result(&mut **c)
                .unwrap();
            assert_eq!(row.synchronous, expected, "{sync:?}");
        }
        assert_eq!(PoolOptions::default().sqlite_sync, SqliteSync::Full);
    }
}
