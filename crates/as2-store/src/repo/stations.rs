//! Stations: our AS2 identities, one default per tenant and mode.

use as2_domain::id::{CertificateId, StationId, TenantId};
use as2_domain::pagination::PageRequest;
use as2_domain::station::{Station, StationSettings};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult, not_found};
use crate::repo::{converted, parse_column};
use crate::schema::stations;
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::tx::with_tx;
use crate::with_conn;

/// Stations.
#[derive(Debug)]
pub struct Stations<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = stations)]
pub(super) struct StationRow {
    id: i64,
    tenant_id: i64,
    mode: String,
    name: String,
    as2_id: String,
    certificate_id: Option<i64>,
    encryption_certificate_id: Option<i64>,
    mdn_url: Option<String>,
    is_default: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = stations, treat_none_as_null = true)]
struct StationValues<'s> {
    name: &'s str,
    as2_id: &'s str,
    certificate_id: Option<i64>,
    encryption_certificate_id: Option<i64>,
    mdn_url: Option<&'s str>,
    is_default: bool,
}

impl<'s> From<&'s StationSettings> for StationValues<'s> {
    fn from(s: &'s StationSettings) -> Self {
        Self {
            name: &s.name,
            as2_id: &s.as2_id,
            certificate_id: s.certificate_id.map(|c| c.0),
            encryption_certificate_id: s.encryption_certificate_id.map(|c| c.0),
            mdn_url: s.mdn_url.as_deref(),
            is_default: s.is_default,
        }
    }
}

impl TryFrom<StationRow> for Station {
    type Error = StoreError;
    fn try_from(row: StationRow) -> StoreResult<Self> {
        Ok(Self {
            id: StationId(row.id),
            tenant_id: TenantId(row.tenant_id),
            mode: parse_column("stations", &row.mode)?,
            settings: StationSettings {
                name: row.name,
                as2_id: row.as2_id,
                certificate_id: row.certificate_id.map(CertificateId),
                encryption_certificate_id: row.encryption_certificate_id.map(CertificateId),
                mdn_url: row.mdn_url,
                is_default: row.is_default,
            },
            created_at: from_db(row.created_at),
            updated_at: from_db(row.updated_at),
        })
    }
}

const DUPLICATE: &str = "a station with this AS2 ID already exists in this mode on the platform; AS2 IDs route inbound messages, so each is unique: choose another";

impl Stations<'_> {
    /// Creates a station; when it is the default, the previous default stops being one.
    pub fn create(&self, scope: Scope, settings: &StationSettings) -> StoreResult<Station> {
        let at = to_db(now());
        let row: StationRow = self.store.transaction(|tx| {
            with_tx!(tx, |c| {
                if settings.is_default {
                    diesel::update(scoped!(stations, scope, kept))
                        .set(stations::is_default.eq(false))
                        .execute(c)?;
                }
                diesel::insert_into(stations::table)
                    .values((
                        StationValues::from(settings),
                        stations::tenant_id.eq(scope.tenant()),
                        stations::mode.eq(scope.mode()),
                        stations::created_at.eq(at),
                        stations::updated_at.eq(at),
                    ))
                    .returning(StationRow::as_returning())
                    .get_result(c)
            })
            .map_err(StoreError::unique(DUPLICATE))
        })?;
        row.try_into()
    }

    /// A station of `scope`.
    pub fn get(&self, scope: Scope, id: StationId) -> StoreResult<Station> {
        let mut conn = self.store.db().conn()?;
        let row: StationRow = with_conn!(&mut conn, |c| scoped!(stations, scope, kept)
            .filter(stations::id.eq(id.0))
            .select(StationRow::as_select())
            .first(c))
        .map_err(not_found)?;
        row.try_into()
    }

    /// The default station of `scope` (the oldest when none is marked).
    pub fn default_station(&self, scope: Scope) -> StoreResult<Station> {
        let mut conn = self.store.db().conn()?;
        let row: StationRow = with_conn!(&mut conn, |c| scoped!(stations, scope, kept)
            .order((stations::is_default.desc(), stations::id.asc()))
            .select(StationRow::as_select())
            .first(c))
        .map_err(not_found)?;
        row.try_into()
    }

    /// Stations of `scope`, newest first, and their total.
    pub fn list(&self, scope: Scope, page: PageRequest) -> StoreResult<(Vec<Station>, i64)> {
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<StationRow>, i64) = with_conn!(&mut conn, |c| {
            page_of!(
                c,
                || scoped!(stations, scope, kept),
                (stations::created_at.desc(), stations::id.desc()),
                page,
                StationRow
            )
        })?;
        converted(rows, total)
    }

    /// Replaces a station's settings.
    pub fn update(
        &self,
        scope: Scope,
        id: StationId,
        settings: &StationSettings,
    ) -> StoreResult<Station> {
        let at = to_db(now());
        let row: StationRow = self.store.transaction(|tx| {
            with_tx!(tx, |c| {
                if settings.is_default {
                    diesel::update(scoped!(stations, scope, kept).filter(stations::id.ne(id.0)))
                        .set(stations::is_default.eq(false))
                        .execute(c)?;
                }
                diesel::update(scoped!(stations, scope, kept).filter(stations::id.eq(id.0)))
                    .set((StationValues::from(settings), stations::updated_at.eq(at)))
                    .returning(StationRow::as_returning())
                    .get_result(c)
            })
            .map_err(StoreError::unique(DUPLICATE))
        })?;
        row.try_into()
    }

    /// Deletes (soft) a station of `scope`.
    pub fn delete(&self, scope: Scope, id: StationId) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        let n = with_conn!(&mut conn, |c| diesel::update(
            scoped!(stations, scope, kept).filter(stations::id.eq(id.0))
        )
        .set(stations::deleted_at.eq(at))
        .execute(c))?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}
