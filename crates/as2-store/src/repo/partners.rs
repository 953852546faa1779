//! Partners: every setting of both seeds, the basic-auth password sealed at rest.

use as2_domain::id::{CertificateId, PartnerId, StationId, TenantId};
use as2_domain::network::IpNetwork;
use as2_domain::pagination::PageRequest;
use as2_domain::partner::{Partner, PartnerSettings};
use as2_domain::partner_tls::PartnerTls;
use as2_domain::webhook::EventType;
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult, not_found};
use crate::repo::{converted, parse_column};
use crate::schema::partners;
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::tx::with_tx;
use crate::with_conn;

/// The associated data partner passwords are sealed with.
pub(crate) const PASSWORD_PURPOSE: &str = "partner.auth_password";
const DUPLICATE: &str = "a partner with this AS2 ID already exists on this station";

/// Partners.
#[derive(Debug)]
pub struct Partners<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = partners)]
pub(super) struct PartnerRow {
    id: i64,
    tenant_id: i64,
    mode: String,
    station_id: i64,
    name: String,
    as2_id: String,
    url: String,
    email: Option<String>,
    sign: bool,
    sign_algorithm: String,
    encrypt: bool,
    encrypt_algorithm: String,
    compress: bool,
    mdn_mode: String,
    mdn_signed: bool,
    mdn_url: Option<String>,
    certificate_id: Option<i64>,
    encryption_certificate_id: Option<i64>,
    auth: bool,
    auth_user: Option<String>,
    auth_password_secret: Option<String>,
    firewall: bool,
    allowed_networks: String,
    retry_attempts: i32,
    retry_interval_secs: i32,
    timeout_secs: i32,
    active: bool,
    require_signed: bool,
    require_encrypted: bool,
    signature_scheme: String,
    key_transport: String,
    compression_order: String,
    unsigned_mic: String,
    tls_ca_bundle: Option<String>,
    tls_ca_only: bool,
    tls_pin_sha256: Option<String>,
    tls_client_certificate_id: Option<i64>,
    tls_inbound_client_certificate_id: Option<i64>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = partners, treat_none_as_null = true)]
struct PartnerValues<'p> {
    station_id: i64,
    name: &'p str,
    as2_id: &'p str,
    url: &'p str,
    email: Option<&'p str>,
    sign: bool,
    sign_algorithm: &'static str,
    encrypt: bool,
    encrypt_algorithm: &'static str,
    compress: bool,
    mdn_mode: &'static str,
    mdn_signed: bool,
    mdn_url: Option<&'p str>,
    certificate_id: Option<i64>,
    encryption_certificate_id: Option<i64>,
    auth: bool,
    auth_user: Option<&'p str>,
    firewall: bool,
    allowed_networks: String,
    retry_attempts: i32,
    retry_interval_secs: i32,
    timeout_secs: i32,
    active: bool,
    require_signed: bool,
    require_encrypted: bool,
    signature_scheme: &'static str,
    key_transport: &'static str,
    compression_order: &'static str,
    unsigned_mic: &'static str,
    tls_ca_bundle: Option<&'p str>,
    tls_ca_only: bool,
    tls_pin_sha256: Option<String>,
    tls_client_certificate_id: Option<i64>,
    tls_inbound_client_certificate_id: Option<i64>,
}

impl<'p> From<&'p PartnerSettings> for PartnerValues<'p> {
    fn from(s: &'p PartnerSettings) -> Self {
        Self {
            station_id: s.station_id.0,
            name: &s.name,
            as2_id: &s.as2_id,
            url: &s.url,
            email: s.email.as_deref(),
            sign: s.sign,
            sign_algorithm: s.sign_algorithm.as_str(),
            encrypt: s.encrypt,
            encrypt_algorithm: s.encrypt_algorithm.as_str(),
            compress: s.compress,
            mdn_mode: s.mdn_mode.as_str(),
            mdn_signed: s.mdn_signed,
            mdn_url: s.mdn_url.as_deref(),
            certificate_id: s.certificate_id.map(|c| c.0),
            encryption_certificate_id: s.encryption_certificate_id.map(|c| c.0),
            auth: s.auth,
            auth_user: s.auth_user.as_deref(),
            firewall: s.firewall,
            allowed_networks: s
                .allowed_networks
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            retry_attempts: s.retry_attempts,
            retry_interval_secs: s.retry_interval_secs,
            timeout_secs: s.timeout_secs,
            active: s.active,
            require_signed: s.require_signed,
            require_encrypted: s.require_encrypted,
            signature_scheme: s.signature_scheme.as_str(),
            key_transport: s.key_transport.as_str(),
            compression_order: s.compression_order.as_str(),
            unsigned_mic: s.unsigned_mic.as_str(),
            tls_ca_bundle: s.tls.ca_bundle.as_deref(),
            tls_ca_only: s.tls.ca_only,
            tls_pin_sha256: s.tls.pin_sha256.map(|p| p.to_string()),
            tls_client_certificate_id: s.tls.client_certificate_id.map(|c| c.0),
            tls_inbound_client_certificate_id: s.tls_inbound_client_certificate_id.map(|c| c.0),
        }
    }
}

impl TryFrom<PartnerRow> for Partner {
    type Error = StoreError;
    fn try_from(row: PartnerRow) -> StoreResult<Self> {
        const T: &str = "partners";
        let allowed_networks = row
            .allowed_networks
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNetwork>()
                    .map_err(|e| StoreError::corrupt(T, e))
            })
            .collect::<StoreResult<_>>()?;
        Ok(Self {
            id: PartnerId(row.id),
            tenant_id: TenantId(row.tenant_id),
            mode: parse_column(T, &row.mode)?,
            has_auth_password: row.auth_password_secret.is_some(),
            settings: PartnerSettings {
                name: row.name,
                as2_id: row.as2_id,
                url: row.url,
                email: row.email,
                station_id: StationId(row.station_id),
                sign: row.sign,
                sign_algorithm: parse_column(T, &row.sign_algorithm)?,
                encrypt: row.encrypt,
                encrypt_algorithm: parse_column(T, &row.encrypt_algorithm)?,
                compress: row.compress,
                signature_scheme: parse_column(T, &row.signature_scheme)?,
                key_transport: parse_column(T, &row.key_transport)?,
                compression_order: parse_column(T, &row.compression_order)?,
                unsigned_mic: parse_column(T, &row.unsigned_mic)?,
                mdn_mode: parse_column(T, &row.mdn_mode)?,
                mdn_signed: row.mdn_signed,
                mdn_url: row.mdn_url,
                certificate_id: row.certificate_id.map(CertificateId),
                encryption_certificate_id: row.encryption_certificate_id.map(CertificateId),
                auth: row.auth,
                auth_user: row.auth_user,
                firewall: row.firewall,
                allowed_networks,
                retry_attempts: row.retry_attempts,
                retry_interval_secs: row.retry_interval_secs,
                timeout_secs: row.timeout_secs,
                active: row.active,
                require_signed: row.require_signed,
                require_encrypted: row.require_encrypted,
                tls: PartnerTls {
                    ca_bundle: row.tls_ca_bundle,
                    ca_only: row.tls_ca_only,
                    pin_sha256: row
                        .tls_pin_sha256
                        .as_deref()
                        .map(|p| p.parse().map_err(|e| StoreError::corrupt(T, e)))
                        .transpose()?,
                    client_certificate_id: row.tls_client_certificate_id.map(CertificateId),
                },
                tls_inbound_client_certificate_id: row
                    .tls_inbound_client_certificate_id
                    .map(CertificateId),
            },
            created_at: from_db(row.created_at),
            updated_at: from_db(row.updated_at),
        })
    }
}

/// What to do with the stored basic-auth password on an update.
#[derive(Debug, Clone, Copy)]
pub enum PasswordChange<'p> {
    /// Leave it as it is.
    Keep,
    /// Replace it.
    Set(&'p str),
    /// Remove it.
    Clear,
}

impl Partners<'_> {
    /// Creates a partner in `scope`, announcing `partner.created` in the same transaction.
    pub fn create(
        &self,
        scope: Scope,
        settings: &PartnerSettings,
        password: Option<&str>,
    ) -> StoreResult<Partner> {
        let sealed = password.map(|p| self.store.secrets().seal(PASSWORD_PURPOSE, p.as_bytes()));
        let at = to_db(now());
        self.store.transaction(|tx| {
            let row: PartnerRow = with_tx!(&mut *tx, |c| diesel::insert_into(partners::table)
                .values((
                    PartnerValues::from(settings),
                    partners::tenant_id.eq(scope.tenant()),
                    partners::mode.eq(scope.mode()),
                    partners::auth_password_secret.eq(sealed.as_deref()),
                    partners::created_at.eq(at),
                    partners::updated_at.eq(at),
                ))
                .returning(PartnerRow::as_returning())
                .get_result(c))
            .map_err(StoreError::unique(DUPLICATE))?;
            let created: Partner = row.try_into()?;
            let data = serde_json::json!({
                "id": created.id.to_string(),
                "as2_id": created.settings.as2_id,
            });
            tx.webhooks()
                .publish(scope, EventType::PartnerCreated, &data.to_string(), None)?;
            Ok(created)
        })
    }

    /// A partner of `scope`.
    pub fn get(&self, scope: Scope, id: PartnerId) -> StoreResult<Partner> {
        let mut conn = self.store.db().conn()?;
        let row: PartnerRow = with_conn!(&mut conn, |c| scoped!(partners, scope, kept)
            .filter(partners::id.eq(id.0))
            .select(PartnerRow::as_select())
            .first(c))
        .map_err(not_found)?;
        row.try_into()
    }

    /// Partners of `scope` (of one station when given), newest first, and their total.
    pub fn list(
        &self,
        scope: Scope,
        station: Option<StationId>,
        page: PageRequest,
    ) -> StoreResult<(Vec<Partner>, i64)> {
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<PartnerRow>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                let query = scoped!(partners, scope, kept).into_boxed();
                match station {
                    Some(s) => query.filter(partners::station_id.eq(s.0)),
                    None => query,
                }
            };
            page_of!(
                c,
                base,
                (partners::created_at.desc(), partners::id.desc()),
                page,
                PartnerRow
            )
        })?;
        converted(rows, total)
    }

    /// Replaces a partner's settings, and its password as `password` says.
    pub fn update(
        &self,
        scope: Scope,
        id: PartnerId,
        settings: &PartnerSettings,
        password: PasswordChange<'_>,
    ) -> StoreResult<Partner> {
        let at = to_db(now());
        let sealed = match password {
            PasswordChange::Set(p) => Some(Some(
                self.store.secrets().seal(PASSWORD_PURPOSE, p.as_bytes()),
            )),
            PasswordChange::Clear => Some(None),
            PasswordChange::Keep => None,
        };
        let row: PartnerRow = self.store.transaction(|tx| {
            with_tx!(tx, |c| {
                if let Some(secret) = &sealed {
                    diesel::update(scoped!(partners, scope, kept).filter(partners::id.eq(id.0)))
                        .set(partners::auth_password_secret.eq(secret.as_deref()))
                        .execute(c)?;
                }
                diesel::update(scoped!(partners, scope, kept).filter(partners::id.eq(id.0)))
                    .set((PartnerValues::from(settings), partners::updated_at.eq(at)))
                    .returning(PartnerRow::as_returning())
                    .get_result(c)
            })
            .map_err(StoreError::unique(DUPLICATE))
        })?;
        row.try_into()
    }

    /// Points the partner's encryption certificate at `certificate` (a CEM acceptance: we
    /// encrypt to their new certificate from now on).
    pub fn set_encryption_certificate(
        &self,
        scope: Scope,
        id: PartnerId,
        certificate: Option<CertificateId>,
    ) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        let n = with_conn!(&mut conn, |c| diesel::update(
            scoped!(partners, scope, kept).filter(partners::id.eq(id.0))
        )
        .set((
            partners::encryption_certificate_id.eq(certificate.map(|c| c.0)),
            partners::updated_at.eq(at),
        ))
        .execute(c))?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Deletes (soft) a partner of `scope`; its messages stay readable.
    pub fn delete(&self, scope: Scope, id: PartnerId) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        let n = with_conn!(&mut conn, |c| diesel::update(
            scoped!(partners, scope, kept).filter(partners::id.eq(id.0))
        )
        .set(partners::deleted_at.eq(at))
        .execute(c))?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// The decrypted basic-auth password, for the engine only (the API never returns it).
    pub fn auth_password(&self, scope: Scope, id: PartnerId) -> StoreResult<Option<String>> {
        let mut conn = self.store.db().conn()?;
        let sealed: Option<String> = with_conn!(&mut conn, |c| scoped!(partners, scope, kept)
            .filter(partners::id.eq(id.0))
            .select(partners::auth_password_secret)
            .first(c))
        .map_err(not_found)?;
        sealed
            .map(|s| {
                let bytes = self.store.secrets().open(PASSWORD_PURPOSE, &s)?;
                String::from_utf8(bytes).map_err(|e| StoreError::corrupt("partners", e))
            })
            .transpose()
    }

    /// The live partner with `as2_id` on `station` (inbound routing by `AS2-From`).
    pub fn find_for_station(
        &self,
        scope: Scope,
        station: StationId,
        as2_id: &str,
    ) -> StoreResult<Partner> {
        let mut conn = self.store.db().conn()?;
        let row: PartnerRow = with_conn!(&mut conn, |c| scoped!(partners, scope, kept)
            .filter(partners::station_id.eq(station.0))
            .filter(partners::as2_id.eq(as2_id))
            .select(PartnerRow::as_select())
            // a unique lookup: no LIMIT (see `crate::db`)
            .get_result(c))
        .map_err(not_found)?;
        row.try_into()
    }
}
