//! A new message, its first timeline entry and its MDN written by one PostgreSQL statement (a
//! data-modifying `WITH`): one round trip where there were three, for every message received.
//! A query type of its own rather than `sql_query` so that diesel prepares it once per
//! connection (`sql_query` is parsed and planned by the server at every execution).

use as2_domain::mdn::MdnRecord;
use as2_domain::message::PayloadRef;
use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{BigInt, Binary, Bool, Nullable, Text, Timestamp};

use super::NewMessage;
use crate::pg_statement::prepared_pg_statement;
use crate::scope::Scope;
use crate::time::to_db;

/// The statement, around its bound values: the row (`m`), its first timeline entry (`e`) and,
/// when the last value is true, its MDN (`d`); it returns the row. The foreign keys of `e` and
/// `d` to `m` hold: PostgreSQL checks them at the end of the statement.
const INSERT_MESSAGE: &str = "WITH m AS (INSERT INTO messages (tenant_id, mode, direction, \
    partner_id, station_id, as2_message_id, subject, filename, content_type, bytes, sha256, \
    payload_key, payload_inline, mdn_mode, status, error_type, error_message, mic, \
    destination_url, created_at, updated_at, attempts) VALUES (";
const INSERT_EVENT_AND_MDN: &str = ", 0) RETURNING *), \
    e AS (INSERT INTO message_events (message_id, tenant_id, mode, event_type, status, detail, \
        created_at) SELECT id, tenant_id, mode, status, status, error_message, created_at FROM m), \
    d AS (INSERT INTO mdns (message_id, tenant_id, mode, disposition, positive, mic, mic_matched, \
        signed, verified, original_message_id, raw_key, raw, created_at) \
        SELECT id, tenant_id, mode, ";
const ONLY_IF: &str = " FROM m WHERE ";
const RETURN_ROW: &str = ") SELECT * FROM m";

/// Binds each value, comma-separated (diesel writes `$n` for each).
macro_rules! bind_list {
    ($out:ident, ($ty:ty, $value:expr) $(, ($tys:ty, $values:expr))* $(,)?) => {
        $out.push_bind_param::<$ty, _>($value)?;
        $(
            $out.push_sql(", ");
            $out.push_bind_param::<$tys, _>($values)?;
        )*
    };
}

/// The insert of a new message with its first timeline entry and, if given, its MDN (whose
/// `message_id` is ignored: the new row's is used). Holds every bound value, as diesel binds
/// by reference.
pub(super) struct InsertWithMdn<'q> {
    tenant_id: i64,
    mode: &'static str,
    message: &'q NewMessage<'q>,
    direction: &'static str,
    payload_key: Option<&'q str>,
    payload_inline: Option<&'q [u8]>,
    mdn_mode: &'static str,
    status: &'static str,
    error_kind: Option<&'static str>,
    error_sentence: Option<&'q str>,
    at: NaiveDateTime,
    mdn: MdnBinds<'q>,
}

/// The MDN's values (placeholders when there is none: `present` false inserts nothing).
struct MdnBinds<'q> {
    disposition: &'q str,
    positive: bool,
    mic: Option<&'q str>,
    mic_matched: Option<bool>,
    signed: bool,
    verified: bool,
    original_message_id: Option<&'q str>,
    raw_key: Option<&'q str>,
    raw: Option<&'q [u8]>,
    present: bool,
    at: NaiveDateTime,
}

impl<'q> InsertWithMdn<'q> {
    pub(super) fn new(
        scope: Scope,
        message: &'q NewMessage<'q>,
        at: NaiveDateTime,
        mdn: Option<(&'q MdnRecord, Option<&'q [u8]>)>,
    ) -> Self {
        let mdn = match mdn {
            Some((d, raw)) => MdnBinds {
                disposition: &d.disposition,
                positive: d.positive,
                mic: d.mic.as_deref(),
                mic_matched: d.mic_matched,
                signed: d.signed,
                verified: d.verified,
                original_message_id: d.original_message_id.as_deref(),
                raw_key: d.raw_key.as_deref(),
                raw,
                present: true,
                at: to_db(d.created_at),
            },
            None => MdnBinds {
                disposition: "",
                positive: false,
                mic: None,
                mic_matched: None,
                signed: false,
                verified: false,
                original_message_id: None,
                raw_key: None,
                raw: None,
                present: false,
                at,
            },
        };
        Self {
            tenant_id: scope.tenant(),
            mode: scope.mode(),
            message,
            direction: message.direction.as_str(),
            payload_key: message.payload.and_then(PayloadRef::object_key),
            payload_inline: message.payload.and_then(PayloadRef::inline_bytes),
            mdn_mode: message.mdn_mode.as_str(),
            status: message.status.as_str(),
            error_kind: message.error.map(|e| e.kind.as_str()),
            error_sentence: message.error.map(|e| e.sentence.as_str()),
            at,
            mdn,
        }
    }
}

prepared_pg_statement!(InsertWithMdn);

impl QueryFragment<Pg> for InsertWithMdn<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        let (m, d) = (self.message, &self.mdn);
        out.push_sql(INSERT_MESSAGE);
        bind_list!(
            out,
            (BigInt, &self.tenant_id),
            (Text, self.mode),
            (Text, self.direction),
            (BigInt, &m.partner_id.0),
            (BigInt, &m.station_id.0),
            (Text, m.as2_message_id),
            (Nullable<Text>, &m.subject),
            (Nullable<Text>, &m.filename),
            (Text, m.content_type),
            (BigInt, &m.bytes),
            (Text, m.sha256),
            (Nullable<Text>, &self.payload_key),
            (Nullable<Binary>, &self.payload_inline),
            (Text, self.mdn_mode),
            (Text, self.status),
            (Nullable<Text>, &self.error_kind),
            (Nullable<Text>, &self.error_sentence),
            (Nullable<Text>, &m.mic),
            (Nullable<Text>, &m.destination_url),
            (Timestamp, &self.at),
            (Timestamp, &self.at),
        );
        out.push_sql(INSERT_EVENT_AND_MDN);
        bind_list!(
            out,
            (Text, d.disposition),
            (Bool, &d.positive),
            (Nullable<Text>, &d.mic),
            (Nullable<Bool>, &d.mic_matched),
            (Bool, &d.signed),
            (Bool, &d.verified),
            (Nullable<Text>, &d.original_message_id),
            (Nullable<Text>, &d.raw_key),
            (Nullable<Binary>, &d.raw),
            (Timestamp, &d.at),
        );
        out.push_sql(ONLY_IF);
        out.push_bind_param::<Bool, _>(&d.present)?;
        out.push_sql(RETURN_ROW);
        Ok(())
    }
}
