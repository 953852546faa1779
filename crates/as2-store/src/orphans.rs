//! The orphan sweep: payloads that no row names (the process crashed between finishing the
//! payload and inserting its row, or refused the message and could not delete it) are
//! deleted once they are older than a grace period, and unfinished temporaries with them.
//!
//! An orphan is never served meanwhile: payloads are only ever read through the key of a
//! row. The grace period protects the window between `finish` and the row's insert; it must
//! be longer than that window (the longest upload included: S3 dates a multipart object
//! from the start of its upload).
//!
//! One call sweeps one shard (the keys starting with two given hex digits): one listing and
//! one question to the database per 500 keys, so a round stays small however many payloads
//! there are; the maintenance loop walks the 256 shards one per round.

use std::time::SystemTime;

use crate::error::StoreResult;
use crate::payload::PayloadStore;
use crate::store::Store;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Payloads older than the cutoff that were looked at.
    pub examined: usize,
    /// Of those, the ones no row names, deleted.
    pub orphans_deleted: usize,
    /// Unfinished temporaries deleted (the file system's `tmp/*.part`).
    pub temporaries_deleted: usize,
}

/// Sweeps shard `shard`: payloads written before `cutoff` that no row names are deleted,
/// in batches; with `temporaries`, stale unfinished temporaries too.
///
/// # Errors
/// The database or the payload store failed; what was deleted before stays deleted.
pub fn sweep_shard(
    store: &Store,
    payloads: &PayloadStore,
    shard: u8,
    cutoff: SystemTime,
    temporaries: bool,
) -> StoreResult<Swept> {
    let temporaries_deleted = if temporaries {
        payloads.remove_stale_temporaries(cutoff)?
    } else {
        0
    };
    let old: Vec<String> = payloads
        .list_shard(shard)?
        .into_iter()
        .filter(|listed| listed.modified < cutoff)
        .map(|listed| listed.key)
        .collect();
    let mut orphans_deleted = 0;
    for batch in old.chunks(DELETE_BATCH) {
        let referenced = store.payload_refs().referenced(batch)?;
        let orphans: Vec<String> = batch
            .iter()
            .filter(|key| !referenced.contains(*key))
            .cloned()
            .collect();
        if !orphans.is_empty() {
            payloads.delete_many(&orphans)?;
            orphans_deleted += orphans.len();
        }
    }
    Ok(Swept {
        examined: old.len(),
        orphans_deleted,
        temporaries_deleted,
    })
}

/// Keys checked and deleted together.
const DELETE_BATCH: usize = 500;
