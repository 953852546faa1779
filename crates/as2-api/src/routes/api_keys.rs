//! `/v1/api-keys`: list, create (the secret is shown once) and revoke keys.

use std::collections::BTreeSet;

use as2_domain::api_key::{ApiKey, KeyKind, Scope as KeyScope, generate};
use as2_domain::id::ApiKeyId;
use as2_domain::{Mode, ValidationErrors};
use as2_store::repo::api_keys::NewApiKey;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
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

/// A key on the wire (never the secret, except once in the creation answer).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyDto {
    /// `key_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `pk` (account) or `tk` (tenant) key.
    pub kind: String,
    /// `test` or `live`.
    pub mode: String,
    /// The tenant of a `tk` key.
    pub tenant_id: Option<String>,
    /// The first characters of the secret.
    pub prefix: String,
    /// `read`, `write`, `delete`, `admin`.
    pub scopes: Vec<String>,
    /// Last use.
    pub last_used_at: Option<String>,
    /// Revocation time.
    pub revoked_at: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// The secret: only in the answer to the creation, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<ApiKey> for ApiKeyDto {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name,
            kind: match k.kind {
                KeyKind::Account => "pk".into(),
                KeyKind::Tenant => "tk".into(),
            },
            mode: k.mode.to_string(),
            tenant_id: k.tenant_id.map(|t| t.to_string()),
            prefix: k.display_prefix,
            scopes: k.scopes.iter().map(ToString::to_string).collect(),
            last_used_at: k.last_used_at.map(format),
            revoked_at: k.revoked_at.map(format),
            created_at: format(k.created_at),
            secret: None,
        }
    }
}

/// Body of create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    /// Display name.
    pub name: String,
    /// `tk` (one tenant, the default) or `pk` (the whole account).
    pub kind: Option<String>,
    /// `test` or `live`: the mode of the calling key (the default); the other mode is
    /// refused with 403.
    pub mode: Option<String>,
    /// Scopes (default `["read", "write", "delete"]`).
    pub scopes: Option<Vec<String>>,
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
}

fn tenant_filter(caller: &Caller) -> Option<as2_domain::id::TenantId> {
    (caller.key.kind == KeyKind::Tenant).then_some(caller.tenant_id)
}

/// Keys of the account in the caller's mode (a tenant key sees its tenant's keys).
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of keys", body = Object)))]
async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<ApiKeyDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(&query, &["page", "per_page"], &mut errors);
    let page = page(&query, &mut errors);
    errors.into_result(())?;
    let (keys, total) = state
        .blocking("API key", move |s| {
            Ok(s.store().api_keys().list(
                caller.account.id,
                caller.mode(),
                tenant_filter(&caller),
                page,
            )?)
        })
        .await?;
    let shown = keys.len();
    Ok(ListEnvelope::new(
        "API keys retrieved successfully",
        keys.into_iter().map(Into::into).collect(),
        meta(page, total, shown),
    ))
}

/// Creates a key in the caller's own mode; the answer carries its secret once. A key never
/// creates a key of the other mode: a test key cannot mint a live key (the first live key
/// comes from the operator, `api-server create-key`).
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = ApiKeyInput,
    responses((status = 201, description = "Created; `secret` is shown only here", body = Object), (status = 403, description = "The key lacks the admin scope, or asked for a key of the other mode", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<ApiKeyInput>,
) -> Result<Envelope<ApiKeyDto>, ApiError> {
    caller.require(KeyScope::Admin)?;
    if let Some(Ok(asked)) = input.mode.as_deref().map(str::parse::<Mode>)
        && asked != caller.mode()
    {
        return Err(ApiError::forbidden(
            "mode_forbidden",
            format!(
                "A {} key can only create {} keys; a {asked} key must be created with a {asked} key, or by the operator with `api-server create-key`",
                caller.mode(),
                caller.mode()
            ),
        ));
    }
    let mut errors = ValidationErrors::new();
    as2_domain::validation::check_name(&mut errors, "name", "name", &input.name, 255);
    let kind = match input.kind.as_deref() {
        None | Some("tk") => KeyKind::Tenant,
        Some("pk") => KeyKind::Account,
        Some(_) => {
            errors.add(
                "kind",
                "The kind must be `tk` (tenant key) or `pk` (account key)",
            );
            KeyKind::Tenant
        }
    };
    if kind == KeyKind::Account && caller.key.kind == KeyKind::Tenant {
        errors.add("kind", "A tenant key cannot create account keys");
    }
    let mode = match input.mode.as_deref().map(str::parse::<Mode>) {
        None => caller.mode(),
        Some(Ok(mode)) => mode,
        Some(Err(_)) => {
            errors.add("mode", "The mode must be `test` or `live`");
            caller.mode()
        }
    };
    let scopes: BTreeSet<KeyScope> = match &input.scopes {
        None => [KeyScope::Read, KeyScope::Write, KeyScope::Delete]
            .into_iter()
            .collect(),
        Some(list) => {
            let parsed: Result<BTreeSet<KeyScope>, _> = list.iter().map(|s| s.parse()).collect();
            match parsed {
                Ok(set) if !set.is_empty() => set,
                _ => {
                    errors.add(
                        "scopes",
                        "The scopes must be a non-empty list of read, write, delete, admin",
                    );
                    BTreeSet::new()
                }
            }
        }
    };
    errors.into_result(())?;
    let generated = generate(kind, mode);
    let secret = generated.secret.clone();
    let key = state
        .blocking("API key", move |s| {
            let new = NewApiKey {
                account_id: caller.account.id,
                tenant_id: (kind == KeyKind::Tenant).then_some(caller.tenant_id),
                kind,
                mode,
                name: input.name.trim(),
                scopes: &scopes,
                generated: &generated,
            };
            Ok(s.store().api_keys().create(&new)?)
        })
        .await?;
    let mut dto = ApiKeyDto::from(key);
    dto.secret = Some(secret);
    Ok(Envelope::created(
        "API key created successfully; store the secret now, it is not shown again",
        dto,
    ))
}

/// Revokes a key: it authenticates nothing from now on.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys", params(("id" = String, Path, description = "key_…")),
    responses((status = 200, description = "Revoked", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<ApiKeyDto>, ApiError> {
    let id: ApiKeyId = path_id(&id, "API key")?;
    caller.require(KeyScope::Admin)?;
    let key = state
        .blocking("API key", move |s| {
            Ok(s.store().api_keys().revoke(
                caller.account.id,
                caller.mode(),
                tenant_filter(&caller),
                id,
            )?)
        })
        .await?;
    Ok(Envelope::ok("API key revoked successfully", key.into()))
}
