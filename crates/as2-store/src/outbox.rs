//! The outbox: a webhook event is written in the transaction of the change it reports, with
//! a delivery and its job for every endpoint that subscribes (and a `send_alert` job when
//! the event is one the tenant's alert recipients are emailed), so a committed change always
//! has its event and a rolled-back one never does.

use as2_domain::id::{EventId, WebhookEndpointId};
use as2_domain::job::JobKind;
use as2_domain::message::Message;
use as2_domain::webhook::{EventType, WebhookSettings};
use diesel::prelude::*;

use crate::error::StoreResult;
use crate::jobs::{DeliverWebhook, JobInput, SendAlert, insert_job};
use crate::schema::{events, tenants, webhook_deliveries, webhook_endpoints};
use crate::scope::Scope;
use crate::time::{now, to_db};
use crate::tx::{Tx, with_tx};

mod insert_event_pg;

/// The webhook event a change of a message announces: its type, and fields added to the
/// message's own (`id`, `message_id`, `direction`, `partner_id`, `status`, `bytes`, `error`).
#[derive(Debug, Clone, PartialEq)]
pub struct Announce {
    /// The event.
    pub event: EventType,
    /// More fields of its data (a JSON object; anything else adds nothing).
    pub extra: serde_json::Value,
}

impl Announce {
    /// `event` with the message's fields only.
    pub fn new(event: EventType) -> Self {
        Self {
            event,
            extra: serde_json::json!({}),
        }
    }

    /// `event` with `extra` fields besides the message's.
    pub fn with(event: EventType, extra: serde_json::Value) -> Self {
        Self { event, extra }
    }

    /// The event's data about `message` (as it is after the change).
    pub fn data(&self, message: &Message) -> serde_json::Value {
        let mut data = serde_json::json!({
            "id": message.id.to_string(),
            "message_id": message.as2_message_id,
            "direction": message.direction.as_str(),
            "partner_id": message.partner_id.to_string(),
            "status": message.status.as_str(),
            "bytes": message.bytes,
        });
        if let Some(original) = message.resent_from {
            data["resent_from"] = serde_json::Value::String(original.to_string());
        }
        if let Some(error) = &message.error {
            data["error"] =
                serde_json::json!({ "type": error.kind.as_str(), "message": error.sentence });
        }
        if let (Some(map), serde_json::Value::Object(more)) = (data.as_object_mut(), &self.extra) {
            map.extend(more.clone());
        }
        data
    }
}

/// The webhooks side of a transaction: [`Tx::webhooks`].
#[derive(Debug)]
pub struct WebhooksTx<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl<'c> Tx<'c> {
    /// Webhook events written in this transaction.
    pub fn webhooks(&mut self) -> WebhooksTx<'_, 'c> {
        WebhooksTx { tx: self }
    }
}

impl WebhooksTx<'_, '_> {
    /// Records `event` with `data` and a delivery and its job for each subscribed active
    /// endpoint of `scope` (or only `only` when given, for the test endpoint).
    pub fn publish(
        &mut self,
        scope: Scope,
        event: EventType,
        data: &str,
        only: Option<WebhookEndpointId>,
    ) -> StoreResult<EventId> {
        let now = now();
        let at = to_db(now);
        let input = |delivery: i64| {
            DeliverWebhook {
                delivery_id: delivery,
            }
            .to_json()
        };
        let attempts = DeliverWebhook::RETRY.max_attempts;
        let (event_id, endpoints) = insert_event(&mut *self.tx, scope, event, data, at)?;
        let targets = endpoints.into_iter().filter_map(|(id, patterns, active)| {
            let wanted = match only {
                Some(only) => only.0 == id,
                None => WebhookSettings {
                    url: String::new(),
                    description: None,
                    events: patterns
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    active,
                }
                .subscribes_to(event),
            };
            wanted.then_some(id)
        });
        with_tx!(&mut *self.tx, |c| {
            if as2_domain::alerts::emailed(event) {
                let recipients: Option<Option<String>> = tenants::table
                    .filter(tenants::id.eq(scope.tenant()))
                    .select(tenants::alert_emails)
                    .first(c)
                    .optional()?;
                if recipients.flatten().is_some_and(|r| !r.is_empty()) {
                    let alert = SendAlert {
                        event_id,
                        tenant_id: scope.tenant(),
                        mode: scope.mode().to_owned(),
                    };
                    insert_job!(
                        c,
                        JobKind::SendAlert,
                        &alert.to_json(),
                        now,
                        SendAlert::RETRY.max_attempts,
                        now
                    )?;
                }
            }
            for endpoint in targets {
                let delivery: i64 = diesel::insert_into(webhook_deliveries::table)
                    .values((
                        webhook_deliveries::endpoint_id.eq(endpoint),
                        webhook_deliveries::event_id.eq(event_id),
                        webhook_deliveries::tenant_id.eq(scope.tenant()),
                        webhook_deliveries::mode.eq(scope.mode()),
                        webhook_deliveries::status.eq("pending"),
                        webhook_deliveries::attempts.eq(0),
                        webhook_deliveries::next_attempt_at.eq(at),
                        webhook_deliveries::created_at.eq(at),
                        webhook_deliveries::updated_at.eq(at),
                    ))
                    .returning(webhook_deliveries::id)
                    .get_result(c)?;
                insert_job!(
                    c,
                    JobKind::DeliverWebhook,
                    &input(delivery),
                    now,
                    attempts,
                    now
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(EventId(event_id))
    }

    /// Publishes what `announce` says about `message`.
    pub fn announce(
        &mut self,
        scope: Scope,
        message: &Message,
        announce: &Announce,
    ) -> StoreResult<EventId> {
        let data = announce.data(message).to_string();
        self.publish(scope, announce.event, &data, None)
    }
}

/// An endpoint of the tenant: its id, the events it subscribes to (comma-separated patterns)
/// and whether it is active.
type Endpoint = (i64, String, bool);

/// Writes the event and reads the endpoints of `scope` that may want it: on PostgreSQL in one
/// statement ([`insert_event_pg`]), on SQLite in two (no round trips there).
fn insert_event(
    tx: &mut Tx<'_>,
    scope: Scope,
    event: EventType,
    data: &str,
    at: chrono::NaiveDateTime,
) -> StoreResult<(i64, Vec<Endpoint>)> {
    match tx {
        Tx::Postgres(c) => {
            let inserted: insert_event_pg::Inserted =
                insert_event_pg::InsertEvent::new(scope, event.as_str(), data, at)
                    .get_result(&mut **c)?;
            let endpoints = serde_json::from_str(&inserted.endpoints)
                .map_err(|e| crate::error::StoreError::corrupt("webhook_endpoints", e))?;
            Ok((inserted.id, endpoints))
        }
        Tx::Sqlite(c) => {
            let endpoints: Vec<Endpoint> = webhook_endpoints::table
                .filter(webhook_endpoints::tenant_id.eq(scope.tenant()))
                .filter(webhook_endpoints::mode.eq(scope.mode()))
                .filter(webhook_endpoints::deleted_at.is_null())
                .select((
                    webhook_endpoints::id,
                    webhook_endpoints::events,
                    webhook_endpoints::active,
                ))
                .order(webhook_endpoints::id)
                .load(&mut **c)?;
            let id: i64 = diesel::insert_into(events::table)
                .values((
                    events::tenant_id.eq(scope.tenant()),
                    events::mode.eq(scope.mode()),
                    events::event_type.eq(event.as_str()),
                    events::data.eq(data),
                    events::created_at.eq(at),
                ))
                .returning(events::id)
                .get_result(&mut **c)?;
            Ok((id, endpoints))
        }
    }
}
