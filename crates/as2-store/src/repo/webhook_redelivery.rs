//! Redelivering a webhook delivery: a NEW delivery of the same event to the same endpoint,
//! linked to the one it repeats (`redelivery_of`), with its own job. The original keeps its
//! status, attempts and answers, so the history says what really happened to each.

use as2_domain::id::{WebhookDeliveryId, WebhookEndpointId};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::jobs::{DeliverWebhook, JobInput, insert_job};
use crate::repo::webhooks::{Delivery, Webhooks};
use crate::schema::{webhook_deliveries, webhook_endpoints};
use crate::scope::Scope;
use crate::time::{now, to_db};
use crate::tx::with_tx;

/// What a redelivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redelivery {
    /// The new delivery, pending, its job queued to run now.
    Queued(Delivery),
    /// The endpoint is paused (`active` false): nothing was queued.
    EndpointInactive,
}

impl Webhooks<'_> {
    /// Queues delivery `id` of endpoint `endpoint` of `scope` again as a new delivery of the
    /// same event. `NotFound` when the endpoint is not in `scope` (or deleted) or the
    /// delivery is not one of that endpoint's; [`Redelivery::EndpointInactive`] when the
    /// endpoint is paused.
    pub fn redeliver(
        &self,
        scope: Scope,
        endpoint: WebhookEndpointId,
        id: WebhookDeliveryId,
    ) -> StoreResult<Redelivery> {
        let now = now();
        let at = to_db(now);
        let input = |delivery: i64| {
            DeliverWebhook {
                delivery_id: delivery,
            }
            .to_json()
        };
        let attempts = DeliverWebhook::RETRY.max_attempts;
        let made = self.store.transaction(|tx| {
            with_tx!(tx, |c| {
                let active: Option<bool> = scoped!(webhook_endpoints, scope, kept)
                    .filter(webhook_endpoints::id.eq(endpoint.0))
                    .select(webhook_endpoints::active)
                    .first(c)
                    .optional()?;
                let event: Option<i64> = webhook_deliveries::table
                    .filter(webhook_deliveries::id.eq(id.0))
                    .filter(webhook_deliveries::endpoint_id.eq(endpoint.0))
                    .filter(webhook_deliveries::tenant_id.eq(scope.tenant()))
                    .filter(webhook_deliveries::mode.eq(scope.mode()))
                    .select(webhook_deliveries::event_id)
                    .first(c)
                    .optional()?;
                let (Some(active), Some(event)) = (active, event) else {
                    return Ok(Err(StoreError::NotFound));
                };
                if !active {
                    return Ok(Ok(None));
                }
                let delivery: i64 = diesel::insert_into(webhook_deliveries::table)
                    .values((
                        webhook_deliveries::endpoint_id.eq(endpoint.0),
                        webhook_deliveries::event_id.eq(event),
                        webhook_deliveries::tenant_id.eq(scope.tenant()),
                        webhook_deliveries::mode.eq(scope.mode()),
                        webhook_deliveries::status.eq("pending"),
                        webhook_deliveries::attempts.eq(0),
                        webhook_deliveries::next_attempt_at.eq(at),
                        webhook_deliveries::created_at.eq(at),
                        webhook_deliveries::updated_at.eq(at),
                        webhook_deliveries::redelivery_of.eq(Some(id.0)),
                    ))
                    .returning(webhook_deliveries::id)
                    .get_result(c)?;
                insert_job!(
                    c,
                    as2_domain::job::JobKind::DeliverWebhook,
                    &input(delivery),
                    now,
                    attempts,
                    now
                )?;
                Ok::<_, diesel::result::Error>(Ok(Some(delivery)))
            })
            .map_err(StoreError::from)
        })??;
        match made {
            Some(delivery) => {
                let (_, delivery) = self.delivery(WebhookDeliveryId(delivery))?;
                Ok(Redelivery::Queued(delivery))
            }
            None => Ok(Redelivery::EndpointInactive),
        }
    }
}
