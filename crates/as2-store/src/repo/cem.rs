//! Certificate Exchange Messaging requests, sent and received, and their answers.

use as2_domain::cem::{CemDirection, CemRequest, CemStatus};
use as2_domain::id::{CemRequestId, CertificateId, MessageId, PartnerId, StationId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::repo::parse_column;
use crate::schema::cem_requests;
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::with_conn;

/// CEM requests of a tenant.
#[derive(Debug)]
pub struct CemRequests<'a> {
    pub(crate) store: &'a Store,
}

/// A request to record.
#[derive(Debug, Clone)]
pub struct NewCemRequest<'a> {
    /// Which way.
    pub direction: CemDirection,
    /// The partner.
    pub partner_id: PartnerId,
    /// Our station.
    pub station_id: StationId,
    /// The XML `requestId`.
    pub request_id: &'a str,
    /// The offered certificate.
    pub certificate_id: CertificateId,
    /// Usages as XML tokens.
    pub usages: &'a [String],
    /// `ds:X509IssuerName` as the request wrote it (a response echoes it exactly).
    pub issuer_name: &'a str,
    /// `ds:X509SerialNumber`, decimal.
    pub serial_decimal: &'a str,
    /// Answer due.
    pub respond_by: DateTime<Utc>,
    /// Where the answer goes.
    pub response_url: &'a str,
    /// The carrying AS2 message.
    pub message_id: Option<MessageId>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = cem_requests)]
struct Row {
    id: i64,
    direction: String,
    partner_id: i64,
    station_id: i64,
    request_id: String,
    certificate_id: i64,
    usages: String,
    issuer_name: String,
    serial_decimal: String,
    respond_by: chrono::NaiveDateTime,
    response_url: String,
    status: String,
    reason: Option<String>,
    message_id: Option<i64>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl TryFrom<Row> for CemRequest {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, Self::Error> {
        Ok(Self {
            id: CemRequestId(r.id),
            direction: parse_column("cem_requests", &r.direction)?,
            partner_id: PartnerId(r.partner_id),
            station_id: StationId(r.station_id),
            request_id: r.request_id,
            certificate_id: CertificateId(r.certificate_id),
            usages: r
                .usages
                .split(',')
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect(),
            issuer_name: r.issuer_name,
            serial_decimal: r.serial_decimal,
            respond_by: from_db(r.respond_by),
            response_url: r.response_url,
            status: parse_column("cem_requests", &r.status)?,
            reason: r.reason,
            message_id: r.message_id.map(MessageId),
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        })
    }
}

impl CemRequests<'_> {
    /// Records a request (pending); a second one with the same partner, direction,
    /// `requestId` and certificate serial is a conflict.
    pub fn create(&self, scope: Scope, new: &NewCemRequest<'_>) -> StoreResult<CemRequest> {
        let at = to_db(now());
        let mut conn = self.store.db().conn()?;
        let row: Row = with_conn!(&mut conn, |c| diesel::insert_into(cem_requests::table)
            .values((
                cem_requests::tenant_id.eq(scope.tenant()),
                cem_requests::mode.eq(scope.mode()),
                cem_requests::direction.eq(new.direction.as_str()),
                cem_requests::partner_id.eq(new.partner_id.0),
                cem_requests::station_id.eq(new.station_id.0),
                cem_requests::request_id.eq(new.request_id),
                cem_requests::certificate_id.eq(new.certificate_id.0),
                cem_requests::usages.eq(new.usages.join(",")),
                cem_requests::issuer_name.eq(new.issuer_name),
                cem_requests::serial_decimal.eq(new.serial_decimal),
                cem_requests::respond_by.eq(to_db(new.respond_by)),
                cem_requests::response_url.eq(new.response_url),
                cem_requests::status.eq(CemStatus::Pending.as_str()),
                cem_requests::message_id.eq(new.message_id.map(|m| m.0)),
                cem_requests::created_at.eq(at),
                cem_requests::updated_at.eq(at),
            ))
            .returning(Row::as_returning())
            .get_result(c))
        .map_err(StoreError::unique(
            "a CEM request with this requestId exists",
        ))?;
        row.try_into()
    }

    /// One request of `scope`.
    pub fn get(&self, scope: Scope, id: CemRequestId) -> StoreResult<CemRequest> {
        let mut conn = self.store.db().conn()?;
        let row: Row = with_conn!(&mut conn, |c| cem_requests::table
            .filter(cem_requests::id.eq(id.0))
            .filter(cem_requests::tenant_id.eq(scope.tenant()))
            .filter(cem_requests::mode.eq(scope.mode()))
            .select(Row::as_select())
            .first(c))?;
        row.try_into()
    }

    /// The request of `partner` with that direction, `requestId` and certificate serial (a
    /// CEM request may offer several certificates: one row each).
    pub fn find(
        &self,
        scope: Scope,
        partner: PartnerId,
        direction: CemDirection,
        request_id: &str,
        serial_decimal: &str,
    ) -> StoreResult<CemRequest> {
        let mut conn = self.store.db().conn()?;
        let row: Row = with_conn!(&mut conn, |c| cem_requests::table
            .filter(cem_requests::tenant_id.eq(scope.tenant()))
            .filter(cem_requests::mode.eq(scope.mode()))
            .filter(cem_requests::partner_id.eq(partner.0))
            .filter(cem_requests::direction.eq(direction.as_str()))
            .filter(cem_requests::request_id.eq(request_id))
            .filter(cem_requests::serial_decimal.eq(serial_decimal))
            .select(Row::as_select())
            .first(c))?;
        row.try_into()
    }

    /// The partner's requests, newest first.
    pub fn list(&self, scope: Scope, partner: PartnerId) -> StoreResult<Vec<CemRequest>> {
        let mut conn = self.store.db().conn()?;
        let rows: Vec<Row> = with_conn!(&mut conn, |c| cem_requests::table
            .filter(cem_requests::tenant_id.eq(scope.tenant()))
            .filter(cem_requests::mode.eq(scope.mode()))
            .filter(cem_requests::partner_id.eq(partner.0))
            .order(cem_requests::id.desc())
            .select(Row::as_select())
            .load(c))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Records the answer of a pending request; `false` when it was answered already.
    pub fn answer(
        &self,
        scope: Scope,
        id: CemRequestId,
        status: CemStatus,
        reason: Option<&str>,
    ) -> StoreResult<bool> {
        let mut conn = self.store.db().conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(
            cem_requests::table
                .filter(cem_requests::id.eq(id.0))
                .filter(cem_requests::tenant_id.eq(scope.tenant()))
                .filter(cem_requests::mode.eq(scope.mode()))
                .filter(cem_requests::status.eq(CemStatus::Pending.as_str()))
        )
        .set((
            cem_requests::status.eq(status.as_str()),
            cem_requests::reason.eq(reason),
            cem_requests::updated_at.eq(to_db(now())),
        ))
        .execute(c))?;
        Ok(n == 1)
    }

    /// Links the request to the AS2 message that carries it; `NotFound` when `scope` (tenant
    /// and mode) has no such request.
    pub fn set_message(
        &self,
        scope: Scope,
        id: CemRequestId,
        message: MessageId,
    ) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(
            cem_requests::table
                .filter(cem_requests::id.eq(id.0))
                .filter(cem_requests::tenant_id.eq(scope.tenant()))
                .filter(cem_requests::mode.eq(scope.mode()))
        )
        .set((
            cem_requests::message_id.eq(message.0),
            cem_requests::updated_at.eq(to_db(now())),
        ))
        .execute(c))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
