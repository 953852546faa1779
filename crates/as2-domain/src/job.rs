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
        /// Run due trust transitions and expiry warnings.
        TrustLifecycle => "trust_lifecycle",
    }
);

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
}
