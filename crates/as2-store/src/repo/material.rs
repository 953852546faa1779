//! Certificates read several at a time (issue 18): a received message reads every
//! certificate and key pair its station's and partner's trust records name (those its
//! process has not loaded before; the records come with its route,
//! `Stations::inbound_route`) in one query instead of one round trip each, on PostgreSQL
//! (`= ANY($1)`, one prepared statement whatever the count). On SQLite there is no round trip
//! to save, and an `IN (…)` list is parsed and planned anew at every execution (diesel cannot
//! cache it), so there each one is read by its own cached lookup.

use as2_domain::id::CertificateId;
use diesel::prelude::*;

use crate::db::Backend;
use crate::error::{StoreError, StoreResult};
use crate::repo::certificates::{Certificates, PRIVATE_KEY_PURPOSE};
use crate::schema::certificates;
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
