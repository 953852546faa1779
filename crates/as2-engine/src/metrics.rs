//! Process-local counters and latency histograms for the gateway's Prometheus `/metrics`:
//! plain atomics, rendered in the text exposition format. A scrape never queries the
//! database: the two gauges that live there (jobs waiting by kind, messages by direction and
//! status, both across tenants) are read by [`refresh_gauges`], a periodic task, at most once
//! per its interval (`AS2_METRICS_REFRESH_SECS`), and a scrape renders the last reading.

use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use as2_store::Store;

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
    /// Inbound requests answered 503 because `AS2_MAX_CONCURRENT_REQUESTS` were running.
    pub shed_concurrency: AtomicU64,
    /// Inbound requests answered 503 because their body would exceed what is left of
    /// `AS2_MAX_BUFFERED_BYTES`.
    pub shed_buffered_bytes: AtomicU64,
    /// Inbound requests whose body did not arrive within the body timeouts (408).
    pub body_timeouts: AtomicU64,
    gauges: Mutex<Option<DbGauges>>,
}

/// The database gauges as last read.
#[derive(Debug, Clone, Default)]
struct DbGauges {
    queue_depth: Vec<(String, i64)>,
    messages: Vec<(String, String, i64)>,
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

    /// Reads the database gauges once (queue depth, messages by status); a failure keeps
    /// the previous reading.
    ///
    /// # Errors
    /// The database did not answer.
    pub fn refresh_gauges(&self, store: &Store) -> Result<(), as2_store::StoreError> {
        let read = DbGauges {
            queue_depth: store.jobs().depth()?,
            messages: store.messages().count_by_status()?,
        };
        *self.gauges.lock().unwrap_or_else(PoisonError::into_inner) = Some(read);
        Ok(())
    }

    /// All of `/metrics`: the counters and the database gauges as last refreshed.
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
        let _ = writeln!(
            out,
            "# HELP as2_inbound_shed_total Inbound requests refused by the gateway's limits.\n# TYPE as2_inbound_shed_total counter"
        );
        for (reason, counter) in [
            ("concurrency", &self.shed_concurrency),
            ("buffered_bytes", &self.shed_buffered_bytes),
            ("body_timeout", &self.body_timeouts),
        ] {
            let _ = writeln!(
                out,
                "as2_inbound_shed_total{{reason=\"{reason}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        let gauges = self
            .gauges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(gauges) = gauges {
            let _ = writeln!(
                out,
                "# HELP as2_queue_depth Jobs waiting or running, by kind.\n# TYPE as2_queue_depth gauge"
            );
            for (kind, n) in gauges.queue_depth {
                let _ = writeln!(out, "as2_queue_depth{{kind=\"{kind}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "# HELP as2_messages Messages by direction and status.\n# TYPE as2_messages gauge"
            );
            for (direction, status, n) in gauges.messages {
                let _ = writeln!(
                    out,
                    "as2_messages{{direction=\"{direction}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out
    }
}

/// Refreshes the database gauges of `metrics` every `interval` (on tokio's blocking pool)
/// until `stop` completes.
pub async fn refresh_gauges(
    metrics: Arc<Metrics>,
    store: Arc<Store>,
    interval: Duration,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(interval.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = tick.tick() => {}
        }
        let (metrics, store) = (metrics.clone(), store.clone());
        match tokio::task::spawn_blocking(move || metrics.refresh_gauges(&store)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "reading the metrics gauges failed"),
            Err(e) => tracing::warn!(error = %e, "reading the metrics gauges did not finish"),
        }
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
