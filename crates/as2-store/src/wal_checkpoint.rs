//! SQLite's WAL checkpoints off the request path (issue 18).
//!
//! SQLite checkpoints automatically in the connection whose commit takes the WAL past 1000
//! pages: a received message's request then waits while that connection copies the WAL into
//! the database and syncs both files (7 % of the gateway's samples, docs/PERFORMANCE.md).
//! With a [`WalCheckpoints`] setting the pool's connections run with
//! `PRAGMA wal_autocheckpoint = 0` and one thread of the process checkpoints instead, on a
//! connection of its own:
//!
//! - every [`WalCheckpoints::interval`], a `PASSIVE` checkpoint: it copies what no reader
//!   still needs and never waits for, nor blocks, a reader or a writer. Once every frame is
//!   copied the next writer starts the WAL again from its beginning, so the file stops
//!   growing;
//! - a `TRUNCATE` checkpoint (it waits at most [`BUSY_MS`] for the writer and the readers,
//!   then gives up until the next round) when the WAL file is larger than
//!   [`WalCheckpoints::truncate_above`] (readers that kept a `PASSIVE` one from finishing, a
//!   burst), and once the database is idle (nothing written since the last round), so the
//!   file falls back to zero bytes.
//!
//! Durability is the connections' `synchronous` setting, unchanged: a commit is in the WAL
//! when it returns; a checkpoint only moves committed pages into the database file (and, in
//! `synchronous = NORMAL`, is where the WAL is synced, now at least once per interval while
//! anything is written, where before it waited for 1000 pages).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// How long a `TRUNCATE` checkpoint waits for the writer and the readers before it gives up
/// for this round (writers wait for it meanwhile, so it is short).
pub const BUSY_MS: u64 = 100;

/// When the checkpoint thread runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalCheckpoints {
    /// Time between two `PASSIVE` checkpoints.
    pub interval: Duration,
    /// A WAL file larger than this is truncated (a `TRUNCATE` checkpoint).
    pub truncate_above: u64,
}

impl Default for WalCheckpoints {
    /// A `PASSIVE` checkpoint every 200 ms; the WAL truncated above 64 MiB.
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(200),
            truncate_above: 64 * 1024 * 1024,
        }
    }
}

/// The checkpoint thread of one pool (held by [`crate::Database`]); stopped (and joined)
/// when dropped.
#[derive(Debug)]
pub struct Checkpointer {
    stop: Mutex<Option<Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts checkpointing the database file at `path` as `settings` say.
    pub(crate) fn start(path: &str, settings: WalCheckpoints) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let path = PathBuf::from(path);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut round = Round::new(&path, settings);
                loop {
                    match stopped.recv_timeout(settings.interval) {
                        Err(RecvTimeoutError::Timeout) => round.run(),
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })?;
        Ok(Self {
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // dropping the sender wakes the thread, which returns
        drop(self.stop.lock().map(|mut s| s.take()));
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

/// What `PRAGMA wal_checkpoint` answers.
#[derive(Debug, QueryableByName)]
struct CheckpointResult {
    /// 1 when the checkpoint could not run or finish (another one, or a lock).
    #[diesel(sql_type = BigInt)]
    busy: i64,
    /// Frames in the WAL.
    #[diesel(sql_type = BigInt)]
    log: i64,
    /// Frames copied into the database.
    #[diesel(sql_type = BigInt)]
    checkpointed: i64,
}

/// The checkpoint thread's state between rounds.
struct Round {
    path: PathBuf,
    wal: PathBuf,
    settings: WalCheckpoints,
    conn: Option<SqliteConnection>,
    /// Frames in the WAL after the last round (-1: none yet).
    last_log: i64,
}

impl Round {
    fn new(path: &Path, settings: WalCheckpoints) -> Self {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            path: path.to_owned(),
            wal: PathBuf::from(wal),
            settings,
            conn: None,
            last_log: -1,
        }
    }

    /// One round: a `PASSIVE` checkpoint, then a `TRUNCATE` one when the WAL is too large
    /// or nothing was written since the last round.
    fn run(&mut self) {
        let wal_bytes = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if wal_bytes == 0 {
            // no WAL (nothing opened the database yet) or already truncated
            self.last_log = 0;
            return;
        }
        let passive = match self.checkpoint("PASSIVE") {
            Ok(result) => result,
            Err(e) => {
                tracing::warn!(error = %e, database = %self.path.display(), "SQLite WAL checkpoint failed");
                self.conn = None;
                return;
            }
        };
        let idle = passive.log == self.last_log && passive.checkpointed == passive.log;
        self.last_log = passive.log;
        if wal_bytes > self.settings.truncate_above || idle {
            match self.checkpoint("TRUNCATE") {
                Ok(result) if result.busy == 0 => self.last_log = 0,
                Ok(_) => {} // busy: the next round tries again
                Err(e) => {
                    tracing::warn!(error = %e, database = %self.path.display(), "SQLite WAL truncation failed");
                    self.conn = None;
                }
            }
        }
    }

    fn checkpoint(&mut self, mode: &str) -> Result<CheckpointResult, diesel::result::Error> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(connect(&self.path)?),
        };
        diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(conn)
    }
}

/// The checkpoint thread's own connection: it never checkpoints on its own either, and a
/// `TRUNCATE` waits at most [`BUSY_MS`].
fn connect(path: &Path) -> Result<SqliteConnection, diesel::result::Error> {
    let url = path.to_string_lossy();
    let mut conn = SqliteConnection::establish(&url).map_err(|e| {
        diesel::result::Error::QueryBuilderError(format!("opening {url}: {e}").into())
    })?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {BUSY_MS}; PRAGMA wal_autocheckpoint = 0;"
    ))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use diesel::connection::SimpleConnection as _;

    use super::*;
    use crate::db::{Database, PoolOptions};
    use crate::with_conn;

    /// A database of `options` in `dir`, with a table of 4 KiB rows.
    fn database(dir: &Path, checkpoints: WalCheckpoints) -> (Database, PathBuf) {
        let path = dir.join("wal.sqlite3");
        let db = Database::connect(
            &path.display().to_string(),
            &PoolOptions {
                wal_checkpoints: Some(checkpoints),
                ..PoolOptions::default()
            },
        )
        .unwrap();
        let mut conn = db.conn().unwrap();
        with_conn!(&mut conn, |c| c
            .batch_execute("CREATE TABLE pages (body BLOB NOT NULL)"))
        .unwrap();
        let mut wal = path.into_os_string();
        wal.push("-wal");
        (db, PathBuf::from(wal))
    }

    /// `n` commits of one 4 KiB row each, as requests commit.
    fn commit_rows(db: &Database, n: usize) {
        for _ in 0..n {
            let mut conn = db.conn().unwrap();
            with_conn!(&mut conn, |c| c
                .batch_execute("INSERT INTO pages (body) VALUES (zeroblob(4096))"))
            .unwrap();
        }
    }

    fn len(path: &Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// Commits never checkpoint: past SQLite's automatic threshold (1000 pages, about 4 MiB)
    /// the WAL keeps growing while the thread has not run.
    #[test]
    fn committing_connections_leave_checkpoints_to_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (db, wal) = database(
            dir.path(),
            WalCheckpoints {
                interval: Duration::from_secs(3600),
                truncate_above: u64::MAX,
            },
        );
        commit_rows(&db, 2000);
        // 2000 rows of 4 KiB: about 8 MiB of frames, twice the automatic threshold
        assert!(len(&wal) > 7 << 20, "WAL of {} bytes", len(&wal));
    }

    /// The thread copies the WAL into the database and truncates it once it is over its
    /// limit, while commits go on.
    #[test]
    fn the_thread_checkpoints_and_truncates_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let (db, wal) = database(
            dir.path(),
            WalCheckpoints {
                interval: Duration::from_millis(10),
                truncate_above: 1 << 20,
            },
        );
        // one large transaction: the WAL cannot restart under it, so it passes the limit
        let mut conn = db.conn().unwrap();
        with_conn!(&mut conn, |c| c.batch_execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO pages (body) SELECT zeroblob(4096) FROM n"
        ))
        .unwrap();
        drop(conn);
        let peak = len(&wal);
        assert!(peak > 7 << 20, "WAL of {peak} bytes");
        // small commits go on (never idle): the file falls under the limit all the same
        let deadline = Instant::now() + Duration::from_secs(10);
        while len(&wal) >= 1 << 20 && Instant::now() < deadline {
            commit_rows(&db, 1);
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(len(&wal) < 1 << 20, "WAL of {} bytes", len(&wal));
        // the rows are in the database file itself
        let database = dir.path().join("wal.sqlite3");
        assert!(len(&database) > 7 << 20, "{} bytes", len(&database));
    }

    /// Once nothing is written the WAL is truncated, below any limit.
    #[test]
    fn an_idle_database_has_its_wal_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let (db, wal) = database(
            dir.path(),
            WalCheckpoints {
                interval: Duration::from_millis(10),
                truncate_above: u64::MAX,
            },
        );
        commit_rows(&db, 100);
        let deadline = Instant::now() + Duration::from_secs(10);
        while len(&wal) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(len(&wal), 0);
    }
}
