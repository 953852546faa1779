//! A webhook event written by one PostgreSQL statement that also returns the tenant's
//! endpoints (`RETURNING` with a subquery): one round trip where there were two, for every
//! change announced. A query type of its own, prepared once per connection.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::pg_statement::prepared_pg_statement;
use crate::scope::Scope;

const INSERT: &str = "INSERT INTO events (tenant_id, mode, event_type, data, created_at) VALUES (";
/// The endpoints of the event's tenant and mode, as a JSON array of `[id, events, active]`.
const RETURNING: &str = ") RETURNING id, (SELECT COALESCE(json_agg(json_build_array(w.id, \
    w.events, w.active) ORDER BY w.id), '[]'::json)::text FROM webhook_endpoints w \
    WHERE w.tenant_id = events.tenant_id AND w.mode = events.mode AND w.deleted_at IS NULL) \
    AS endpoints";

/// The insert of an event of `scope`.
pub(super) struct InsertEvent<'q> {
    pub(super) tenant_id: i64,
    pub(super) mode: &'static str,
    pub(super) event_type: &'q str,
    pub(super) data: &'q str,
    pub(super) at: NaiveDateTime,
}

impl<'q> InsertEvent<'q> {
    pub(super) fn new(scope: Scope, event_type: &'q str, data: &'q str, at: NaiveDateTime) -> Self {
        Self {
            tenant_id: scope.tenant(),
            mode: scope.mode(),
            event_type,
            data,
            at,
        }
    }
}

/// What the insert returns: the event's id and the endpoints that may want it.
#[derive(diesel::QueryableByName)]
pub(super) struct Inserted {
    #[diesel(sql_type = BigInt)]
    pub(super) id: i64,
    /// A JSON array of `[id, events, active]`.
    #[diesel(sql_type = Text)]
    pub(super) endpoints: String,
}

prepared_pg_statement!(InsertEvent);

impl QueryFragment<Pg> for InsertEvent<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_sql(INSERT);
        out.push_bind_param::<BigInt, _>(&self.tenant_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.mode)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.event_type)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.data)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(RETURNING);
        Ok(())
    }
}
