//! Rate-limit buckets shared by every api-server on the database: the generic cell rate
//! algorithm (GCRA), one row per bucket and one atomic upsert per request.
//!
//! A bucket is its "theoretical arrival time" (TAT): when it would be full again if no
//! request came. A request at `now` fits when `max(tat, now) + interval - now` is at most
//! `burst * interval` (a full bucket holds `burst` requests, one comes back every
//! `interval`); if it fits the TAT moves on by one interval, else it stays. This is the token
//! bucket of the in-process limiter, written as one number, so the statement that reads it
//! also decides and writes it: two servers cannot both take the last token.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::error::StoreResult;
use crate::store::Store;
use crate::with_conn;

/// Rate-limit buckets.
#[derive(Debug)]
pub struct RateLimits<'a> {
    pub(crate) store: &'a Store,
}

/// A bucket's rate: `burst` requests at once, one more every `interval_us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Microseconds between two requests at the sustained rate.
    pub interval_us: i64,
    /// Requests a full bucket holds.
    pub burst: u32,
}

/// What one request did to its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Take {
    /// The bucket's theoretical arrival time after the request, microseconds since the epoch.
    #[diesel(sql_type = BigInt)]
    pub tat_us: i64,
    /// Whether the request fitted (and was counted).
    #[diesel(sql_type = Bool)]
    pub allowed: bool,
}

/// `$1` bucket, `$2` now, `$3` interval, `$4` burst × interval (all microseconds). SET sees
/// the row as it was, so `allowed` and `tat_us` are decided on the same old TAT.
const TAKE: &str = "\
INSERT INTO rate_limit_buckets (bucket, tat_us, allowed) VALUES ($1, $2 + $3, $3 <= $4) \
ON CONFLICT (bucket) DO UPDATE SET \
tat_us = CASE WHEN (CASE WHEN rate_limit_buckets.tat_us > $2 THEN rate_limit_buckets.tat_us ELSE $2 END) + $3 - $2 <= $4 \
 THEN (CASE WHEN rate_limit_buckets.tat_us > $2 THEN rate_limit_buckets.tat_us ELSE $2 END) + $3 \
 ELSE rate_limit_buckets.tat_us END, \
allowed = ((CASE WHEN rate_limit_buckets.tat_us > $2 THEN rate_limit_buckets.tat_us ELSE $2 END) + $3 - $2 <= $4) \
RETURNING tat_us, allowed";

impl RateLimits<'_> {
    /// Takes one request from `bucket` at `now_us` (microseconds since the epoch) if it fits
    /// `rate`: one statement, atomic on both backends.
    ///
    /// # Errors
    /// The database could not be reached or the statement failed.
    pub fn take(&self, bucket: &str, rate: Rate, now_us: i64) -> StoreResult<Take> {
        let interval = rate.interval_us.max(1);
        let capacity = interval.saturating_mul(i64::from(rate.burst.max(1)));
        let mut conn = self.store.db().conn()?;
        let take = with_conn!(&mut conn, |c| {
            // SQLite numbers its parameters `?1`; PostgreSQL `$1`
            let sql = match self.store.db().backend() {
                crate::Backend::Postgres => std::borrow::Cow::Borrowed(TAKE),
                crate::Backend::Sqlite => std::borrow::Cow::Owned(TAKE.replace('$', "?")),
            };
            diesel::sql_query(sql.as_ref())
                .bind::<Text, _>(bucket)
                .bind::<BigInt, _>(now_us)
                .bind::<BigInt, _>(interval)
                .bind::<BigInt, _>(capacity)
                .get_result::<Take>(c)
        })?;
        Ok(take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    const FREE: Rate = Rate {
        interval_us: 600_000,
        burst: 20,
    };

    #[test]
    fn the_burst_fits_then_one_request_per_interval() {
        for db in TestDb::all() {
            let limits = db.store.rate_limits();
            let t0 = 1_000_000_000_000;
            for i in 0..20 {
                let take = limits.take("key_1", FREE, t0).unwrap();
                assert!(take.allowed, "request {i} of the burst");
                assert_eq!(take.tat_us, t0 + (i + 1) * 600_000);
            }
            let refused = limits.take("key_1", FREE, t0).unwrap();
            assert!(!refused.allowed);
            assert_eq!(refused.tat_us, t0 + 20 * 600_000, "a refusal costs nothing");
            assert!(!limits.take("key_1", FREE, t0 + 300_000).unwrap().allowed);
            assert!(limits.take("key_1", FREE, t0 + 600_000).unwrap().allowed);
            assert!(
                limits.take("key_2", FREE, t0).unwrap().allowed,
                "buckets are separate"
            );
        }
    }

    #[test]
    fn an_idle_bucket_is_full_again() {
        for db in TestDb::all() {
            let limits = db.store.rate_limits();
            for _ in 0..20 {
                limits.take("k", FREE, 0).unwrap();
            }
            let later = 20 * 600_000;
            for i in 0..20 {
                assert!(
                    limits.take("k", FREE, later).unwrap().allowed,
                    "request {i}"
                );
            }
            assert!(!limits.take("k", FREE, later).unwrap().allowed);
        }
    }

    /// Threads racing on one bucket through one pool take exactly the burst.
    #[test]
    fn concurrent_takes_never_exceed_the_burst() {
        for db in TestDb::all() {
            let taken: usize = std::thread::scope(|s| {
                let handles: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| {
                            (0..15)
                                .filter(|_| {
                                    db.store.rate_limits().take("k", FREE, 0).unwrap().allowed
                                })
                                .count()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            assert_eq!(taken, 20);
        }
    }
}
