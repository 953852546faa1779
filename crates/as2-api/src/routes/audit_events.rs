//! `/v1/audit-events`: the tenant's audit log in the caller's mode, newest first, filtered by
//! actor, action, resource and time.

use as2_domain::ValidationErrors;
use as2_domain::audit::AuditEvent;
use as2_domain::id::{ApiKeyId, UserId};
use as2_store::repo::audit::AuditFilter;
use axum::extract::{Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::envelope::ListEnvelope;
use crate::error::ApiError;
use crate::params::{QueryMap, meta, only, page, time};
use crate::state::AppState;
use crate::time::format;

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorDto {
    /// `api_key` or `user`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `key_…` or `usr_…`.
    pub id: String,
    /// The key's name or the user's email.
    pub label: String,
}

/// An audit event on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventDto {
    /// `aud_…`.
    pub id: String,
    /// Who.
    pub actor: ActorDto,
    /// `resource.verb`, such as `partner.create` or `message.retry`.
    pub action: String,
    /// `partner`, `message`, …
    pub resource_type: String,
    /// The resource's id, when known.
    pub resource_id: Option<String>,
    /// The client's address.
    pub ip: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// The fields sent, secrets shown as `[redacted]`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    /// `test` or `live`.
    pub mode: String,
    /// When.
    pub created_at: String,
}

impl From<AuditEvent> for AuditEventDto {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            actor: ActorDto {
                kind: e.actor.kind.to_string(),
                id: e.actor.id,
                label: e.actor.label,
            },
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            ip: e.ip,
            user_agent: e.user_agent,
            changes: serde_json::from_str(&e.changes)
                .unwrap_or_else(|_| serde_json::Value::Object(Default::default())),
            mode: e.mode.to_string(),
            created_at: format(e.created_at),
        }
    }
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

/// A filter of short text (an action, a resource type or id), or a sentence naming it.
fn text(query: &QueryMap, name: &str, errors: &mut ValidationErrors) -> Option<String> {
    let value = query.get(name)?.trim();
    if value.is_empty() || value.len() > 128 {
        errors.add(
            name,
            format!(
                "The {} must be between 1 and 128 characters",
                name.replace('_', " ")
            ),
        );
        return None;
    }
    Some(value.to_owned())
}

/// Reads the filters, naming every bad parameter.
fn filter(query: &QueryMap, errors: &mut ValidationErrors) -> AuditFilter {
    let actor = query.get("actor").map(|a| a.trim().to_owned());
    if let Some(actor) = &actor
        && actor.parse::<ApiKeyId>().is_err()
        && actor.parse::<UserId>().is_err()
    {
        errors.add(
            "actor",
            "The actor must be an API key id (key_000001) or a user id (usr_000001)",
        );
    }
    let since = time(query, "since", errors);
    let until = time(query, "until", errors);
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        errors.add("until", "The until time must be after the since time");
    }
    AuditFilter {
        actor,
        action: text(query, "action", errors),
        resource_type: text(query, "resource_type", errors),
        resource_id: text(query, "resource_id", errors),
        since,
        until,
    }
}

/// The audit log of the caller's tenant and mode: every change made through the API or the
/// console, newest first.
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit-events",
    params(
        ("actor" = Option<String>, Query, description = "`key_…` or `usr_…`"),
        ("action" = Option<String>, Query, description = "Such as `partner.create`"),
        ("resource_type" = Option<String>, Query, description = "Such as `partner`"),
        ("resource_id" = Option<String>, Query, description = "Such as `prt_000001`"),
        ("since" = Option<String>, Query, description = "ISO 8601; at or after"),
        ("until" = Option<String>, Query, description = "ISO 8601; before"),
        ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of audit events", body = Object), (status = 422, description = "A bad parameter, named", body = Object)))]
async fn list_audit_events(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<AuditEventDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(
        &query,
        &[
            "actor",
            "action",
            "resource_type",
            "resource_id",
            "since",
            "until",
            "page",
            "per_page",
        ],
        &mut errors,
    );
    let page = page(&query, &mut errors);
    let filter = filter(&query, &mut errors);
    errors.into_result(())?;
    let scope = caller.scope();
    let (events, total) = state
        .blocking("audit event", move |s| {
            Ok(s.store().audit().list(scope, &filter, page)?)
        })
        .await?;
    let shown = events.len();
    Ok(ListEnvelope::new(
        "Audit events retrieved successfully",
        events.into_iter().map(Into::into).collect(),
        meta(page, total, shown),
    ))
}
