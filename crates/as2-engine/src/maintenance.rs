//! The gateway's periodic duties beside the job loops: trust transitions that are due,
//! timeline events still waiting for a time-stamp token, certificate expiry notices,
//! idempotency records past their 24 hours, payloads, raw MDNs and message rows past their
//! tenant's retention (`as2_store::retention`), and payloads no row names (one shard of the
//! orphan sweep per round, see `as2_store::orphans`). Every duty takes the round's `now`, so
//! a test moves the clock by passing a later one.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use as2_store::Store;
use as2_store::orphans::{self, Swept};
use as2_store::payload::{PayloadStore, SHARDS};
use as2_store::retention::{self, Purged, RoundLimits};
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
    /// Payloads no row names, deleted after the grace period.
    pub orphans_deleted: usize,
    /// Unfinished payload temporaries deleted after the grace period.
    pub temporaries_deleted: usize,
    /// Messages whose payload and raw MDN retention deleted.
    pub payloads_purged: usize,
    /// Message rows retention deleted.
    pub records_purged: usize,
}

/// How long a payload may exist without a row before the sweep deletes it (default).
pub const DEFAULT_ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// Runs the periodic duties.
#[derive(Debug, Clone)]
pub struct Maintenance {
    store: Arc<Store>,
    payloads: Arc<PayloadStore>,
    stamper: Stamper,
    interval: Duration,
    orphan_grace: Duration,
    retention: RoundLimits,
    /// The shard the next round sweeps.
    next_shard: Arc<AtomicUsize>,
}

impl Maintenance {
    /// Duties over `store` and `payloads`, every `interval`, with the default orphan grace
    /// period.
    pub fn new(
        store: Arc<Store>,
        payloads: Arc<PayloadStore>,
        stamper: Stamper,
        interval: Duration,
    ) -> Self {
        Self {
            store,
            payloads,
            stamper,
            interval,
            orphan_grace: DEFAULT_ORPHAN_GRACE,
            retention: RoundLimits::default(),
            next_shard: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How long a payload may exist without a row (and a temporary unfinished) before it is
    /// deleted.
    #[must_use]
    pub fn with_orphan_grace(mut self, grace: Duration) -> Self {
        self.orphan_grace = grace;
        self
    }

    /// How much retention purges per round (batch size, batches per tenant and kind).
    #[must_use]
    pub fn with_retention_limits(mut self, limits: RoundLimits) -> Self {
        self.retention = limits;
        self
    }

    /// Purges what is past its tenant's retention at `now`.
    pub async fn purge_retention(&self, now: DateTime<Utc>) -> Purged {
        let (store, payloads, limits) = (self.store.clone(), self.payloads.clone(), self.retention);
        match tokio::task::spawn_blocking(move || {
            retention::purge_round(&store, &payloads, now, limits)
        })
        .await
        {
            Ok(Ok(purged)) => purged,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the retention purge failed");
                Purged::default()
            }
            Err(e) => {
                tracing::warn!(error = %e, "the retention purge task failed");
                Purged::default()
            }
        }
    }

    /// Sweeps shard `shard` of the payload store at `now` (temporaries too on shard 0, so
    /// once per walk over the shards).
    pub async fn sweep_orphans(&self, now: DateTime<Utc>, shard: u8) -> Swept {
        let cutoff = std::time::SystemTime::from(now)
            .checked_sub(self.orphan_grace)
            .unwrap_or(std::time::UNIX_EPOCH);
        let (store, payloads) = (self.store.clone(), self.payloads.clone());
        match tokio::task::spawn_blocking(move || {
            orphans::sweep_shard(&store, &payloads, shard, cutoff, shard == 0)
        })
        .await
        {
            Ok(Ok(swept)) => swept,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, shard, "the orphan payload sweep failed");
                Swept::default()
            }
            Err(e) => {
                tracing::warn!(error = %e, "the orphan payload sweep task failed");
                Swept::default()
            }
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
        let purged = self.purge_retention(now).await;
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % SHARDS;
        let swept = self
            .sweep_orphans(now, u8::try_from(shard).unwrap_or_default())
            .await;
        Round {
            transitions,
            stamped,
            expiry_notices,
            idempotency_purged,
            orphans_deleted: swept.orphans_deleted,
            temporaries_deleted: swept.temporaries_deleted,
            payloads_purged: purged.payloads,
            records_purged: purged.records,
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
                    orphans_deleted = round.orphans_deleted,
                    temporaries_deleted = round.temporaries_deleted,
                    payloads_purged = round.payloads_purged,
                    records_purged = round.records_purged,
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
