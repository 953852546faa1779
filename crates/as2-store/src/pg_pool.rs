//! The PostgreSQL pool that survives a restart of the server: connections the server dropped
//! are replaced instead of handed out again, and while the server cannot be reached a request
//! learns it at once instead of waiting for the pool's whole timeout.
//!
//! Why not r2d2's `test_on_check_out` (a `SELECT 1` before every checkout): it costs a round
//! trip per checkout, and the gateway checks out several connections per message. Instead
//! every connection watches its own queries (diesel's instrumentation): a query that fails
//! because the connection is gone (diesel's `ClosedConnection`, `UnableToSendCommand`) marks
//! the connection broken, so r2d2 drops it when it comes back (`has_broken`), and counts a
//! *loss* for the whole pool. A server restart kills every connection at once, so after a loss
//! each idle connection established before it is pinged once on its next checkout
//! (`is_valid`); at any other time a checkout costs nothing. One request per restart sees
//! the dead connection (and answers 503); the others get live ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::connection::{Connection as _, InstrumentationEvent};
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// How long a checkout waits while the last attempt to connect failed: long enough for an
/// idle connection to be pinged, short enough that a request answers 503 at once.
const WHILE_UNREACHABLE: Duration = Duration::from_millis(250);

/// Whether `error` means the connection to the server is gone (not a failed statement).
pub(crate) fn is_connection_loss(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        DieselError::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => is_connection_loss(rollback_error) || is_connection_loss(commit_error),
        _ => false,
    }
}

/// What the connections of one pool know together.
#[derive(Debug, Default)]
struct Health {
    /// Connections lost so far; a connection established or checked before the latest loss
    /// is pinged before it is used again.
    losses: AtomicU64,
    /// The last attempt to connect failed, and none has succeeded since.
    unreachable: AtomicBool,
    /// SQL statements run by the pool's connections so far (transaction control included).
    statements: AtomicU64,
}

/// One PostgreSQL connection and whether it was seen to be lost.
pub struct PgLink {
    conn: PgConnection,
    lost: Arc<AtomicBool>,
    /// The pool's loss count when this connection was last known to be alive.
    alive_at: u64,
}

impl std::fmt::Debug for PgLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLink")
            .field("lost", &self.lost)
            .field("alive_at", &self.alive_at)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for PgLink {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PgLink {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// diesel's connection manager plus the loss detection described above.
#[derive(Debug)]
pub struct PgManager {
    inner: ConnectionManager<PgConnection>,
    health: Arc<Health>,
}

impl ManageConnection for PgManager {
    type Connection = PgLink;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgLink, Self::Error> {
        let alive_at = self.health.losses.load(Ordering::Acquire);
        let mut conn = match self.inner.connect() {
            Ok(conn) => conn,
            Err(error) => {
                self.health.unreachable.store(true, Ordering::Release);
                return Err(error);
            }
        };
        self.health.unreachable.store(false, Ordering::Release);
        let lost = Arc::new(AtomicBool::new(false));
        let (flag, health) = (lost.clone(), self.health.clone());
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { .. } = event {
                health.statements.fetch_add(1, Ordering::Relaxed);
            }
            if let InstrumentationEvent::FinishQuery {
                error: Some(error), ..
            } = event
                && is_connection_loss(error)
                && !flag.swap(true, Ordering::AcqRel)
            {
                health.losses.fetch_add(1, Ordering::AcqRel);
            }
        });
        Ok(PgLink {
            conn,
            lost,
            alive_at,
        })
    }

    fn is_valid(&self, link: &mut PgLink) -> Result<(), Self::Error> {
        let losses = self.health.losses.load(Ordering::Acquire);
        if link.lost.load(Ordering::Acquire) {
            return Err(diesel::r2d2::Error::QueryError(DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                Box::new("the connection to the server was lost".to_owned()),
            )));
        }
        if link.alive_at == losses {
            return Ok(());
        }
        self.inner.is_valid(&mut link.conn)?;
        link.alive_at = losses;
        Ok(())
    }

    fn has_broken(&self, link: &mut PgLink) -> bool {
        link.lost.load(Ordering::Acquire) || self.inner.has_broken(&mut link.conn)
    }
}

/// A pool of [`PgLink`]s.
#[derive(Clone)]
pub struct PgPool {
    pool: Pool<PgManager>,
    health: Arc<Health>,
    /// How long a checkout waits for a connection while the server is reachable.
    timeout: Duration,
}

/// A connection checked out of a [`PgPool`].
pub type PgPooled = PooledConnection<PgManager>;

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPool")
            .field("health", &self.health)
            .finish_non_exhaustive()
    }
}

impl PgPool {
    /// Opens a pool on `url` (libpq's `connect_timeout` added when the URL has none, so a
    /// server that does not answer at all cannot hold the pool's connecting threads).
    pub(crate) fn open(
        url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Self, diesel::r2d2::PoolError> {
        let health = Arc::new(Health::default());
        let manager = PgManager {
            inner: ConnectionManager::new(with_connect_timeout(url, timeout)),
            health: health.clone(),
        };
        Pool::builder()
            .max_size(max_connections)
            .connection_timeout(timeout)
            // cheap: `is_valid` pings only after a loss (see the module's comment)
            .test_on_check_out(true)
            .build(manager)
            .map(|pool| Self {
                pool,
                health,
                timeout,
            })
    }

    /// SQL statements run by the pool's connections so far.
    pub(crate) fn statements_run(&self) -> u64 {
        self.health.statements.load(Ordering::Relaxed)
    }

    /// Takes a connection: waits up to the pool's timeout, or briefly while the server is
    /// known to be unreachable, including when that becomes known during the wait: a
    /// checkout that began while the pool still believed the server up (its idle
    /// connections not yet found dead, no reconnection yet failed) would otherwise wait the
    /// whole timeout for a server that is gone (seen under load: every API reader stalled
    /// through a five-second outage). The wait is taken in slices of [`WHILE_UNREACHABLE`],
    /// the flag read after each.
    pub(crate) fn get(&self) -> Result<PgPooled, diesel::r2d2::PoolError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let slice = WHILE_UNREACHABLE.min(left);
            match self.pool.get_timeout(slice) {
                Ok(conn) => return Ok(conn),
                // the server is (now) known unreachable, or the whole timeout is spent
                Err(error) if slice == left || self.health.unreachable.load(Ordering::Acquire) => {
                    return Err(error);
                }
                Err(_) => {}
            }
        }
    }
}

/// `url` with `connect_timeout` (whole seconds, at least 1) unless it names one.
fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}connect_timeout={}",
        timeout.as_secs().max(1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connect_timeout_is_added_once() {
        let second = Duration::from_secs(3);
        assert_eq!(
            with_connect_timeout("postgres://u@h/db", second),
            "postgres://u@h/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable", second),
            "postgres://u@h/db?sslmode=disable&connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=9", second),
            "postgres://u@h/db?connect_timeout=9"
        );
    }

    /// A checkout that began while the server still looked up gives up within a slice once
    /// a reconnection fails: the pool's one connection is held while the server stops, a
    /// second checkout waits for it, and the holder's failed statement (the connection
    /// dropped, its replacement refused) must end that wait at once, not after the pool's
    /// five-second timeout.
    #[test]
    fn a_waiting_checkout_learns_that_the_server_went_away() {
        use as2_test_support::postgres_cluster::PostgresCluster;
        use diesel::RunQueryDsl as _;

        let cluster = PostgresCluster::start().expect("a private PostgreSQL");
        let pool = PgPool::open(&cluster.url(), 1, Duration::from_secs(5)).expect("the pool");
        let mut held = pool.get().expect("the one connection");
        cluster.stop().expect("the server stopped");
        let waiting = {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let got = pool.get();
                (got.is_ok(), started.elapsed())
            })
        };
        // the second checkout is waiting, and the pool still believes the server up
        std::thread::sleep(Duration::from_millis(400));
        assert!(!pool.health.unreachable.load(Ordering::Acquire));
        let failed = diesel::sql_query("SELECT 1").execute(&mut **held);
        assert!(failed.is_err_and(|e| is_connection_loss(&e)));
        let released = Instant::now();
        drop(held);

        let (got, waited) = waiting.join().expect("the waiting checkout");
        assert!(!got, "no connection to a stopped server");
        assert!(
            released.elapsed() < Duration::from_millis(1500),
            "the waiting checkout answered {:?} after the loss (waited {waited:?} in all)",
            released.elapsed()
        );
    }

    #[test]
    fn a_closed_connection_is_a_loss_and_a_failed_statement_is_not() {
        let closed = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        );
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_owned()),
        );
        assert!(is_connection_loss(&closed));
        assert!(!is_connection_loss(&unique));
        assert!(!is_connection_loss(&DieselError::NotFound));
    }
}
