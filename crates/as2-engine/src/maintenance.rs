//! The gateway's periodic duties beside the job loops: trust transitions that are due,
//! timeline events still waiting for a time-stamp token, certificate expiry notices, and
//! idempotency records past their 24 hours.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use as2_store::Store;
use as2_trust::stamper::Stamper;
use chrono::{DateTime, Utc};

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Activations and retirements this process made.
    pub transitions: usize,
    /// Events that got their time-stamp token.
    pub stamped: usize,
    /// `certificate.expiring` notices published.
    pub expiry_notices: usize,
    /// Idempotency records deleted because their 24 hours were over.
    pub idempotency_purged: usize,
}

/// Runs the periodic duties.
#[derive(Debug, Clone)]
pub struct Maintenance {
    store: Arc<Store>,
    stamper: Stamper,
    interval: Duration,
}

impl Maintenance {
    /// Duties over `store`, every `interval`.
    pub fn new(store: Arc<Store>, stamper: Stamper, interval: Duration) -> Self {
        Self {
            store,
            stamper,
            interval,
        }
    }

    /// One round at `now`.
    pub async fn round(&self, now: DateTime<Utc>) -> Round {
        let transitions = as2_trust::scheduler::run_due(&self.store, &self.stamper, now).await;
        let stamped = as2_trust::scheduler::stamp_pending(&self.store, &self.stamper, 50).await;
        let store = self.store.clone();
        let expiry_notices = match tokio::task::spawn_blocking(move || {
            as2_trust::expiry::announce_expiring(&store, now)
        })
        .await
        {
            Ok(Ok(sent)) => sent,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "expiry watch failed");
                0
            }
            Err(e) => {
                tracing::warn!(error = %e, "expiry watch task failed");
                0
            }
        };
        let store = self.store.clone();
        let idempotency_purged =
            match tokio::task::spawn_blocking(move || store.idempotency().purge_expired(now)).await
            {
                Ok(Ok(purged)) => purged,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "purging expired idempotency records failed");
                    0
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the idempotency purge task failed");
                    0
                }
            };
        Round {
            transitions,
            stamped,
            expiry_notices,
            idempotency_purged,
        }
    }

    /// Rounds every interval until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        loop {
            let round = self.round(Utc::now()).await;
            if round != Round::default() {
                tracing::info!(
                    transitions = round.transitions,
                    stamped = round.stamped,
                    expiry_notices = round.expiry_notices,
                    idempotency_purged = round.idempotency_purged,
                    "maintenance round"
                );
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
