//! The webhook deliveries of a tenant that went wrong lately (failed for good, or failing and
//! retried), newest first, for the console's overview.

use as2_domain::id::WebhookEndpointId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::StoreResult;
use crate::repo::webhooks::Webhooks;
use crate::schema::{events, webhook_deliveries, webhook_endpoints};
use crate::scope::Scope;
use crate::time::{from_db, to_db};
use crate::with_conn;

/// A delivery that failed, or failed and waits for its next attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// The endpoint.
    pub endpoint_id: WebhookEndpointId,
    /// Its URL.
    pub url: String,
    /// The event's type.
    pub event_type: String,
    /// `failed` (for good) or `pending` (another attempt is due).
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The endpoint's last answer.
    pub response_status: Option<i32>,
    /// What went wrong.
    pub error: Option<String>,
    /// When the delivery last changed.
    pub updated_at: DateTime<Utc>,
}

type Row = (
    i64,
    String,
    String,
    String,
    i32,
    Option<i32>,
    Option<String>,
    chrono::NaiveDateTime,
);

impl Webhooks<'_> {
    /// The deliveries of `scope` that failed since `since` (failed for good, or pending after a
    /// failed attempt), newest first, at most `limit`, and how many there are.
    pub fn failures_since(
        &self,
        scope: Scope,
        since: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<(Vec<DeliveryFailure>, i64)> {
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<Row>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                webhook_deliveries::table
                    .filter(webhook_deliveries::tenant_id.eq(scope.tenant()))
                    .filter(webhook_deliveries::mode.eq(scope.mode()))
                    .filter(webhook_deliveries::updated_at.ge(to_db(since)))
                    .filter(
                        webhook_deliveries::status
                            .eq("failed")
                            .or(webhook_deliveries::status
                                .eq("pending")
                                .and(webhook_deliveries::error.is_not_null())),
                    )
            };
            let total = base().count().get_result(c)?;
            let rows = base()
                .inner_join(events::table)
                .inner_join(webhook_endpoints::table)
                .order(webhook_deliveries::updated_at.desc())
                .limit(limit)
                .select((
                    webhook_deliveries::endpoint_id,
                    webhook_endpoints::url,
                    events::event_type,
                    webhook_deliveries::status,
                    webhook_deliveries::attempts,
                    webhook_deliveries::response_status,
                    webhook_deliveries::error,
                    webhook_deliveries::updated_at,
                ))
                .load::<Row>(c)?;
            Ok::<_, diesel::result::Error>((rows, total))
        })?;
        let failures = rows
            .into_iter()
            .map(
                |(endpoint, url, event_type, status, attempts, response_status, error, at)| {
                    DeliveryFailure {
                        endpoint_id: WebhookEndpointId(endpoint),
                        url,
                        event_type,
                        status,
                        attempts,
                        response_status,
                        error,
                        updated_at: from_db(at),
                    }
                },
            )
            .collect();
        Ok((failures, total))
    }
}
