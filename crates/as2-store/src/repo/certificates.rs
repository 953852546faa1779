//! Certificates and key pairs; private keys sealed at rest and only read back by the engine.

use as2_domain::certificate::{Certificate, CertificateInfo, CertificateKind};
use as2_domain::id::{CertificateId, TenantId};
use as2_domain::pagination::PageRequest;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult, not_found};
use crate::repo::{converted, parse_column};
use crate::schema::{certificate_expiry_notices, certificates};
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::tx::{Tx, with_tx};
use crate::with_conn;

/// The associated data private keys are sealed with.
pub(crate) const PRIVATE_KEY_PURPOSE: &str = "certificate.private_key";

/// Certificates and key pairs.
#[derive(Debug)]
pub struct Certificates<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = certificates)]
struct CertificateRow {
    id: i64,
    tenant_id: i64,
    mode: String,
    name: String,
    kind: String,
    subject: String,
    issuer: String,
    serial: String,
    fingerprint_sha256: String,
    not_before: chrono::NaiveDateTime,
    not_after: chrono::NaiveDateTime,
    key_usage: String,
    created_at: chrono::NaiveDateTime,
}

impl TryFrom<CertificateRow> for Certificate {
    type Error = StoreError;
    fn try_from(row: CertificateRow) -> StoreResult<Self> {
        Ok(Self {
            id: CertificateId(row.id),
            tenant_id: TenantId(row.tenant_id),
            mode: parse_column("certificates", &row.mode)?,
            name: row.name,
            kind: parse_column::<CertificateKind>("certificates", &row.kind)?,
            info: CertificateInfo {
                subject: row.subject,
                issuer: row.issuer,
                serial: row.serial,
                fingerprint_sha256: row.fingerprint_sha256,
                not_before: from_db(row.not_before),
                not_after: from_db(row.not_after),
                key_usage: row
                    .key_usage
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
            created_at: from_db(row.created_at),
        })
    }
}

/// A certificate to store.
#[derive(Debug)]
pub struct NewCertificate<'c> {
    /// Display name.
    pub name: &'c str,
    /// What the certificate says.
    pub info: &'c CertificateInfo,
    /// The certificate, DER.
    pub der: &'c [u8],
    /// The rest of the chain, concatenated DER certificates.
    pub chain_der: Option<&'c [u8]>,
    /// The private key (PKCS#8 DER) for a key pair; sealed before it is written.
    pub private_key_der: Option<&'c [u8]>,
}

/// Filters of the certificate list.
#[derive(Debug, Clone, Copy, Default)]
pub struct CertificateFilter {
    /// Only certificates expiring before this time (and not yet expired).
    pub expires_before: Option<DateTime<Utc>>,
    /// Only this kind.
    pub kind: Option<CertificateKind>,
}

impl Certificates<'_> {
    /// Stores a certificate or key pair in `scope`.
    pub fn create(&self, scope: Scope, new: &NewCertificate<'_>) -> StoreResult<Certificate> {
        let kind = if new.private_key_der.is_some() {
            CertificateKind::KeyPair
        } else {
            CertificateKind::Certificate
        };
        let sealed = new
            .private_key_der
            .map(|key| self.store.secrets().seal(PRIVATE_KEY_PURPOSE, key));
        let usage = new.info.key_usage.join(",");
        let created = to_db(now());
        let mut conn = self.store.db().conn()?;
        let row: CertificateRow =
            with_conn!(&mut conn, |c| diesel::insert_into(certificates::table)
                .values((
                    certificates::tenant_id.eq(scope.tenant()),
                    certificates::mode.eq(scope.mode()),
                    certificates::name.eq(new.name),
                    certificates::kind.eq(kind.as_str()),
                    certificates::subject.eq(&new.info.subject),
                    certificates::issuer.eq(&new.info.issuer),
                    certificates::serial.eq(&new.info.serial),
                    certificates::fingerprint_sha256.eq(&new.info.fingerprint_sha256),
                    certificates::not_before.eq(to_db(new.info.not_before)),
                    certificates::not_after.eq(to_db(new.info.not_after)),
                    certificates::key_usage.eq(&usage),
                    certificates::certificate_der.eq(new.der),
                    certificates::chain_der.eq(new.chain_der),
                    certificates::private_key_secret.eq(sealed.as_deref()),
                    certificates::created_at.eq(created),
                ))
                .returning(CertificateRow::as_returning())
                .get_result(c))?;
        row.try_into()
    }

    /// A certificate of `scope`.
    pub fn get(&self, scope: Scope, id: CertificateId) -> StoreResult<Certificate> {
        let mut conn = self.store.db().conn()?;
        let row: CertificateRow = with_conn!(&mut conn, |c| certificates::table
            .filter(certificates::id.eq(id.0))
            .filter(certificates::tenant_id.eq(scope.tenant()))
            .filter(certificates::mode.eq(scope.mode()))
            .filter(certificates::deleted_at.is_null())
            .select(CertificateRow::as_select())
            .get_result(c))
        .map_err(not_found)?;
        row.try_into()
    }

    /// The certificate's DER and its chain's.
    pub fn der(&self, scope: Scope, id: CertificateId) -> StoreResult<(Vec<u8>, Option<Vec<u8>>)> {
        let mut conn = self.store.db().conn()?;
        with_conn!(&mut conn, |c| certificates::table
            .filter(certificates::id.eq(id.0))
            .filter(certificates::tenant_id.eq(scope.tenant()))
            .filter(certificates::mode.eq(scope.mode()))
            .filter(certificates::deleted_at.is_null())
            .select((certificates::certificate_der, certificates::chain_der))
            .get_result(c))
        .map_err(not_found)
    }

    /// The private key (PKCS#8 DER) of a key pair, decrypted. For the engine only: the API
    /// never returns it.
    pub fn private_key(&self, scope: Scope, id: CertificateId) -> StoreResult<Vec<u8>> {
        let mut conn = self.store.db().conn()?;
        let sealed: Option<String> = with_conn!(&mut conn, |c| certificates::table
            .filter(certificates::id.eq(id.0))
            .filter(certificates::tenant_id.eq(scope.tenant()))
            .filter(certificates::mode.eq(scope.mode()))
            .filter(certificates::deleted_at.is_null())
            .select(certificates::private_key_secret)
            .get_result(c))
        .map_err(not_found)?;
        let sealed = sealed.ok_or(StoreError::NotFound)?;
        Ok(self.store.secrets().open(PRIVATE_KEY_PURPOSE, &sealed)?)
    }

    /// The certificate's DER and its private key (PKCS#8 DER, decrypted) when it is a key
    /// pair, in one query: what [`Self::der`] and [`Self::private_key`] read. For the engine
    /// only: the API never returns a key.
    pub fn key_pair(
        &self,
        scope: Scope,
        id: CertificateId,
    ) -> StoreResult<(Vec<u8>, Option<Vec<u8>>)> {
        let mut conn = self.store.db().conn()?;
        let (der, sealed): (Vec<u8>, Option<String>) = with_conn!(&mut conn, |c| {
            certificates::table
                .filter(certificates::id.eq(id.0))
                .filter(certificates::tenant_id.eq(scope.tenant()))
                .filter(certificates::mode.eq(scope.mode()))
                .filter(certificates::deleted_at.is_null())
                .select((
                    certificates::certificate_der,
                    certificates::private_key_secret,
                ))
                .get_result(c)
        })
        .map_err(not_found)?;
        let key = match sealed {
            Some(sealed) => Some(self.store.secrets().open(PRIVATE_KEY_PURPOSE, &sealed)?),
            None => None,
        };
        Ok((der, key))
    }

    /// Certificates of `scope`, newest first, and their total.
    pub fn list(
        &self,
        scope: Scope,
        filter: CertificateFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<Certificate>, i64)> {
        let mut conn = self.store.db().conn()?;
        let current = to_db(now());
        let (rows, total): (Vec<CertificateRow>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                let mut query = certificates::table
                    .filter(certificates::tenant_id.eq(scope.tenant()))
                    .filter(certificates::mode.eq(scope.mode()))
                    .filter(certificates::deleted_at.is_null())
                    .into_boxed();
                if let Some(before) = filter.expires_before {
                    query = query
                        .filter(certificates::not_after.le(to_db(before)))
                        .filter(certificates::not_after.ge(current));
                }
                if let Some(kind) = filter.kind {
                    query = query.filter(certificates::kind.eq(kind.as_str()));
                }
                query
            };
            page_of!(
                c,
                base,
                (certificates::created_at.desc(), certificates::id.desc()),
                page,
                CertificateRow
            )
        })?;
        converted(rows, total)
    }

    /// Deletes (soft) a certificate of `scope`.
    pub fn delete(&self, scope: Scope, id: CertificateId) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        let n = with_conn!(&mut conn, |c| diesel::update(
            certificates::table
                .filter(certificates::id.eq(id.0))
                .filter(certificates::tenant_id.eq(scope.tenant()))
                .filter(certificates::mode.eq(scope.mode()))
                .filter(certificates::deleted_at.is_null())
        )
        .set(certificates::deleted_at.eq(at))
        .execute(c))?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Every live certificate (all tenants) expiring within `days`, for the expiry watch.
    pub fn expiring_within(&self, days: i64) -> StoreResult<Vec<Certificate>> {
        let mut conn = self.store.db().conn()?;
        let (from, to) = (to_db(now()), to_db(now() + chrono::Duration::days(days)));
        let rows: Vec<CertificateRow> = with_conn!(&mut conn, |c| certificates::table
            .filter(certificates::deleted_at.is_null())
            .filter(certificates::not_after.ge(from))
            .filter(certificates::not_after.le(to))
            .select(CertificateRow::as_select())
            .load(c))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Notes that the `days`-before-expiry notice of `id` goes out, and in the same
    /// transaction runs `announce` (which publishes it); `false`, and nothing announced, when
    /// it went out already (each threshold is announced once per certificate, whichever
    /// process runs).
    pub fn mark_expiry_notice(
        &self,
        id: CertificateId,
        days: i64,
        announce: impl FnOnce(&mut Tx<'_>) -> StoreResult<()>,
    ) -> StoreResult<bool> {
        self.store.transaction(|tx| {
            let n = with_tx!(&mut *tx, |c| diesel::insert_into(
                certificate_expiry_notices::table
            )
            .values((
                certificate_expiry_notices::certificate_id.eq(id.0),
                certificate_expiry_notices::threshold_days
                    .eq(i32::try_from(days).unwrap_or(i32::MAX)),
                certificate_expiry_notices::created_at.eq(to_db(now())),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
            if n == 1 {
                announce(tx)?;
            }
            Ok(n == 1)
        })
    }
}
