//! Retention's rows: each tenant's policy, and the purges. A purge takes a batch of final
//! messages older than the cut-off and changes only the rows still as they were read
//! (`payload_purged_at IS NULL`, a final status): with several gateways on one database a
//! message is purged once, and a message in flight (`queued`, `processing`, `sent`) never.

use as2_domain::id::TenantId;
use as2_domain::message::MessageStatus;
use as2_domain::plan::Plan;
use as2_domain::retention::RetentionOverride;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::StoreResult;
use crate::repo::parse_column;
use crate::schema::{
    accounts, cem_requests, mdns, message_events, message_evidence, messages, purges, tenants,
};
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, to_db};
use crate::tx::with_tx;
use crate::with_conn;

/// Retention's rows.
#[derive(Debug)]
pub struct RetentionRepo<'a> {
    pub(crate) store: &'a Store,
}

/// A tenant's plan and own retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantRetention {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its account's plan.
    pub plan: Plan,
    /// Its own values.
    pub own: RetentionOverride,
}

/// What a purge removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeKind {
    /// Payloads and raw MDNs; the rows stay, marked `payload_purged_at`.
    Payloads,
    /// Message rows with their events and MDN records.
    Records,
}

impl PurgeKind {
    /// The `purges.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payloads => "payloads",
            Self::Records => "records",
        }
    }
}

/// What one batch purged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgedBatch {
    /// Messages purged.
    pub items: usize,
    /// Candidates read (a full batch means there may be more).
    pub examined: usize,
    /// Payload bytes let go.
    pub bytes: i64,
    /// Payload store keys the purged rows named (payloads, raw MDNs): to delete once no
    /// other row names them (a resend shares its original's payload).
    pub keys: Vec<String>,
}

/// One purge as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeRecord {
    /// `payloads` or `records`.
    pub kind: String,
    /// Messages purged.
    pub items: i64,
    /// Payload bytes let go.
    pub bytes: i64,
    /// The cut-off: messages created before it.
    pub older_than: DateTime<Utc>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Statuses after which nothing happens without an operator: the only ones purged.
fn final_statuses() -> Vec<String> {
    [
        MessageStatus::Delivered,
        MessageStatus::Failed,
        MessageStatus::Received,
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

/// Writes the purge's record in its transaction (nothing when nothing was purged): a
/// diesel result, for the body of `with_tx!`.
macro_rules! record {
    ($c:expr, $scope:expr, $kind:expr, $purged:expr, $cutoff:expr, $at:expr) => {
        if $purged.items > 0 {
            diesel::insert_into(purges::table)
                .values((
                    purges::tenant_id.eq($scope.tenant()),
                    purges::mode.eq($scope.mode()),
                    purges::kind.eq($kind.as_str()),
                    purges::items.eq(i64::try_from($purged.items).unwrap_or(i64::MAX)),
                    purges::bytes.eq($purged.bytes),
                    purges::older_than.eq($cutoff),
                    purges::created_at.eq($at),
                ))
                .execute($c)
                .map(drop)
        } else {
            Ok(())
        }
    };
}

impl RetentionRepo<'_> {
    /// Every tenant (deleted ones too: their data ages like any other) with its plan.
    ///
    /// # Errors
    /// The database failed, or a plan name is unknown.
    pub fn policies(&self) -> StoreResult<Vec<TenantRetention>> {
        let mut conn = self.store.db().conn()?;
        let rows: Vec<(i64, String, Option<i32>, Option<i32>)> = with_conn!(&mut conn, |c| {
            tenants::table
                .inner_join(accounts::table)
                .order(tenants::id)
                .select((
                    tenants::id,
                    accounts::plan,
                    tenants::retention_payload_days,
                    tenants::retention_record_days,
                ))
                .load(c)
        })?;
        let days = |d: Option<i32>| d.and_then(|d| u32::try_from(d).ok());
        rows.into_iter()
            .map(|(id, plan, payload, record)| {
                Ok(TenantRetention {
                    tenant_id: TenantId(id),
                    plan: parse_column("accounts", &plan)?,
                    own: RetentionOverride {
                        payload_days: days(payload),
                        record_days: days(record),
                    },
                })
            })
            .collect()
    }

    /// Deletes (from the rows) the payloads and raw MDNs of up to `batch` final messages of
    /// `scope` created before `older_than`, marks them purged at `now` and records the purge.
    ///
    /// # Errors
    /// The database failed.
    pub fn purge_payloads(
        &self,
        scope: Scope,
        older_than: DateTime<Utc>,
        now: DateTime<Utc>,
        batch: i64,
    ) -> StoreResult<PurgedBatch> {
        let (cutoff, at, finals) = (to_db(older_than), to_db(now), final_statuses());
        self.store.transaction(|tx| {
            let purged = with_tx!(tx, |c| {
                let candidates: Vec<(i64, Option<String>, i64)> = scoped!(messages, scope)
                    .filter(messages::created_at.lt(cutoff))
                    .filter(messages::status.eq_any(&finals))
                    .filter(messages::payload_purged_at.is_null())
                    .filter(
                        messages::payload_key
                            .is_not_null()
                            .or(messages::payload_inline.is_not_null()),
                    )
                    .order(messages::id)
                    .limit(batch)
                    .select((messages::id, messages::payload_key, messages::bytes))
                    .load(c)?;
                let ids: Vec<i64> = candidates.iter().map(|(id, _, _)| *id).collect();
                // the compare-and-swap: only rows nobody purged or moved since they were read
                let won: Vec<i64> = diesel::update(
                    messages::table
                        .filter(messages::id.eq_any(&ids))
                        .filter(messages::payload_purged_at.is_null())
                        .filter(messages::status.eq_any(&finals)),
                )
                .set((
                    messages::payload_key.eq(None::<String>),
                    messages::payload_inline.eq(None::<Vec<u8>>),
                    messages::payload_purged_at.eq(Some(at)),
                ))
                .returning(messages::id)
                .get_results(c)?;
                let mut purged = PurgedBatch {
                    examined: candidates.len(),
                    ..PurgedBatch::default()
                };
                for (id, key, bytes) in candidates {
                    if won.contains(&id) {
                        purged.items += 1;
                        purged.bytes += bytes;
                        purged.keys.extend(key);
                    }
                }
                let raw_keys: Vec<Option<String>> = mdns::table
                    .filter(mdns::message_id.eq_any(&won))
                    .select(mdns::raw_key)
                    .load(c)?;
                purged.keys.extend(raw_keys.into_iter().flatten());
                diesel::update(mdns::table.filter(mdns::message_id.eq_any(&won)))
                    .set((
                        mdns::raw_key.eq(None::<String>),
                        mdns::raw.eq(None::<Vec<u8>>),
                    ))
                    .execute(c)?;
                record!(c, scope, PurgeKind::Payloads, purged, cutoff, at)?;
                Ok::<_, diesel::result::Error>(purged)
            })?;
            Ok(purged)
        })
    }

    /// Deletes up to `batch` final messages of `scope` created before `older_than`, with
    /// their events and MDN records, and records the purge at `now`.
    ///
    /// # Errors
    /// The database failed.
    pub fn purge_records(
        &self,
        scope: Scope,
        older_than: DateTime<Utc>,
        now: DateTime<Utc>,
        batch: i64,
    ) -> StoreResult<PurgedBatch> {
        let (cutoff, at, finals) = (to_db(older_than), to_db(now), final_statuses());
        self.store.transaction(|tx| {
            let purged = with_tx!(tx, |c| {
                let candidates: Vec<i64> = scoped!(messages, scope)
                    .filter(messages::created_at.lt(cutoff))
                    .filter(messages::status.eq_any(&finals))
                    .order(messages::id)
                    .limit(batch)
                    .select(messages::id)
                    .load(c)?;
                // lock the rows still final (a retry may have re-queued one meanwhile)
                let won: Vec<(i64, Option<String>, i64)> = diesel::update(
                    messages::table
                        .filter(messages::id.eq_any(&candidates))
                        .filter(messages::status.eq_any(&finals)),
                )
                .set(messages::updated_at.eq(messages::updated_at))
                .returning((messages::id, messages::payload_key, messages::bytes))
                .get_results(c)?;
                let ids: Vec<i64> = won.iter().map(|(id, _, _)| *id).collect();
                let mut purged = PurgedBatch {
                    examined: candidates.len(),
                    items: ids.len(),
                    ..PurgedBatch::default()
                };
                for (_, key, bytes) in won {
                    if key.is_some() {
                        purged.bytes += bytes;
                    }
                    purged.keys.extend(key);
                }
                let raw_keys: Vec<Option<String>> = mdns::table
                    .filter(mdns::message_id.eq_any(&ids))
                    .select(mdns::raw_key)
                    .load(c)?;
                purged.keys.extend(raw_keys.into_iter().flatten());
                diesel::update(cem_requests::table.filter(cem_requests::message_id.eq_any(&ids)))
                    .set(cem_requests::message_id.eq(None::<i64>))
                    .execute(c)?;
                diesel::delete(
                    message_events::table.filter(message_events::message_id.eq_any(&ids)),
                )
                .execute(c)?;
                diesel::delete(
                    message_evidence::table.filter(message_evidence::message_id.eq_any(&ids)),
                )
                .execute(c)?;
                diesel::delete(mdns::table.filter(mdns::message_id.eq_any(&ids))).execute(c)?;
                diesel::delete(messages::table.filter(messages::id.eq_any(&ids))).execute(c)?;
                record!(c, scope, PurgeKind::Records, purged, cutoff, at)?;
                Ok::<_, diesel::result::Error>(purged)
            })?;
            Ok(purged)
        })
    }

    /// The purges of `scope`, newest first (at most `limit`).
    ///
    /// # Errors
    /// The database failed.
    pub fn history(&self, scope: Scope, limit: i64) -> StoreResult<Vec<PurgeRecord>> {
        let mut conn = self.store.db().conn()?;
        let rows: Vec<(
            String,
            i64,
            i64,
            chrono::NaiveDateTime,
            chrono::NaiveDateTime,
        )> = with_conn!(&mut conn, |c| {
            scoped!(purges, scope)
                .order((purges::created_at.desc(), purges::id.desc()))
                .limit(limit)
                .select((
                    purges::kind,
                    purges::items,
                    purges::bytes,
                    purges::older_than,
                    purges::created_at,
                ))
                .load(c)
        })?;
        Ok(rows
            .into_iter()
            .map(|(kind, items, bytes, older_than, created_at)| PurgeRecord {
                kind,
                items,
                bytes,
                older_than: from_db(older_than),
                created_at: from_db(created_at),
            })
            .collect())
    }
}
