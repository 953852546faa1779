//! Where the per-key rate limit is counted: in this process ([`RateLimiter`]), or in the
//! database, shared by every api-server on it (`as2_store::repo::rate_limits`, GCRA in one
//! upsert per request), so that two servers behind a load balancer do not double a plan.
//! Both answer the same [`Decision`] (the `X-RateLimit-*` headers and `Retry-After`).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use as2_store::repo::rate_limits::{Rate, Take};
use as2_store::{Backend, Store, StoreError};

use crate::rate_limit::{Decision, Limits, RateLimiter};

/// Which counter the API uses (`AS2_RATE_LIMIT_STORE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RateLimitStore {
    /// The database on PostgreSQL (several api-servers), this process on SQLite (one machine).
    #[default]
    Auto,
    /// Each process counts its own requests.
    Process,
    /// The database counts for every api-server.
    Database,
}

impl std::str::FromStr for RateLimitStore {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "process" => Ok(Self::Process),
            "database" => Ok(Self::Database),
            other => Err(format!(
                "expected `auto`, `process` or `database`, not {other:?}"
            )),
        }
    }
}

/// The rate limiter of one api-server.
#[derive(Debug)]
pub enum RateLimits {
    /// Buckets in this process.
    InProcess(RateLimiter),
    /// Buckets in the database.
    Shared,
}

impl RateLimits {
    /// The limiter `choice` names for a store on `backend`.
    pub fn new(choice: RateLimitStore, backend: Backend) -> Self {
        match (choice, backend) {
            (RateLimitStore::Database, _) | (RateLimitStore::Auto, Backend::Postgres) => {
                Self::Shared
            }
            _ => Self::InProcess(RateLimiter::new()),
        }
    }

    /// Takes one request from `key`'s bucket; blocking (the shared one runs one statement).
    ///
    /// # Errors
    /// The database could not be reached (shared buckets only).
    pub fn check(&self, store: &Store, key: &str, limits: Limits) -> Result<Decision, StoreError> {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        match self {
            Self::InProcess(limiter) => {
                Ok(limiter.check(key, limits, Instant::now(), wall.as_secs()))
            }
            Self::Shared => {
                let now_us = i64::try_from(wall.as_micros()).unwrap_or(i64::MAX);
                let take = store.rate_limits().take(key, rate_of(limits), now_us)?;
                Ok(decision_of(take, limits, now_us, wall.as_secs()))
            }
        }
    }
}

/// A plan's limits as a bucket rate: `burst` at once, `per_minute` a minute.
pub fn rate_of(limits: Limits) -> Rate {
    Rate {
        interval_us: 60_000_000 / i64::from(limits.per_minute.max(1)),
        burst: limits.burst.max(1),
    }
}

/// The answer to a request that moved its bucket to `take`, at `now_us` (`unix_now`, the
/// same moment in whole seconds): what the in-process bucket would answer.
pub fn decision_of(take: Take, limits: Limits, now_us: i64, unix_now: u64) -> Decision {
    let rate = rate_of(limits);
    let interval = rate.interval_us.max(1);
    let capacity = interval * i64::from(rate.burst);
    // how long until the bucket is full again; whole requests still in it
    let until_full = (take.tat_us - now_us).max(0);
    let remaining = ((capacity - until_full).max(0) / interval).min(i64::from(rate.burst));
    let retry_after_us = if take.allowed {
        0
    } else {
        (until_full - (capacity - interval)).max(0)
    };
    Decision {
        allowed: take.allowed,
        limit: limits.per_minute,
        remaining: u32::try_from(remaining).unwrap_or(0),
        reset_unix: unix_now + ceil_secs(until_full),
        retry_after_secs: ceil_secs(retry_after_us),
    }
}

fn ceil_secs(us: i64) -> u64 {
    u64::try_from(us.max(0)).unwrap_or(0).div_ceil(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE: Limits = Limits {
        per_minute: 100,
        burst: 20,
        concurrent: 5,
    };

    /// The shared bucket answers what the in-process one answers, request by request.
    #[test]
    fn the_shared_decision_is_the_in_process_one() {
        let limiter = RateLimiter::new();
        let t0 = Instant::now();
        let base_us = 1_000_000_000;
        let mut tat = base_us;
        for step in 0..30_i64 {
            // 25 at once, then one every 0.4 s
            let offset_us = (step - 24).max(0) * 400_000;
            let now_us = base_us + offset_us;
            let unix = u64::try_from(now_us / 1_000_000).unwrap();
            let rate = rate_of(FREE);
            let base = tat.max(now_us);
            let allowed = base + rate.interval_us - now_us <= rate.interval_us * 20;
            if allowed {
                tat = base + rate.interval_us;
            }
            let shared = decision_of(
                Take {
                    tat_us: tat,
                    allowed,
                },
                FREE,
                now_us,
                unix,
            );
            let local = limiter.check(
                "k",
                FREE,
                t0 + std::time::Duration::from_micros(u64::try_from(offset_us).unwrap()),
                unix,
            );
            assert_eq!(shared, local, "request {step}");
        }
    }

    #[test]
    fn auto_shares_on_postgres_only() {
        assert!(matches!(
            RateLimits::new(RateLimitStore::Auto, Backend::Postgres),
            RateLimits::Shared
        ));
        assert!(matches!(
            RateLimits::new(RateLimitStore::Auto, Backend::Sqlite),
            RateLimits::InProcess(_)
        ));
        assert!(matches!(
            RateLimits::new(RateLimitStore::Database, Backend::Sqlite),
            RateLimits::Shared
        ));
        assert_eq!("process".parse(), Ok(RateLimitStore::Process));
        assert!("redis".parse::<RateLimitStore>().is_err());
    }
}
