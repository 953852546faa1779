//! The job queue: enqueue a typed input, claim with a lease (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, an immediate transaction on SQLite), renew the lease while a run goes on,
//! finish (the outcome and its effects in one transaction), release; an expired lease is
//! claimed again.

mod input;

pub use input::{
    BadJobInput, DeliverWebhook, JobInput, MdnTimeout, MessageRef, SendAlert, SendMdn, SendMessage,
    retry_policy,
};

use as2_domain::id::JobId;
use as2_domain::job::JobKind;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rand::RngExt;

use crate::db::Database;
use crate::error::{StoreError, StoreResult};
use crate::repo::parse_column;
use crate::schema::jobs;
use crate::time::{from_db, to_db};
use crate::tx::{Tx, with_tx};
use crate::with_conn;

/// Waiting to run (at `run_at`).
const READY: &str = "ready";
/// Claimed by a worker until `locked_until`.
const RUNNING: &str = "running";
/// Finished.
const DONE: &str = "done";
/// Failed `max_attempts` times; kept for inspection.
const DEAD: &str = "dead";

/// The job queue.
#[derive(Debug)]
pub struct JobQueue<'a> {
    pub(crate) db: &'a Database,
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// `job_…`.
    pub id: JobId,
    /// What to do.
    pub kind: JobKind,
    /// The job's input (JSON: read it with [`JobInput::parse`] of its kind).
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// Attempts before the job is dead.
    pub max_attempts: i32,
    /// Proves ownership to `complete`, `fail` and `release`.
    pub lease_token: String,
}

/// How one run of a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It did its work (whatever became of the message it was about).
    Done,
    /// It failed for now: it runs again after `after`, unless this was its last attempt.
    Retry {
        /// Why, kept as the job's last error.
        reason: String,
        /// The wait before the next attempt.
        after: Duration,
    },
    /// It failed for good (no attempt can succeed): it is dead now.
    Stop {
        /// Why.
        reason: String,
    },
}

/// What a finished run made of the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Done.
    Done,
    /// It runs again at this time.
    RetryAt(DateTime<Utc>),
    /// It failed and runs no more (attempts used up, or stopped).
    Dead,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = jobs)]
struct JobRow {
    id: i64,
    kind: String,
    payload: String,
    attempts: i32,
    max_attempts: i32,
    lease_token: Option<String>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(row: JobRow) -> StoreResult<Self> {
        Ok(Self {
            id: JobId(row.id),
            kind: parse_column("jobs", &row.kind)?,
            payload: row.payload,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            lease_token: row.lease_token.unwrap_or_default(),
        })
    }
}

/// Inserts a ready job on an open connection (inside a caller's transaction).
macro_rules! insert_job {
    ($c:expr, $kind:expr, $payload:expr, $run_at:expr, $max_attempts:expr, $now:expr) => {
        diesel::insert_into($crate::schema::jobs::table)
            .values((
                $crate::schema::jobs::kind.eq($kind.as_str()),
                $crate::schema::jobs::payload.eq($payload),
                $crate::schema::jobs::status.eq("ready"),
                $crate::schema::jobs::attempts.eq(0),
                $crate::schema::jobs::max_attempts.eq($max_attempts),
                $crate::schema::jobs::run_at.eq($crate::time::to_db($run_at)),
                $crate::schema::jobs::created_at.eq($crate::time::to_db($now)),
                $crate::schema::jobs::updated_at.eq($crate::time::to_db($now)),
            ))
            .returning($crate::schema::jobs::id)
            .get_result::<i64>($c)
    };
}
pub(crate) use insert_job;

fn new_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// Marks job `id` running under a new lease, returning it (both backends).
macro_rules! take {
    ($c:expr, $id:expr, $at:expr, $until:expr, $token:expr) => {
        diesel::update(jobs::table.filter(jobs::id.eq($id)))
            .set((
                jobs::status.eq(RUNNING),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::lease_token.eq($token),
                jobs::locked_until.eq($until),
                jobs::updated_at.eq($at),
            ))
            .returning(JobRow::as_returning())
            .get_result::<JobRow>($c)
    };
}

impl JobQueue<'_> {
    /// Adds a job with `input` that runs at `run_at`, with its kind's attempts.
    pub fn enqueue<J: JobInput>(&self, input: &J, run_at: DateTime<Utc>) -> StoreResult<JobId> {
        self.db
            .transaction(|tx| tx.jobs().enqueue(input, run_at, J::RETRY.max_attempts))
    }

    /// Claims the oldest due job of `kinds` for `lease`; `None` when there is none.
    ///
    /// Due: ready with `run_at <= now`, or running with an expired lease (its worker died).
    pub fn claim(
        &self,
        kinds: &[JobKind],
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Option<Job>> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let (at, until, token) = (to_db(now), to_db(now + lease), new_token());
        let due = jobs::status
            .eq(READY)
            .and(jobs::run_at.le(at))
            .or(jobs::status.eq(RUNNING).and(jobs::locked_until.lt(at)));
        let claimed: Option<JobRow> = self.db.transaction(|tx| {
            let claimed = match tx {
                Tx::Postgres(c) => {
                    let id: Option<i64> = jobs::table
                        .filter(jobs::kind.eq_any(&kinds))
                        .filter(due)
                        .order((jobs::run_at.asc(), jobs::id.asc()))
                        .select(jobs::id)
                        .for_update()
                        .skip_locked()
                        .first(*c)
                        .optional()?;
                    id.map(|id| take!(*c, id, at, until, &token)).transpose()?
                }
                // SQLite's writers take turns: no other can claim it meanwhile
                Tx::Sqlite(c) => {
                    let id: Option<i64> = jobs::table
                        .filter(jobs::kind.eq_any(&kinds))
                        .filter(due)
                        .order((jobs::run_at.asc(), jobs::id.asc()))
                        .select(jobs::id)
                        .first(*c)
                        .optional()?;
                    id.map(|id| take!(*c, id, at, until, &token)).transpose()?
                }
            };
            Ok(claimed)
        })?;
        claimed.map(TryInto::try_into).transpose()
    }

    /// Records how a run of `job` ended and, in the same transaction, its `effects` (which
    /// learn the job's fate: a message goes back to `queued` when its job runs again and to
    /// `failed` when it is dead). `None` when the lease was lost (another worker has the
    /// job now): then nothing is written.
    pub fn finish(
        &self,
        job: &Job,
        outcome: &Outcome,
        now: DateTime<Utc>,
        effects: impl FnOnce(&mut Tx<'_>, Fate) -> StoreResult<()>,
    ) -> StoreResult<Option<Fate>> {
        let fate = match outcome {
            Outcome::Done => Fate::Done,
            Outcome::Retry { .. } if job.attempts >= job.max_attempts => Fate::Dead,
            Outcome::Retry { after, .. } => Fate::RetryAt(now + *after),
            Outcome::Stop { .. } => Fate::Dead,
        };
        let (status, run_at) = match fate {
            Fate::Done => (DONE, now),
            Fate::RetryAt(at) => (READY, at),
            Fate::Dead => (DEAD, now),
        };
        let error: Option<String> = match outcome {
            Outcome::Done => None,
            Outcome::Retry { reason, .. } | Outcome::Stop { reason } => {
                Some(reason.chars().take(2000).collect())
            }
        };
        self.db.transaction(|tx| {
            // a done job keeps the error of its last failed attempt, for the operator
            let n = with_tx!(&mut *tx, |c| match &error {
                Some(error) => diesel::update(owned(job))
                    .set((
                        jobs::status.eq(status),
                        jobs::run_at.eq(to_db(run_at)),
                        jobs::last_error.eq(Some(error.as_str())),
                        jobs::lease_token.eq(None::<String>),
                        jobs::locked_until.eq(None::<chrono::NaiveDateTime>),
                        jobs::updated_at.eq(to_db(now)),
                    ))
                    .execute(c),
                None => diesel::update(owned(job))
                    .set((
                        jobs::status.eq(status),
                        jobs::run_at.eq(to_db(run_at)),
                        jobs::lease_token.eq(None::<String>),
                        jobs::locked_until.eq(None::<chrono::NaiveDateTime>),
                        jobs::updated_at.eq(to_db(now)),
                    ))
                    .execute(c),
            })?;
            if n == 0 {
                return Ok(None);
            }
            effects(tx, fate)?;
            Ok(Some(fate))
        })
    }

    /// Extends the lease of a job still running under `job`'s token to `now + lease` (the
    /// worker's heartbeat while a long run, a large upload say, goes on). `false` when the
    /// lease was lost: another worker claimed the job after it expired.
    pub fn renew(&self, job: &Job, now: DateTime<Utc>, lease: Duration) -> StoreResult<bool> {
        let mut conn = self.db.conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(owned(job))
            .filter(jobs::status.eq(RUNNING))
            .set((
                jobs::locked_until.eq(Some(to_db(now + lease))),
                jobs::updated_at.eq(to_db(now)),
            ))
            .execute(c))?;
        Ok(n == 1)
    }

    /// Gives a claimed job back untouched (graceful shutdown): ready now, attempt not counted.
    pub fn release(&self, job: &Job, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.db.conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(owned(job))
            .set((
                jobs::status.eq(READY),
                jobs::attempts.eq(jobs::attempts - 1),
                jobs::lease_token.eq(None::<String>),
                jobs::locked_until.eq(None::<chrono::NaiveDateTime>),
                jobs::updated_at.eq(to_db(now)),
            ))
            .execute(c))?;
        Ok(n == 1)
    }

    /// Jobs waiting or running, by kind (for `/metrics`).
    pub fn depth(&self) -> StoreResult<Vec<(String, i64)>> {
        let mut conn = self.db.conn()?;
        let rows = with_conn!(&mut conn, |c| jobs::table
            .filter(jobs::status.eq_any([READY, RUNNING]))
            .group_by(jobs::kind)
            .select((jobs::kind, diesel::dsl::count_star()))
            .load::<(String, i64)>(c))?;
        Ok(rows)
    }

    /// The status and last error of a job (for tests and operators).
    pub fn status(&self, id: JobId) -> StoreResult<(String, i32, Option<String>, DateTime<Utc>)> {
        let mut conn = self.db.conn()?;
        let (status, attempts, error, run_at) = with_conn!(&mut conn, |c| jobs::table
            .find(id.0)
            .select((jobs::status, jobs::attempts, jobs::last_error, jobs::run_at))
            .first::<(String, i32, Option<String>, chrono::NaiveDateTime)>(c))
        .map_err(crate::error::not_found)?;
        Ok((status, attempts, error, from_db(run_at)))
    }
}

type OwnedJob<'t> = diesel::dsl::Filter<
    diesel::dsl::Filter<jobs::table, diesel::dsl::Eq<jobs::id, i64>>,
    diesel::dsl::Eq<jobs::lease_token, &'t str>,
>;

fn owned(job: &Job) -> OwnedJob<'_> {
    jobs::table
        .filter(jobs::id.eq(job.id.0))
        .filter(jobs::lease_token.eq(job.lease_token.as_str()))
}

/// The jobs side of a transaction: [`Tx::jobs`].
#[derive(Debug)]
pub struct JobsTx<'t, 'c> {
    tx: &'t mut Tx<'c>,
}

impl<'c> Tx<'c> {
    /// Jobs enqueued in this transaction (they exist only if it commits).
    pub fn jobs(&mut self) -> JobsTx<'_, 'c> {
        JobsTx { tx: self }
    }
}

impl JobsTx<'_, '_> {
    /// Adds a job with `input` that runs at `run_at`, at most `max_attempts` times.
    pub fn enqueue<J: JobInput>(
        &mut self,
        input: &J,
        run_at: DateTime<Utc>,
        max_attempts: i32,
    ) -> StoreResult<JobId> {
        let now = crate::time::now();
        let payload = input.to_json();
        let id = with_tx!(&mut *self.tx, |c| insert_job!(
            c,
            J::KIND,
            &payload,
            run_at,
            max_attempts,
            now
        ))?;
        Ok(JobId(id))
    }

    /// Removes the job with `input` if it is still waiting (`ready`): `false` when there is
    /// none, because a worker has claimed it (or it never existed).
    pub fn remove_ready<J: JobInput>(&mut self, input: &J) -> StoreResult<bool> {
        let payload = input.to_json();
        let n = with_tx!(&mut *self.tx, |c| diesel::delete(
            jobs::table
                .filter(jobs::kind.eq(J::KIND.as_str()))
                .filter(jobs::status.eq(READY))
                .filter(jobs::payload.eq(&payload))
        )
        .execute(c))?;
        Ok(n > 0)
    }
}
