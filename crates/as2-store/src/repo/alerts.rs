//! What an email alert says and to whom: the event the outbox recorded, its tenant's name and
//! the tenant's alert recipients as they are now.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::StoreResult;
use crate::schema::{events, tenants};
use crate::scope::Scope;
use crate::store::Store;
use crate::time::from_db;
use crate::with_conn;

/// Alerts read for the `send_alert` job.
#[derive(Debug)]
pub struct Alerts<'a> {
    pub(crate) store: &'a Store,
}

/// One event to email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertToSend {
    /// `message.failed`, `certificate.expiring`, …
    pub event_type: String,
    /// The event's data as webhooks get it (JSON).
    pub data: String,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// The tenant's display name.
    pub tenant_name: String,
    /// Where it goes (never empty).
    pub recipients: Vec<String>,
}

impl Alerts<'_> {
    /// Event `event_id` of `scope` with its tenant's recipients; `None` when the event is gone
    /// or the tenant has no recipients any more (nothing to send).
    pub fn to_send(&self, scope: Scope, event_id: i64) -> StoreResult<Option<AlertToSend>> {
        let mut conn = self.store.db().conn()?;
        let row: Option<(
            String,
            String,
            chrono::NaiveDateTime,
            String,
            Option<String>,
        )> = with_conn!(&mut conn, |c| events::table
            .inner_join(tenants::table.on(tenants::id.eq(events::tenant_id)))
            .filter(events::id.eq(event_id))
            .filter(events::tenant_id.eq(scope.tenant()))
            .filter(events::mode.eq(scope.mode()))
            .filter(tenants::deleted_at.is_null())
            .select((
                events::event_type,
                events::data,
                events::created_at,
                tenants::name,
                tenants::alert_emails,
            ))
            .first(c)
            .optional())?;
        Ok(
            row.and_then(|(event_type, data, created_at, tenant_name, emails)| {
                let recipients: Vec<String> = emails
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
                (!recipients.is_empty()).then(|| AlertToSend {
                    event_type,
                    data,
                    created_at: from_db(created_at),
                    tenant_name,
                    recipients,
                })
            }),
        )
    }
}
