//! The identity of the built-in time-stamping authority (one per installation, shared by
//! every process): its certificate, its sealed private key and its serial-number counter.

use diesel::prelude::*;

use crate::error::StoreResult;
use crate::schema::timestamp_authorities;
use crate::store::Store;
use crate::time::{now, to_db};
use crate::with_conn;

pub(crate) const KEY_PURPOSE: &str = "tsa-private-key";

/// The built-in TSA's stored identity.
#[derive(Debug)]
pub struct TimestampAuthorities<'a> {
    pub(crate) store: &'a Store,
}

/// A stored TSA identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuthority {
    /// Row id.
    pub id: i64,
    /// The TSA certificate (DER).
    pub certificate_der: Vec<u8>,
    /// The private key (PKCS#8 DER), opened with the master key.
    pub private_key: Vec<u8>,
}

impl TimestampAuthorities<'_> {
    /// The installation's TSA identity, if one was created.
    pub fn current(&self) -> StoreResult<Option<StoredAuthority>> {
        let mut conn = self.store.db().conn()?;
        let row: Option<(i64, Vec<u8>, String)> = with_conn!(&mut conn, |c| {
            timestamp_authorities::table
                .order(timestamp_authorities::id.asc())
                .select((
                    timestamp_authorities::id,
                    timestamp_authorities::certificate_der,
                    timestamp_authorities::private_key_secret,
                ))
                .first(c)
                .optional()
        })?;
        row.map(|(id, certificate_der, sealed)| {
            Ok(StoredAuthority {
                id,
                certificate_der,
                private_key: self.store.secrets().open(KEY_PURPOSE, &sealed)?,
            })
        })
        .transpose()
    }

    /// Stores a new identity unless one exists, and returns the one in force (the first
    /// stored wins when two processes race).
    pub fn create_if_absent(
        &self,
        certificate_der: &[u8],
        private_key: &[u8],
    ) -> StoreResult<StoredAuthority> {
        if let Some(existing) = self.current()? {
            return Ok(existing);
        }
        let sealed = self.store.secrets().seal(KEY_PURPOSE, private_key);
        {
            let mut conn = self.store.db().conn()?;
            with_conn!(&mut conn, |c| diesel::insert_into(
                timestamp_authorities::table
            )
            .values((
                timestamp_authorities::certificate_der.eq(certificate_der),
                timestamp_authorities::private_key_secret.eq(&sealed),
                timestamp_authorities::next_serial.eq(1_i64),
                timestamp_authorities::created_at.eq(to_db(now())),
            ))
            .execute(c))?;
        }
        self.current()?.ok_or(crate::StoreError::NotFound)
    }

    /// Takes the next token serial number of authority `id` (unique across processes).
    pub fn next_serial(&self, id: i64) -> StoreResult<i64> {
        let mut conn = self.store.db().conn()?;
        let serial: i64 = with_conn!(&mut conn, |c| diesel::update(
            timestamp_authorities::table.filter(timestamp_authorities::id.eq(id))
        )
        .set(timestamp_authorities::next_serial.eq(timestamp_authorities::next_serial + 1))
        .returning(timestamp_authorities::next_serial)
        .get_result(c))?;
        Ok(serial - 1)
    }
}
