//! The audit log: appended to by the API's audit layer and the console, read per tenant and
//! mode with filters, newest first.

use as2_domain::Mode;
use as2_domain::audit::{Actor, ActorKind, AuditEvent};
use as2_domain::id::{AuditEventId, TenantId};
use as2_domain::pagination::PageRequest;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::repo::{converted, parse_column};
use crate::schema::audit_events;
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::with_conn;

/// The audit log.
#[derive(Debug)]
pub struct AuditLog<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    id: i64,
    tenant_id: i64,
    mode: String,
    actor_kind: String,
    actor_id: String,
    actor_label: String,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    changes: String,
    created_at: chrono::NaiveDateTime,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;
    fn try_from(row: AuditRow) -> StoreResult<Self> {
        Ok(Self {
            id: AuditEventId(row.id),
            tenant_id: TenantId(row.tenant_id),
            mode: parse_column::<Mode>("audit_events", &row.mode)?,
            actor: Actor {
                kind: parse_column::<ActorKind>("audit_events", &row.actor_kind)?,
                id: row.actor_id,
                label: row.actor_label,
            },
            action: row.action,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            ip: row.ip,
            user_agent: row.user_agent,
            changes: row.changes,
            created_at: from_db(row.created_at),
        })
    }
}

/// An entry to append (its tenant and mode come from the scope).
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    /// Who.
    pub actor: &'a Actor,
    /// What (`partner.create`).
    pub action: &'a str,
    /// The kind of resource.
    pub resource_type: &'a str,
    /// Its id.
    pub resource_id: Option<&'a str>,
    /// Client address.
    pub ip: Option<&'a str>,
    /// Client `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// The fields sent, a JSON object already redacted.
    pub changes: &'a str,
}

/// What a list of the audit log is narrowed to; `None` is no filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The actor's printed id (`key_000001`, `usr_000001`).
    pub actor: Option<String>,
    /// The action (`partner.create`).
    pub action: Option<String>,
    /// The resource type (`partner`).
    pub resource_type: Option<String>,
    /// The resource id (`prt_000001`).
    pub resource_id: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

impl AuditLog<'_> {
    /// Appends an entry in `scope`, timed now.
    pub fn record(&self, scope: Scope, event: &NewAuditEvent<'_>) -> StoreResult<AuditEvent> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        let row: AuditRow = with_conn!(&mut conn, |c| diesel::insert_into(audit_events::table)
            .values((
                audit_events::tenant_id.eq(scope.tenant()),
                audit_events::mode.eq(scope.mode()),
                audit_events::actor_kind.eq(event.actor.kind.as_str()),
                audit_events::actor_id.eq(&event.actor.id),
                audit_events::actor_label.eq(&event.actor.label),
                audit_events::action.eq(event.action),
                audit_events::resource_type.eq(event.resource_type),
                audit_events::resource_id.eq(event.resource_id),
                audit_events::ip.eq(event.ip),
                audit_events::user_agent.eq(event.user_agent),
                audit_events::changes.eq(event.changes),
                audit_events::created_at.eq(at),
            ))
            .returning(AuditRow::as_returning())
            .get_result(c))?;
        row.try_into()
    }

    /// The entries of `scope` that pass `filter`, newest first, and their total.
    pub fn list(
        &self,
        scope: Scope,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<AuditEvent>, i64)> {
        let mut conn = self.store.db().conn()?;
        let since = filter.since.map(to_db);
        let until = filter.until.map(to_db);
        let (rows, total): (Vec<AuditRow>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                let mut query = scoped!(audit_events, scope).into_boxed();
                if let Some(actor) = &filter.actor {
                    query = query.filter(audit_events::actor_id.eq(actor));
                }
                if let Some(action) = &filter.action {
                    query = query.filter(audit_events::action.eq(action));
                }
                if let Some(kind) = &filter.resource_type {
                    query = query.filter(audit_events::resource_type.eq(kind));
                }
                if let Some(id) = &filter.resource_id {
                    query = query.filter(audit_events::resource_id.eq(id));
                }
                if let Some(since) = since {
                    query = query.filter(audit_events::created_at.ge(since));
                }
                if let Some(until) = until {
                    query = query.filter(audit_events::created_at.lt(until));
                }
                query
            };
            page_of!(c, base, audit_events::id.desc(), page, AuditRow)
        })?;
        converted(rows, total)
    }
}
