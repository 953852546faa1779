//! Background jobs: their kinds and the retry backoff.

use chrono::Duration;

use crate::named_enum;

named_enum!(
    /// What a job does.
    JobKind, "job kind" {
        /// Build and post an outbound message.
        SendMessage => "send_message",
        /// Post an async MDN to a partner.
        SendMdn => "send_mdn",
        /// Give up waiting for an async MDN.
        MdnTimeout => "mdn_timeout",
        /// Deliver an event to a webhook endpoint.
        DeliverWebhook => "deliver_webhook",
        /// Email an event to a tenant's alert recipients.
        SendAlert => "send_alert",
    }
);

/// How a kind of job is tried again: at most `max_attempts` runs, waiting
/// [`backoff`]`(attempt, base, cap)` after each failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs before the job is dead (a job may be enqueued with its own number instead).
    pub max_attempts: i32,
    /// The wait after the first failure; it doubles after each one.
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
}

impl RetryPolicy {
    /// A policy of `max_attempts` runs, waiting from `base_secs` up to `cap_secs`.
    pub const fn new(max_attempts: i32, base_secs: i64, cap_secs: i64) -> Self {
        Self {
            max_attempts,
            base: Duration::seconds(base_secs),
            cap: Duration::seconds(cap_secs),
        }
    }

    /// The wait after failed attempt `attempt` (counting from 1).
    pub fn delay(&self, attempt: i32) -> Duration {
        backoff(u32::try_from(attempt).unwrap_or(1), self.base, self.cap)
    }

    /// The same policy with another first wait (a partner's own retry interval).
    #[must_use]
    pub fn with_base(self, base: Duration) -> Self {
        Self { base, ..self }
    }
}

/// Exponential backoff: `base × 2^(attempt-1)`, capped at `cap` (attempt counts from 1).
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let factor = 1i32
        .checked_shl(attempt.saturating_sub(1).min(30))
        .unwrap_or(i32::MAX);
    base.checked_mul(factor).map_or(cap, |d| d.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_until_the_cap() {
        let base = Duration::seconds(30);
        let cap = Duration::hours(1);
        assert_eq!(backoff(1, base, cap), Duration::seconds(30));
        assert_eq!(backoff(2, base, cap), Duration::seconds(60));
        assert_eq!(backoff(4, base, cap), Duration::seconds(240));
        assert_eq!(backoff(20, base, cap), cap);
        assert_eq!(backoff(u32::MAX, base, cap), cap);
    }

    #[test]
    fn a_policy_waits_by_attempt_and_takes_another_base() {
        let policy = RetryPolicy::new(5, 60, 3600);
        assert_eq!(policy.delay(1), Duration::seconds(60));
        assert_eq!(policy.delay(3), Duration::seconds(240));
        assert_eq!(policy.delay(0), Duration::seconds(60));
        assert_eq!(policy.delay(99), Duration::hours(1));
        let slower = policy.with_base(Duration::seconds(600));
        assert_eq!(slower.delay(2), Duration::seconds(1200));
        assert_eq!(slower.max_attempts, 5);
    }
}
