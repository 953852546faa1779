//! `/v1/webhook-endpoints`: where platform events are posted (their deliveries, the test
//! event and redeliveries in `webhook_deliveries`). The signing secret (`whsec_…`) is
//! answered once, at creation.

use as2_domain::ValidationErrors;
use as2_domain::id::WebhookEndpointId;
use as2_domain::webhook::{WebhookEndpoint, WebhookSettings, generate_secret};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::envelope::{Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::params::{QueryMap, meta, only, page, path_id};
use crate::state::AppState;
use crate::time::format;

/// A webhook endpoint on the wire (`secret` only in the creation answer).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointDto {
    /// `wh_…`.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
    /// Subscribed events (`*` and `prefix.*` allowed).
    pub events: Vec<String>,
    /// Paused endpoints get nothing.
    pub active: bool,
    /// The signing secret, shown once at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<WebhookEndpoint> for WebhookEndpointDto {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id.to_string(),
            url: e.settings.url,
            description: e.settings.description,
            events: e.settings.events,
            active: e.settings.active,
            secret: None,
            created_at: format(e.created_at),
            updated_at: format(e.updated_at),
        }
    }
}

fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Body of create (`url` and `events` required) and update (any subset).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where events are posted (HTTPS in live mode).
    pub url: Option<String>,
    /// Free text (null clears it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Subscribed events.
    pub events: Option<Vec<String>>,
    /// Whether deliveries are made (default true).
    pub active: Option<bool>,
}

impl WebhookInput {
    fn apply(self, mut settings: WebhookSettings) -> WebhookSettings {
        if let Some(url) = self.url {
            settings.url = url.trim().to_owned();
        }
        if let Some(description) = self.description {
            settings.description = description.filter(|d| !d.trim().is_empty());
        }
        if let Some(events) = self.events {
            let mut events: Vec<String> = events.into_iter().map(|e| e.trim().to_owned()).collect();
            events.dedup();
            settings.events = events;
        }
        if let Some(active) = self.active {
            settings.active = active;
        }
        settings
    }
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(
            get_endpoint,
            update_endpoint,
            replace_endpoint,
            delete_endpoint
        ))
        .merge(crate::routes::webhook_deliveries::router())
}

/// Webhook endpoints of the tenant in the key's mode.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks", params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of endpoints", body = Object)))]
async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<WebhookEndpointDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(&query, &["page", "per_page"], &mut errors);
    let page = page(&query, &mut errors);
    errors.into_result(())?;
    let (endpoints, total) = state
        .blocking("Webhook endpoint", move |s| {
            Ok(s.store().webhooks().list(caller.scope(), page)?)
        })
        .await?;
    let shown = endpoints.len();
    Ok(ListEnvelope::new(
        "Webhook endpoints retrieved successfully",
        endpoints.into_iter().map(Into::into).collect(),
        meta(page, total, shown),
    ))
}

/// Creates an endpoint; the answer carries its signing secret, shown only this once.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, description = "Created (with secret)", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Envelope<WebhookEndpointDto>, ApiError> {
    let (endpoint, secret) = state
        .blocking("Webhook endpoint", move |s| {
            create_webhook(s, caller.scope(), input)
        })
        .await?;
    let mut dto = WebhookEndpointDto::from(endpoint);
    dto.secret = Some(secret);
    Ok(Envelope::created(
        "Webhook endpoint created successfully",
        dto,
    ))
}

/// One endpoint (without its secret).
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path, description = "wh_…")),
    responses((status = 200, description = "The endpoint", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<WebhookEndpointDto>, ApiError> {
    let id: WebhookEndpointId = path_id(&id, "Webhook endpoint")?;
    let endpoint = state
        .blocking("Webhook endpoint", move |s| {
            Ok(s.store().webhooks().get(caller.scope(), id)?)
        })
        .await?;
    Ok(Envelope::ok(
        "Webhook endpoint retrieved successfully",
        endpoint.into(),
    ))
}

/// Changes an endpoint.
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = WebhookInput,
    responses((status = 200, description = "Updated", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Envelope<WebhookEndpointDto>, ApiError> {
    save_endpoint(&state, caller, &id, input, false).await
}

/// Replaces an endpoint: `url` and `events` are required like on create, the fields left
/// out take their defaults (no description, active); the signing secret is kept.
#[utoipa::path(put, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = WebhookInput,
    responses((status = 200, description = "Replaced", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn replace_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> Result<Envelope<WebhookEndpointDto>, ApiError> {
    save_endpoint(&state, caller, &id, input, true).await
}

/// PATCH (`replace` false) applies the fields given onto the endpoint, PUT onto the defaults.
async fn save_endpoint(
    state: &AppState,
    caller: Caller,
    id: &str,
    input: WebhookInput,
    replace: bool,
) -> Result<Envelope<WebhookEndpointDto>, ApiError> {
    let id: WebhookEndpointId = path_id(id, "Webhook endpoint")?;
    let endpoint = state
        .blocking("Webhook endpoint", move |s| {
            save_webhook(s, caller.scope(), id, input, replace)
        })
        .await?;
    let message = if replace {
        "Webhook endpoint replaced successfully"
    } else {
        "Webhook endpoint updated successfully"
    };
    Ok(Envelope::ok(message, endpoint.into()))
}

/// The default settings a creation or a PUT starts from.
fn defaults() -> WebhookSettings {
    WebhookSettings {
        url: String::new(),
        description: None,
        events: Vec::new(),
        active: true,
    }
}

/// `settings` checked by every rule (the mode's, the destination policy's), each broken one
/// under its field; `errors` holds what the caller found before.
fn checked(
    state: &AppState,
    mode: as2_domain::Mode,
    settings: &WebhookSettings,
    mut errors: ValidationErrors,
) -> Result<(), ApiError> {
    if let Err(e) = settings.validate(mode) {
        errors.merge(e);
    }
    if let Err(e) = settings.check_destinations(&state.config().destinations) {
        errors.merge(e);
    }
    errors.into_result(()).map_err(Into::into)
}

/// Creates an endpoint in `scope` (`url` and `events` required) and answers it with its
/// signing secret, which is never readable again; the one path of `POST
/// /v1/webhook-endpoints` and the console. Blocking: run it in [`AppState::blocking`].
pub fn create_webhook(
    state: &AppState,
    scope: as2_store::Scope,
    input: WebhookInput,
) -> Result<(WebhookEndpoint, String), ApiError> {
    let mut errors = ValidationErrors::new();
    if input.events.is_none() {
        errors.add("events", "The events field is required");
    }
    let settings = input.apply(defaults());
    checked(state, scope.mode, &settings, errors)?;
    let secret = generate_secret();
    let endpoint = state.store().webhooks().create(scope, &settings, &secret)?;
    Ok((endpoint, secret))
}

/// Saves endpoint `id` of `scope`: PATCH (`replace` false) applies the fields given onto
/// the endpoint, PUT onto the defaults (`events` required); the secret is kept. The one path
/// of both and the console. Blocking: run it in [`AppState::blocking`].
pub fn save_webhook(
    state: &AppState,
    scope: as2_store::Scope,
    id: WebhookEndpointId,
    input: WebhookInput,
    replace: bool,
) -> Result<WebhookEndpoint, ApiError> {
    let current = state.store().webhooks().get(scope, id)?;
    let mut errors = ValidationErrors::new();
    let base = if replace {
        if input.events.is_none() {
            errors.add("events", "The events field is required");
        }
        defaults()
    } else {
        current.settings
    };
    let settings = input.apply(base);
    checked(state, scope.mode, &settings, errors)?;
    Ok(state.store().webhooks().update(scope, id, &settings)?)
}

/// Deletes endpoint `id` of `scope` (soft: its deliveries stay readable in the store, and
/// nothing more is sent to it); the one path of `DELETE /v1/webhook-endpoints/{id}` and the
/// console. Blocking: run it in [`AppState::blocking`].
pub fn delete_webhook(
    state: &AppState,
    scope: as2_store::Scope,
    id: WebhookEndpointId,
) -> Result<(), ApiError> {
    state
        .store()
        .webhooks()
        .delete(scope, id)
        .map_err(|e| ApiError::from(e).or_not_found("Webhook endpoint"))
}

/// Deletes an endpoint.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<serde_json::Value>, ApiError> {
    let id: WebhookEndpointId = path_id(&id, "Webhook endpoint")?;
    state
        .blocking("Webhook endpoint", move |s| {
            delete_webhook(s, caller.scope(), id)
        })
        .await?;
    Ok(Envelope::ok(
        "Webhook endpoint deleted successfully",
        serde_json::json!({ "id": id.to_string(), "deleted": true }),
    ))
}
