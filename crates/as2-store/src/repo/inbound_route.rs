//! The route of an inbound AS2 request in one query (issue 18: one round trip instead of
//! five on PostgreSQL): the station of the URL's mode named by `AS2-To`, its partner named
//! by `AS2-From`, the receiving tenant's message size limit, whether that partner sent
//! a message with the request's `Message-ID` before (the duplicate check's first half), and
//! the trust records of both (which certificates the reception accepts and decrypts with).

use as2_domain::Mode;
use as2_domain::partner::Partner;
use as2_domain::station::Station;
use as2_domain::trust::{TrustRecord, TrustSubject};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::repo::partners::PartnerRow;
use crate::repo::stations::{StationRow, Stations};
use crate::repo::trust_record::{RecordRow, record_columns, stored_from};
use crate::schema::{messages, partners, stations, tenants, trust_records};
use crate::with_conn;

/// Where an inbound request goes: our station, the partner that sent it, and the receiving
/// tenant's own message size limit.
#[derive(Debug)]
pub struct InboundRoute {
    /// Our station (`AS2-To`).
    pub station: Station,
    /// Its partner (`AS2-From`).
    pub partner: Partner,
    /// The tenant's largest message in bytes, when it has its own limit.
    pub max_message_bytes: Option<i64>,
    /// Whether a message from this partner with the request's `Message-ID` was received
    /// before (read it with `Messages::find_by_as2_id`): a new message needs no lookup.
    pub received_before: bool,
    /// The station's trust record (seeded from its signing certificate when none is stored).
    pub station_trust: TrustRecord,
    /// The partner's trust record (seeded from its certificate when none is stored).
    pub partner_trust: TrustRecord,
}

/// The join condition of `$alias`, a trust record of `$subject` whose id is `$id`, in the
/// station's scope.
macro_rules! trust_of {
    ($alias:expr, $subject:expr, $id:expr) => {
        $alias.on($alias
            .field(trust_records::subject)
            .eq($subject.as_str())
            .and($alias.field(trust_records::subject_id).eq($id))
            .and(
                $alias
                    .field(trust_records::tenant_id)
                    .eq(stations::tenant_id),
            )
            .and($alias.field(trust_records::mode).eq(stations::mode)))
    };
}

impl Stations<'_> {
    /// The station of `mode` with the AS2 ID `to` (any tenant: the ID is unique per
    /// installation and mode), its partner with the AS2 ID `from`, its tenant's message
    /// limit, whether that partner sent a message with `message_id` before and the trust
    /// records of both, in one query; `None` when either is unknown (or deleted).
    pub fn inbound_route(
        &self,
        mode: Mode,
        to: &str,
        from: &str,
        message_id: Option<&str>,
    ) -> StoreResult<Option<InboundRoute>> {
        let mut conn = self.store.db().conn()?;
        // no Message-ID (which the reception refuses) matches no message: none has ""
        let message_id = message_id.unwrap_or_default();
        let (station_trust, partner_trust) = diesel::alias!(
            trust_records as station_trust,
            trust_records as partner_trust
        );
        type Row = (
            StationRow,
            PartnerRow,
            Option<i64>,
            bool,
            Option<RecordRow>,
            Option<RecordRow>,
        );
        let mut rows: Vec<Row> = with_conn!(&mut conn, |c| stations::table
            .inner_join(
                partners::table.on(partners::station_id
                    .eq(stations::id)
                    .and(partners::tenant_id.eq(stations::tenant_id))
                    .and(partners::mode.eq(stations::mode))),
            )
            .inner_join(tenants::table.on(tenants::id.eq(stations::tenant_id)))
            .left_join(trust_of!(
                station_trust,
                TrustSubject::Station,
                stations::id
            ))
            .left_join(trust_of!(
                partner_trust,
                TrustSubject::Partner,
                partners::id
            ))
            .filter(stations::mode.eq(mode.as_str()))
            .filter(stations::as2_id.eq(to))
            .filter(stations::deleted_at.is_null())
            .filter(partners::as2_id.eq(from))
            .filter(partners::deleted_at.is_null())
            // no LIMIT: see `crate::db` on bound LIMITs (the unique indexes keep it to one)
            .select((
                StationRow::as_select(),
                PartnerRow::as_select(),
                tenants::max_message_bytes,
                // a subquery by the unique key (partner, direction, Message-ID): one index
                // probe (a LEFT JOIN's generic plan on PostgreSQL scanned the messages)
                diesel::dsl::exists(
                    messages::table
                        .filter(messages::partner_id.eq(partners::id))
                        .filter(messages::direction.eq("inbound"))
                        .filter(messages::as2_message_id.eq(message_id)),
                ),
                station_trust.fields(record_columns!()).nullable(),
                partner_trust.fields(record_columns!()).nullable(),
            ))
            .load(c))?;
        if rows.len() > 1 {
            return Err(StoreError::Conflict(format!(
                "several {mode} stations have the AS2 ID {to:?}",
                mode = mode.as_str()
            )));
        }
        let Some((station, partner, max_message_bytes, earlier, station_trust, partner_trust)) =
            rows.pop()
        else {
            return Ok(None);
        };
        let (station, partner): (Station, Partner) = (station.try_into()?, partner.try_into()?);
        Ok(Some(InboundRoute {
            station_trust: stored_from(station_trust, station.settings.certificate_id)?.record,
            partner_trust: stored_from(partner_trust, partner.settings.certificate_id)?.record,
            station,
            partner,
            max_message_bytes,
            received_before: earlier,
        }))
    }
}
