//! Deleting a certificate only when nothing live still uses it (a partner or station left
//! pointing at a deleted certificate could no longer send or receive), the check and the
//! soft delete in one transaction; and what a deleted one was, for a page that says what was
//! deleted. Stations: `station_deletion`.

use as2_domain::id::{CemRequestId, CertificateId, PartnerId, StationId};
use as2_domain::trust::TrustSubject;
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::repo::certificates::Certificates;
use crate::repo::parse_column;
use crate::schema::{cem_requests, certificates, partners, stations, trust_records};
use crate::scope::Scope;
use crate::time::{now, to_db};
use crate::tx::{Tx, with_tx};
use crate::with_conn;

/// Something live that still uses a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateUse {
    /// A station's column: `certificate_id` or `encryption_certificate_id`.
    Station {
        /// The station.
        id: StationId,
        /// The column.
        field: &'static str,
    },
    /// A partner's column: `certificate_id`, `encryption_certificate_id`,
    /// `tls_client_certificate_id` or `tls_inbound_client_certificate_id`.
    Partner {
        /// The partner.
        id: PartnerId,
        /// The column.
        field: &'static str,
    },
    /// The trust record of a live partner or station holds it as its `current`, `next`
    /// (a rollover scheduled) or `previous` (still accepted until retired) certificate.
    Trust {
        /// Whose record.
        subject: TrustSubject,
        /// The partner's or station's id.
        id: i64,
        /// `current`, `next` or `previous`.
        slot: &'static str,
    },
    /// A pending certificate exchange request with a live partner offers it.
    Exchange {
        /// The request.
        id: CemRequestId,
        /// The partner on the other side.
        partner: PartnerId,
    },
}

/// What a delete did: done, or nothing because of what still uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Deletion<U> {
    /// Deleted (soft).
    Deleted,
    /// Not deleted: these still use it.
    InUse(Vec<U>),
}

/// The partners' certificate columns, in the order they are reported.
const PARTNER_COLUMNS: [&str; 4] = [
    "certificate_id",
    "encryption_certificate_id",
    "tls_client_certificate_id",
    "tls_inbound_client_certificate_id",
];

/// Of the partners `ids` of `scope`, those not deleted.
fn live_partners(tx: &mut Tx<'_>, scope: Scope, ids: &[i64]) -> StoreResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(with_tx!(tx, |c| scoped!(partners, scope, kept)
        .filter(partners::id.eq_any(ids))
        .select(partners::id)
        .load(c))?)
}

/// What uses certificate `id` of `scope`, read in `tx`.
fn certificate_uses(
    tx: &mut Tx<'_>,
    scope: Scope,
    id: CertificateId,
) -> StoreResult<Vec<CertificateUse>> {
    let id = id.0;
    let mut uses = Vec::new();
    let station_rows: Vec<(i64, Option<i64>, Option<i64>)> =
        with_tx!(&mut *tx, |c| scoped!(stations, scope, kept)
            .filter(
                stations::certificate_id
                    .eq(id)
                    .or(stations::encryption_certificate_id.eq(id)),
            )
            .select((
                stations::id,
                stations::certificate_id,
                stations::encryption_certificate_id,
            ))
            .order(stations::id.asc())
            .load(c))?;
    for (station, signing, decrypting) in station_rows {
        for (field, value) in [
            ("certificate_id", signing),
            ("encryption_certificate_id", decrypting),
        ] {
            if value == Some(id) {
                uses.push(CertificateUse::Station {
                    id: StationId(station),
                    field,
                });
            }
        }
    }
    type PartnerRow = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let partner_rows: Vec<PartnerRow> = with_tx!(&mut *tx, |c| scoped!(partners, scope, kept)
        .filter(
            partners::certificate_id
                .eq(id)
                .or(partners::encryption_certificate_id.eq(id))
                .or(partners::tls_client_certificate_id.eq(id))
                .or(partners::tls_inbound_client_certificate_id.eq(id)),
        )
        .select((
            partners::id,
            partners::certificate_id,
            partners::encryption_certificate_id,
            partners::tls_client_certificate_id,
            partners::tls_inbound_client_certificate_id,
        ))
        .order(partners::id.asc())
        .load(c))?;
    for (partner, a, b, c, d) in partner_rows {
        for (field, value) in PARTNER_COLUMNS.into_iter().zip([a, b, c, d]) {
            if value == Some(id) {
                uses.push(CertificateUse::Partner {
                    id: PartnerId(partner),
                    field,
                });
            }
        }
    }
    uses.extend(trust_uses(tx, scope, id)?);
    uses.extend(exchange_uses(tx, scope, id)?);
    Ok(uses)
}

/// The trust records of live partners and stations of `scope` that hold certificate `id`.
fn trust_uses(tx: &mut Tx<'_>, scope: Scope, id: i64) -> StoreResult<Vec<CertificateUse>> {
    type RecordRow = (String, i64, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<RecordRow> = with_tx!(&mut *tx, |c| trust_records::table
        .filter(trust_records::tenant_id.eq(scope.tenant()))
        .filter(trust_records::mode.eq(scope.mode()))
        .filter(
            trust_records::current_certificate_id
                .eq(id)
                .or(trust_records::next_certificate_id.eq(id))
                .or(trust_records::previous_certificate_id.eq(id)),
        )
        .select((
            trust_records::subject,
            trust_records::subject_id,
            trust_records::current_certificate_id,
            trust_records::next_certificate_id,
            trust_records::previous_certificate_id,
        ))
        .order(trust_records::id.asc())
        .load(c))?;
    let mut records = Vec::with_capacity(rows.len());
    for (subject, subject_id, current, next, previous) in rows {
        let subject = parse_column::<TrustSubject>("trust_records", &subject)?;
        records.push((subject, subject_id, [current, next, previous]));
    }
    let station_ids: Vec<i64> = records
        .iter()
        .filter(|(s, ..)| *s == TrustSubject::Station)
        .map(|(_, i, _)| *i)
        .collect();
    let partner_ids: Vec<i64> = records
        .iter()
        .filter(|(s, ..)| *s != TrustSubject::Station)
        .map(|(_, i, _)| *i)
        .collect();
    let live_stations: Vec<i64> = if station_ids.is_empty() {
        Vec::new()
    } else {
        with_tx!(&mut *tx, |c| scoped!(stations, scope, kept)
            .filter(stations::id.eq_any(&station_ids))
            .select(stations::id)
            .load(c))?
    };
    let live_partners = live_partners(tx, scope, &partner_ids)?;
    let mut uses = Vec::new();
    for (subject, subject_id, slots) in records {
        let live = if subject == TrustSubject::Station {
            live_stations.contains(&subject_id)
        } else {
            live_partners.contains(&subject_id)
        };
        if !live {
            continue;
        }
        for (slot, value) in ["current", "next", "previous"].into_iter().zip(slots) {
            if value == Some(id) {
                uses.push(CertificateUse::Trust {
                    subject,
                    id: subject_id,
                    slot,
                });
            }
        }
    }
    Ok(uses)
}

/// The pending certificate exchange requests with live partners of `scope` offering `id`.
fn exchange_uses(tx: &mut Tx<'_>, scope: Scope, id: i64) -> StoreResult<Vec<CertificateUse>> {
    let rows: Vec<(i64, i64)> = with_tx!(&mut *tx, |c| cem_requests::table
        .filter(cem_requests::tenant_id.eq(scope.tenant()))
        .filter(cem_requests::mode.eq(scope.mode()))
        .filter(cem_requests::certificate_id.eq(id))
        .filter(cem_requests::status.eq("pending"))
        .select((cem_requests::id, cem_requests::partner_id))
        .order(cem_requests::id.asc())
        .load(c))?;
    let partner_ids: Vec<i64> = rows.iter().map(|(_, p)| *p).collect();
    let live = live_partners(tx, scope, &partner_ids)?;
    Ok(rows
        .into_iter()
        .filter(|(_, partner)| live.contains(partner))
        .map(|(request, partner)| CertificateUse::Exchange {
            id: CemRequestId(request),
            partner: PartnerId(partner),
        })
        .collect())
}

impl Certificates<'_> {
    /// What still uses certificate `id` of `scope` (empty: nothing). `NotFound` when it is
    /// not stored in `scope` (or deleted).
    pub fn uses(&self, scope: Scope, id: CertificateId) -> StoreResult<Vec<CertificateUse>> {
        self.store.transaction(|tx| {
            self.exists(tx, scope, id)?;
            certificate_uses(tx, scope, id)
        })
    }

    /// Deletes (soft) certificate `id` of `scope` when nothing live uses it (checked and
    /// deleted in one transaction); else deletes nothing and says what uses it. `NotFound`
    /// when it is not stored in `scope` (or deleted already).
    pub fn delete_unused(
        &self,
        scope: Scope,
        id: CertificateId,
    ) -> StoreResult<Deletion<CertificateUse>> {
        self.store.transaction(|tx| {
            self.exists(tx, scope, id)?;
            let uses = certificate_uses(tx, scope, id)?;
            if !uses.is_empty() {
                return Ok(Deletion::InUse(uses));
            }
            let at = to_db(now());
            with_tx!(&mut *tx, |c| diesel::update(
                scoped!(certificates, scope, kept).filter(certificates::id.eq(id.0))
            )
            .set(certificates::deleted_at.eq(at))
            .execute(c))?;
            Ok(Deletion::Deleted)
        })
    }

    fn exists(&self, tx: &mut Tx<'_>, scope: Scope, id: CertificateId) -> StoreResult<()> {
        let found: Option<i64> = with_tx!(&mut *tx, |c| scoped!(certificates, scope, kept)
            .filter(certificates::id.eq(id.0))
            .select(certificates::id)
            .first(c)
            .optional())?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }

    /// The name of certificate `id` of `scope` when it was deleted (`None` when it is not
    /// stored in `scope`, or not deleted).
    pub fn deleted_name(&self, scope: Scope, id: CertificateId) -> StoreResult<Option<String>> {
        let mut conn = self.store.db().conn()?;
        Ok(with_conn!(&mut conn, |c| scoped!(certificates, scope)
            .filter(certificates::id.eq(id.0))
            .filter(certificates::deleted_at.is_not_null())
            .select(certificates::name)
            .first(c)
            .optional())?)
    }
}
