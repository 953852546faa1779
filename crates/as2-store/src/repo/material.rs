//! Trust material read several at a time (issue 18): a received message reads its station's
//! and its partner's trust records in one query, and every certificate and key pair they
//! name in one more, instead of one round trip each, on PostgreSQL (`= ANY($1)`, one
//! prepared statement whatever the count). On SQLite there is no round trip to save, and an
//! `IN (…)` list is parsed and planned anew at every execution (diesel cannot cache it), so
//! there each one is read by its own cached lookup, as before.

use as2_domain::id::CertificateId;
use as2_domain::trust::{TrustRecord, TrustSubject};
use diesel::prelude::*;

use crate::db::Backend;
use crate::error::{StoreError, StoreResult};
use crate::repo::certificates::{Certificates, PRIVATE_KEY_PURPOSE};
use crate::repo::trust::{RecordRow, Trust, stored_from};
use crate::schema::{certificates, trust_records};
use crate::scope::Scope;
use crate::with_conn;

/// A stored certificate read with [`Certificates::many`]: its DER, and its private key
/// (PKCS#8 DER, decrypted) when it is a key pair and the key was asked for.
#[derive(Debug)]
pub struct StoredPair {
    /// The certificate's id.
    pub id: CertificateId,
    /// The certificate (DER).
    pub der: Vec<u8>,
    /// Its private key, decrypted, when asked for and stored.
    pub key: Option<Vec<u8>>,
}

impl Trust<'_> {
    /// The records of `subjects` of `scope` (each with the certificate that seeds it when no
    /// record is stored yet), in their order, in one query.
    pub fn records<const N: usize>(
        &self,
        scope: Scope,
        subjects: [(TrustSubject, i64, Option<CertificateId>); N],
    ) -> StoreResult<[TrustRecord; N]> {
        if self.store.db().backend() == Backend::Sqlite {
            let mut records = Vec::with_capacity(N);
            for (subject, id, current) in subjects {
                records.push(self.record(scope, subject, id, current)?);
            }
            return into_array(records);
        }
        let kinds: Vec<&str> = subjects.iter().map(|(s, ..)| s.as_str()).collect();
        let ids: Vec<i64> = subjects.iter().map(|(_, id, _)| *id).collect();
        let mut conn = self.store.db().conn()?;
        let rows: Vec<(String, i64, RecordRow)> = with_conn!(&mut conn, |c| trust_records::table
            .filter(trust_records::tenant_id.eq(scope.tenant()))
            .filter(trust_records::mode.eq(scope.mode()))
            .filter(trust_records::subject.eq_any(&kinds))
            .filter(trust_records::subject_id.eq_any(&ids))
            .select((
                trust_records::subject,
                trust_records::subject_id,
                (
                    trust_records::current_certificate_id,
                    trust_records::next_certificate_id,
                    trust_records::previous_certificate_id,
                    trust_records::activate_at,
                    trust_records::retire_at,
                    trust_records::state,
                    trust_records::version,
                ),
            ))
            .load(c))?;
        let mut records = Vec::with_capacity(N);
        for (subject, id, current) in subjects {
            // the filter is a cross product: pick each subject's own row
            let row = rows
                .iter()
                .find(|(s, i, _)| s == subject.as_str() && *i == id)
                .map(|(.., row)| row.clone());
            records.push(stored_from(row, current)?.record);
        }
        into_array(records)
    }
}

fn into_array<const N: usize>(records: Vec<TrustRecord>) -> StoreResult<[TrustRecord; N]> {
    records
        .try_into()
        .map_err(|_| StoreError::Conflict("trust records out of step".into()))
}

impl Certificates<'_> {
    /// The certificates `ids` of `scope` in their order, in one query, with the private key
    /// of those also in `keys` (decrypted; for the engine only: the API never returns a
    /// key). `NotFound` when one of them is not stored (or deleted).
    pub fn many(
        &self,
        scope: Scope,
        ids: &[CertificateId],
        keys: &[CertificateId],
    ) -> StoreResult<Vec<StoredPair>> {
        if self.store.db().backend() == Backend::Sqlite {
            return ids
                .iter()
                .map(|&id| {
                    let (der, key) = if keys.contains(&id) {
                        self.key_pair(scope, id)?
                    } else {
                        (self.der(scope, id)?.0, None)
                    };
                    Ok(StoredPair { id, der, key })
                })
                .collect();
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let mut conn = self.store.db().conn()?;
        let rows: Vec<(i64, Vec<u8>, Option<String>)> = with_conn!(&mut conn, |c| {
            certificates::table
                .filter(certificates::id.eq_any(&wanted))
                .filter(certificates::tenant_id.eq(scope.tenant()))
                .filter(certificates::mode.eq(scope.mode()))
                .filter(certificates::deleted_at.is_null())
                .select((
                    certificates::id,
                    certificates::certificate_der,
                    certificates::private_key_secret,
                ))
                .load(c)
        })?;
        ids.iter()
            .map(|&id| {
                let (_, der, sealed) = rows
                    .iter()
                    .find(|(row_id, ..)| *row_id == id.0)
                    .ok_or(StoreError::NotFound)?;
                let key = match sealed.as_deref().filter(|_| keys.contains(&id)) {
                    Some(sealed) => Some(self.store.secrets().open(PRIVATE_KEY_PURPOSE, sealed)?),
                    None => None,
                };
                Ok(StoredPair {
                    id,
                    der: der.clone(),
                    key,
                })
            })
            .collect()
    }
}
