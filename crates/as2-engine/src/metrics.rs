//! Process-local counters and latency histograms for the gateway's Prometheus `/metrics`:
//! plain atomics, rendered in the text exposition format. (Gauges that live in the database,
//! such as messages by status and queue depth, are read at scrape time by the gateway.)

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (bound, counter) in BUCKETS.iter().zip(&self.counts) {
            if secs <= *bound {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, counter) in BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        #[allow(clippy::cast_precision_loss)]
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The gateway's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Inbound AS2 requests handled, by answer class.
    pub inbound_ok: AtomicU64,
    /// Inbound requests answered 4xx.
    pub inbound_refused: AtomicU64,
    /// Inbound requests answered 5xx.
    pub inbound_errors: AtomicU64,
    /// Time to handle one inbound message (decrypt, verify, store, MDN).
    pub inbound_latency: Histogram,
    /// Outbound sends: HTTP round trip plus MDN handling.
    pub send_latency: Histogram,
    /// Jobs finished.
    pub jobs_done: AtomicU64,
    /// Jobs that failed an attempt.
    pub jobs_failed: AtomicU64,
    /// Webhook attempts made.
    pub webhook_attempts: AtomicU64,
}

impl Metrics {
    /// Counts an inbound answer of `status`.
    pub fn inbound(&self, status: u16, elapsed: Duration) {
        let counter = match status {
            200..=399 => &self.inbound_ok,
            400..=499 => &self.inbound_refused,
            _ => &self.inbound_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.inbound_latency.observe(elapsed);
    }

    /// The process-local part of `/metrics`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP as2_inbound_requests_total Inbound AS2 requests by answer class.\n# TYPE as2_inbound_requests_total counter"
        );
        for (class, counter) in [
            ("ok", &self.inbound_ok),
            ("refused", &self.inbound_refused),
            ("error", &self.inbound_errors),
        ] {
            let _ = writeln!(
                out,
                "as2_inbound_requests_total{{class=\"{class}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        self.inbound_latency.render(
            &mut out,
            "as2_inbound_seconds",
            "Time to handle one inbound AS2 request.",
        );
        self.send_latency.render(
            &mut out,
            "as2_send_seconds",
            "Time of one outbound attempt (HTTP and MDN).",
        );
        for (name, help, counter) in [
            ("as2_jobs_done_total", "Jobs finished.", &self.jobs_done),
            (
                "as2_jobs_failed_total",
                "Job attempts that failed.",
                &self.jobs_failed,
            ),
            (
                "as2_webhook_attempts_total",
                "Webhook delivery attempts.",
                &self.webhook_attempts,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(200));
        let mut out = String::new();
        h.render(&mut out, "x", "help");
        assert!(out.contains("x_bucket{le=\"0.005\"} 1"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.25\"} 2"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 2"), "{out}");
        assert!(out.contains("x_count 2"), "{out}");
    }

    #[test]
    fn inbound_answers_are_classed() {
        let m = Metrics::default();
        m.inbound(200, Duration::from_millis(1));
        m.inbound(403, Duration::from_millis(1));
        m.inbound(503, Duration::from_millis(1));
        let text = m.render();
        assert!(text.contains("as2_inbound_requests_total{class=\"ok\"} 1"));
        assert!(text.contains("as2_inbound_requests_total{class=\"refused\"} 1"));
        assert!(text.contains("as2_inbound_requests_total{class=\"error\"} 1"));
    }
}
