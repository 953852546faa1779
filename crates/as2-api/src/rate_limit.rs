//! Per-key rate limits: a token bucket per API key, sized by the tenant's plan; and the plan's
//! concurrent-request limit per account ([`ConcurrencyLimiter`]).
//!
//! The bucket holds `burst` tokens and refills at `per_minute / 60` tokens a second, so a
//! burst passes at once and a steady client gets its plan's rate. Every response carries
//! `X-RateLimit-Limit` (the plan's requests per minute), `X-RateLimit-Remaining` (whole tokens
//! left) and `X-RateLimit-Reset` (Unix time at which the bucket is full again); a refused
//! request adds `Retry-After` (seconds until one token is back). These buckets live in the
//! process; `rate_limit_shared` keeps the same buckets in the database for several api-servers.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::http::{HeaderMap, HeaderValue};

/// The limits of one plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sustained requests per minute.
    pub per_minute: u32,
    /// Requests that may arrive at once.
    pub burst: u32,
    /// Requests of one account in flight at once.
    pub concurrent: u32,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// `X-RateLimit-Limit`.
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset`, Unix seconds.
    pub reset_unix: u64,
    /// `Retry-After` seconds, for a refused request.
    pub retry_after_secs: u64,
}

impl Decision {
    /// Writes the `X-RateLimit-*` headers.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset_unix));
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of every key seen by this process.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one token from `key`'s bucket if there is one. `now` and `unix_now` are the same
    /// moment on the monotonic and the wall clock (injected for tests).
    pub fn check(&self, key: &str, limits: Limits, now: Instant, unix_now: u64) -> Decision {
        let capacity = f64::from(limits.burst.max(1));
        let rate_per_sec = f64::from(limits.per_minute.max(1)) / 60.0;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate_per_sec).min(capacity);
        bucket.updated = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let missing_for_full = capacity - bucket.tokens;
        let reset_in = Duration::from_secs_f64(missing_for_full / rate_per_sec);
        let retry_after = if allowed {
            0.0
        } else {
            (1.0 - bucket.tokens) / rate_per_sec
        };
        Decision {
            allowed,
            limit: limits.per_minute,
            // Whole tokens; the fraction is not a request the client can make yet.
            remaining: bucket.tokens.floor() as u32,
            reset_unix: unix_now + reset_in.as_secs() + u64::from(reset_in.subsec_nanos() > 0),
            retry_after_secs: retry_after.ceil() as u64,
        }
    }
}

/// Requests in flight per account: the plan's third limit ("concurrent requests").
#[derive(Debug, Default)]
pub struct ConcurrencyLimiter {
    in_flight: Arc<Mutex<HashMap<String, u32>>>,
}

/// One request in flight: its place is given back when it is dropped (the response is made).
#[derive(Debug)]
pub struct InFlight {
    in_flight: Arc<Mutex<HashMap<String, u32>>>,
    key: String,
}

impl ConcurrencyLimiter {
    /// A place for one more request of `key` if fewer than `max` are in flight.
    pub fn try_acquire(&self, key: &str, max: u32) -> Option<InFlight> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = in_flight.entry(key.to_owned()).or_insert(0);
        if *count >= max.max(1) {
            return None;
        }
        *count += 1;
        Some(InFlight {
            in_flight: self.in_flight.clone(),
            key: key.to_owned(),
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = in_flight.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                in_flight.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE: Limits = Limits {
        per_minute: 100,
        burst: 20,
        concurrent: 5,
    };

    #[test]
    fn an_account_has_at_most_its_plan_in_flight() {
        let limiter = ConcurrencyLimiter::default();
        let held: Vec<_> = (0..5)
            .map(|_| limiter.try_acquire("acc_1", 5).expect("within the plan"))
            .collect();
        assert!(limiter.try_acquire("acc_1", 5).is_none(), "a sixth at once");
        assert!(
            limiter.try_acquire("acc_2", 5).is_some(),
            "another account is not affected"
        );
        drop(held);
        assert!(
            limiter.try_acquire("acc_1", 5).is_some(),
            "released on drop"
        );
        assert!(limiter.in_flight.lock().unwrap().get("acc_1").is_none());
    }

    #[test]
    fn the_burst_passes_and_the_next_request_is_refused() {
        let limiter = RateLimiter::new();
        let t0 = Instant::now();
        for i in 0..20 {
            let d = limiter.check("key_1", FREE, t0, 1_000);
            assert!(d.allowed, "request {i} of the burst was refused");
            assert_eq!(d.remaining, 19 - i);
        }
        let refused = limiter.check("key_1", FREE, t0, 1_000);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        // 100/min = one token every 0.6 s.
        assert_eq!(refused.retry_after_secs, 1);
        assert_eq!(refused.limit, 100);
    }

    #[test]
    fn tokens_come_back_at_the_plan_rate() {
        let limiter = RateLimiter::new();
        let t0 = Instant::now();
        for _ in 0..21 {
            limiter.check("k", FREE, t0, 0);
        }
        assert!(
            !limiter
                .check("k", FREE, t0 + Duration::from_millis(300), 0)
                .allowed
        );
        assert!(
            limiter
                .check("k", FREE, t0 + Duration::from_millis(700), 0)
                .allowed
        );
    }

    #[test]
    fn keys_have_separate_buckets() {
        let limiter = RateLimiter::new();
        let t0 = Instant::now();
        for _ in 0..20 {
            limiter.check("a", FREE, t0, 0);
        }
        assert!(!limiter.check("a", FREE, t0, 0).allowed);
        assert!(limiter.check("b", FREE, t0, 0).allowed);
    }

    #[test]
    fn reset_is_when_the_bucket_is_full_again() {
        let limiter = RateLimiter::new();
        let t0 = Instant::now();
        let d = limiter.check("k", FREE, t0, 1_000);
        // One token missing, refilled in 0.6 s: the reset rounds up to the next second.
        assert_eq!(d.reset_unix, 1_001);
    }
}
