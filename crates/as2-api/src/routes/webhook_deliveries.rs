//! `/v1/webhook-endpoints/{id}/deliveries`, `/test` and `/deliveries/{delivery_id}/redeliver`:
//! what was delivered to an endpoint, a test event for it alone, and a delivery queued again.
//! A redelivery is a NEW delivery of the same event (same `evt_…`, body and data), linked to
//! the one it repeats by `redelivery_of`; the original keeps its attempts and answers. The
//! console's buttons call [`send_test_event`] and [`redeliver`], the same functions.

use as2_domain::ValidationErrors;
use as2_domain::id::{EventId, WebhookDeliveryId, WebhookEndpointId};
use as2_domain::webhook::EventType;
use as2_store::Scope;
use as2_store::repo::webhook_redelivery::Redelivery;
use as2_store::repo::webhooks::Delivery;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::envelope::{Envelope, ListEnvelope};
use crate::error::{ApiError, ErrorKind};
use crate::params::{QueryMap, meta, only, page, path_id};
use crate::state::AppState;
use crate::time::format;

/// The answer's sentence when a test event was queued.
pub const TEST_QUEUED: &str = "Test event queued for delivery";
/// The answer's sentence when a delivery was queued again.
pub const REDELIVERY_QUEUED: &str = "Webhook delivery queued again";

/// One delivery of an event to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    /// `whd_…`.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event (`evt_…`).
    pub event_id: String,
    /// The event's type.
    pub event: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// HTTP status of the last attempt.
    pub response_status: Option<i32>,
    /// Error of the last attempt.
    pub error: Option<String>,
    /// When the next attempt is due.
    pub next_attempt_at: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// The delivery this one repeats (`whd_…`), when it is a redelivery.
    pub redelivery_of: Option<String>,
}

impl From<Delivery> for DeliveryDto {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.to_string(),
            endpoint_id: d.endpoint_id.to_string(),
            event_id: d.event_id.to_string(),
            event: d.event_type,
            status: d.status,
            attempts: d.attempts,
            response_status: d.response_status,
            error: d.error,
            next_attempt_at: d.next_attempt_at.map(format),
            created_at: format(d.created_at),
            redelivery_of: d.redelivery_of.map(|id| id.to_string()),
        }
    }
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(test_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver_delivery))
}

/// The 409 of a paused endpoint, which gets nothing.
fn inactive() -> ApiError {
    ApiError::conflict(
        ErrorKind::Conflict,
        "webhook_endpoint_inactive",
        "This webhook endpoint is paused (active: false) and gets no delivery: turn it on again first",
    )
}

/// Queues a `webhook.test` event for endpoint `id` of `scope` alone; the one path of `POST
/// /v1/webhook-endpoints/{id}/test` and the console. A paused endpoint is 409 (the worker
/// sends nothing to it). Blocking: run it in [`AppState::blocking`].
pub fn send_test_event(
    s: &AppState,
    scope: Scope,
    id: WebhookEndpointId,
) -> Result<EventId, ApiError> {
    let endpoint = s
        .store()
        .webhooks()
        .get(scope, id)
        .map_err(|e| ApiError::from(e).or_not_found("Webhook endpoint"))?;
    if !endpoint.settings.active {
        return Err(inactive());
    }
    let data = serde_json::json!({
        "endpoint_id": id.to_string(),
        "message": "This is a test event from the AS2 platform",
    })
    .to_string();
    Ok(s.store()
        .webhooks()
        .publish(scope, EventType::WebhookTest, &data, Some(id))?)
}

/// Queues delivery `delivery` of endpoint `endpoint` of `scope` again, as a new delivery of
/// the same event linked to it; the one path of `POST
/// /v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver` and the console. 404 for
/// an endpoint not in `scope` or a delivery not of that endpoint, 409 for a paused endpoint.
/// Blocking: run it in [`AppState::blocking`].
pub fn redeliver(
    s: &AppState,
    scope: Scope,
    endpoint: WebhookEndpointId,
    delivery: WebhookDeliveryId,
) -> Result<Delivery, ApiError> {
    match s.store().webhooks().redeliver(scope, endpoint, delivery) {
        Ok(Redelivery::Queued(made)) => Ok(made),
        Ok(Redelivery::EndpointInactive) => Err(inactive()),
        Err(as2_store::StoreError::NotFound) => Err(ApiError::not_found("Webhook delivery")),
        Err(other) => Err(other.into()),
    }
}

/// Sends a `webhook.test` event to this endpoint only.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/test", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, description = "Test event queued", body = Object), (status = 404, description = "Not found", body = Object),
        (status = 409, description = "The endpoint is paused", body = Object)))]
async fn test_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<serde_json::Value>, ApiError> {
    let id: WebhookEndpointId = path_id(&id, "Webhook endpoint")?;
    let event = state
        .blocking("Webhook endpoint", move |s| {
            send_test_event(s, caller.scope(), id)
        })
        .await?;
    Ok(Envelope::accepted(
        TEST_QUEUED,
        serde_json::json!({
            "event_id": event.to_string(),
            "endpoint_id": id.to_string(),
            "event": EventType::WebhookTest.as_str(),
        }),
    ))
}

/// Queues a delivery again: a new delivery of the same event to the same endpoint, linked to
/// the original by `redelivery_of` (the original's attempts stay as they were).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    params(("id" = String, Path, description = "wh_…"), ("delivery_id" = String, Path, description = "whd_…")),
    responses((status = 202, description = "The new delivery, queued (`data`, with `redelivery_of`)", body = Object),
        (status = 404, description = "No such endpoint, or no such delivery of it", body = Object),
        (status = 409, description = "The endpoint is paused", body = Object)))]
async fn redeliver_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Envelope<DeliveryDto>, ApiError> {
    let id: WebhookEndpointId = path_id(&id, "Webhook endpoint")?;
    let delivery: WebhookDeliveryId = path_id(&delivery, "Webhook delivery")?;
    let made = state
        .blocking("Webhook delivery", move |s| {
            redeliver(s, caller.scope(), id, delivery)
        })
        .await?;
    Ok(Envelope::accepted(REDELIVERY_QUEUED, made.into()))
}

/// Deliveries to an endpoint, newest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of deliveries", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<DeliveryDto>, ApiError> {
    let id: WebhookEndpointId = path_id(&id, "Webhook endpoint")?;
    let mut errors = ValidationErrors::new();
    only(&query, &["page", "per_page"], &mut errors);
    let page = page(&query, &mut errors);
    errors.into_result(())?;
    let (deliveries, total) = state
        .blocking("Webhook endpoint", move |s| {
            Ok(s.store().webhooks().deliveries(caller.scope(), id, page)?)
        })
        .await?;
    let shown = deliveries.len();
    Ok(ListEnvelope::new(
        "Webhook deliveries retrieved successfully",
        deliveries.into_iter().map(Into::into).collect(),
        meta(page, total, shown),
    ))
}
