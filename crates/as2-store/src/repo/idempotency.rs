//! Idempotency records: the first request with a key claims it; replays read its response.

use as2_domain::id::TenantId;
use as2_domain::idempotency::{IdempotencyRecord, RETENTION, StoredResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{StoreResult, not_found};
use crate::schema::idempotency_keys;
use crate::store::Store;
use crate::time::{from_db, to_db};
use crate::with_conn;

/// Idempotency records (scoped per tenant, as the overview says).
#[derive(Debug)]
pub struct Idempotency<'a> {
    pub(crate) store: &'a Store,
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the key: run it, then `finish`.
    Claimed,
    /// The key was seen before: decide with `IdempotencyRecord::replay`.
    Existing(IdempotencyRecord),
}

impl Idempotency<'_> {
    /// Claims `key` for `tenant` with the request's `fingerprint`; the unique index makes
    /// exactly one of two concurrent claimants win.
    pub fn claim(
        &self,
        tenant: TenantId,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Claim> {
        let mut conn = self.store.db().conn()?;
        with_conn!(&mut conn, |c| {
            diesel::delete(
                idempotency_keys::table
                    .filter(idempotency_keys::tenant_id.eq(tenant.0))
                    .filter(idempotency_keys::idem_key.eq(key))
                    .filter(idempotency_keys::expires_at.lt(to_db(now))),
            )
            .execute(c)?;
            let inserted = diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::tenant_id.eq(tenant.0),
                    idempotency_keys::idem_key.eq(key),
                    idempotency_keys::fingerprint.eq(fingerprint),
                    idempotency_keys::created_at.eq(to_db(now)),
                    idempotency_keys::expires_at.eq(to_db(now + RETENTION)),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
            if inserted == 1 {
                return Ok(Claim::Claimed);
            }
            let (fingerprint, status, body, created_at): (
                String,
                Option<i32>,
                Option<Vec<u8>>,
                chrono::NaiveDateTime,
            ) = idempotency_keys::table
                .filter(idempotency_keys::tenant_id.eq(tenant.0))
                .filter(idempotency_keys::idem_key.eq(key))
                .select((
                    idempotency_keys::fingerprint,
                    idempotency_keys::response_status,
                    idempotency_keys::response_body,
                    idempotency_keys::created_at,
                ))
                .first(c)
                .map_err(not_found)?;
            let response = match (status, body) {
                (Some(status), Some(body)) => Some(StoredResponse {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                }),
                _ => None,
            };
            Ok(Claim::Existing(IdempotencyRecord {
                key: key.to_owned(),
                fingerprint,
                response,
                created_at: from_db(created_at),
            }))
        })
    }

    /// Stores the response of the request that claimed `key`.
    pub fn finish(
        &self,
        tenant: TenantId,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        with_conn!(&mut conn, |c| diesel::update(
            idempotency_keys::table
                .filter(idempotency_keys::tenant_id.eq(tenant.0))
                .filter(idempotency_keys::idem_key.eq(key))
        )
        .set((
            idempotency_keys::response_status.eq(i32::from(response.status)),
            idempotency_keys::response_body.eq(&response.body),
        ))
        .execute(c))?;
        Ok(())
    }

    /// Forgets a claim whose request failed before it produced a response worth keeping
    /// (a 5xx), so the client can try again with the same key.
    pub fn abandon(&self, tenant: TenantId, key: &str) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        with_conn!(&mut conn, |c| diesel::delete(
            idempotency_keys::table
                .filter(idempotency_keys::tenant_id.eq(tenant.0))
                .filter(idempotency_keys::idem_key.eq(key))
                .filter(idempotency_keys::response_status.is_null())
        )
        .execute(c))?;
        Ok(())
    }

    /// Deletes expired records; returns how many.
    pub fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        let mut conn = self.store.db().conn()?;
        Ok(with_conn!(&mut conn, |c| diesel::delete(
            idempotency_keys::table.filter(idempotency_keys::expires_at.lt(to_db(now)))
        )
        .execute(c))?)
    }
}
