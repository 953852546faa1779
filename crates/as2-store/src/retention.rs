//! The retention round: for every tenant and mode, payloads and raw MDNs older than the
//! tenant's payload retention are deleted (the rows stay, marked `payload_purged_at`), then
//! message rows older than its record retention with their events and MDN records; a batch
//! at a time, each batch recorded in `purges` in the same transaction.
//!
//! Only final messages (`delivered`, `failed`, `received`) are purged. A payload object is
//! deleted after its rows let go of it, and only when no other row names it (a resend
//! shares its original's payload); an object left behind by a crash in between is an orphan
//! that the orphan sweep deletes, since no row names it any more.

use as2_domain::Mode;
use chrono::{DateTime, Days, Utc};

use crate::error::StoreResult;
use crate::payload::PayloadStore;
use crate::repo::retention::{PurgeKind, PurgedBatch};
use crate::scope::Scope;
use crate::store::Store;

/// How much one round may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundLimits {
    /// Messages per batch (one transaction).
    pub batch: i64,
    /// Batches per tenant, mode and kind in one round (the next round continues).
    pub batches: usize,
}

impl Default for RoundLimits {
    fn default() -> Self {
        Self {
            batch: 500,
            batches: 10,
        }
    }
}

/// What one round purged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Messages whose payload (and raw MDN) was deleted.
    pub payloads: usize,
    /// Message rows deleted.
    pub records: usize,
    /// Payload store objects deleted.
    pub objects_deleted: usize,
}

/// One retention round at `now` (the caller's clock: the maintenance loop's, or a test's).
///
/// # Errors
/// The database failed; what was purged before stays purged (each batch is committed).
pub fn purge_round(
    store: &Store,
    payloads: &PayloadStore,
    now: DateTime<Utc>,
    limits: RoundLimits,
) -> StoreResult<Purged> {
    let mut total = Purged::default();
    for policy in store.retention().policies()? {
        let retention = policy.own.under(policy.plan);
        for mode in [Mode::Test, Mode::Live] {
            let scope = Scope::new(policy.tenant_id, mode);
            for (kind, days) in [
                (PurgeKind::Payloads, retention.payload_days),
                (PurgeKind::Records, retention.record_days),
            ] {
                let older_than = now
                    .checked_sub_days(Days::new(u64::from(days)))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                for _ in 0..limits.batches {
                    let batch = match kind {
                        PurgeKind::Payloads => store.retention().purge_payloads(
                            scope,
                            older_than,
                            now,
                            limits.batch,
                        )?,
                        PurgeKind::Records => {
                            store
                                .retention()
                                .purge_records(scope, older_than, now, limits.batch)?
                        }
                    };
                    match kind {
                        PurgeKind::Payloads => total.payloads += batch.items,
                        PurgeKind::Records => total.records += batch.items,
                    }
                    total.objects_deleted += delete_unnamed(store, payloads, &batch)?;
                    if batch.examined < usize::try_from(limits.batch).unwrap_or(usize::MAX) {
                        break;
                    }
                }
            }
        }
    }
    Ok(total)
}

/// Deletes the objects of a purged batch that no row names any more.
fn delete_unnamed(
    store: &Store,
    payloads: &PayloadStore,
    batch: &PurgedBatch,
) -> StoreResult<usize> {
    if batch.keys.is_empty() {
        return Ok(0);
    }
    let named = store.payload_refs().referenced(&batch.keys)?;
    let unnamed: Vec<String> = batch
        .keys
        .iter()
        .filter(|key| !named.contains(*key))
        .cloned()
        .collect();
    if let Err(error) = payloads.delete_many(&unnamed) {
        // left for the orphan sweep: no row names them
        tracing::warn!(%error, "deleting purged payloads failed; the orphan sweep will");
        return Ok(0);
    }
    Ok(unnamed.len())
}
