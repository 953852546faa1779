//! `/v1/tenants`: the tenants of the caller's account.

use as2_domain::ValidationErrors;
use as2_domain::api_key::{KeyKind, Scope as KeyScope};
use as2_domain::id::TenantId;
use as2_domain::tenant::{Tenant, message_limit, validate_tenant_name};
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

/// A tenant on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantDto {
    /// `tnt_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `acct_…`.
    pub account_id: String,
    /// The largest AS2 message (bytes) the tenant takes or sends; `null`: the platform's.
    pub max_message_bytes: Option<i64>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<Tenant> for TenantDto {
    fn from(t: Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            account_id: t.account_id.to_string(),
            max_message_bytes: t.max_message_bytes,
            created_at: format(t.created_at),
            updated_at: format(t.updated_at),
        }
    }
}

/// Body of create (name required) and update (any of the fields).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantInput {
    /// Display name (1–255 characters).
    pub name: Option<String>,
    /// The largest AS2 message in bytes the tenant takes or sends (at least 1024; 0 removes
    /// it and the platform's `AS2_MAX_MESSAGE_BYTES` applies).
    pub max_message_bytes: Option<i64>,
}

impl TenantInput {
    /// The checked name (required when `required`) and limit change, or a 422 naming each
    /// bad field.
    #[allow(clippy::type_complexity)]
    fn check(&self, required: bool) -> Result<(Option<String>, Option<Option<i64>>), ApiError> {
        let mut errors = ValidationErrors::new();
        let name = match (&self.name, required) {
            (Some(name), _) => {
                if let Err(e) = validate_tenant_name(name) {
                    errors.merge(e);
                }
                Some(name.trim().to_owned())
            }
            (None, true) => {
                errors.add("name", "This field is required");
                None
            }
            (None, false) => None,
        };
        let limit = match self.max_message_bytes.map(message_limit) {
            None => None,
            Some(Ok(limit)) => Some(limit),
            Some(Err(e)) => {
                errors.merge(e);
                None
            }
        };
        errors.into_result((name, limit)).map_err(Into::into)
    }
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(current_tenant))
        .routes(routes!(
            get_tenant,
            update_tenant,
            replace_tenant,
            delete_tenant
        ))
}

fn require_account_admin(caller: &Caller) -> Result<(), ApiError> {
    caller.require(KeyScope::Admin)?;
    if caller.key.kind != KeyKind::Account {
        return Err(ApiError::forbidden(
            "account_key_required",
            "Managing tenants needs an account (pk_) key",
        ));
    }
    Ok(())
}

/// Tenants visible to the key: all of the account's for a `pk_` key, its own for a `tk_` key.
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of tenants", body = Object)))]
async fn list_tenants(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<TenantDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(&query, &["page", "per_page"], &mut errors);
    let page = page(&query, &mut errors);
    errors.into_result(())?;
    let (tenants, total) = state
        .blocking("Tenant", move |s| match caller.key.kind {
            KeyKind::Account => Ok(s.store().accounts().list_tenants(caller.account.id, page)?),
            KeyKind::Tenant => Ok((
                vec![
                    s.store()
                        .accounts()
                        .tenant(caller.account.id, caller.tenant_id)?,
                ],
                1,
            )),
        })
        .await?;
    let shown = tenants.len();
    Ok(ListEnvelope::new(
        "Tenants retrieved successfully",
        tenants.into_iter().map(Into::into).collect(),
        meta(page, total, shown),
    ))
}

/// Creates a tenant in the caller's account (account key with the admin scope).
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = TenantInput,
    responses((status = 201, description = "Created", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn create_tenant(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<TenantInput>,
) -> Result<Envelope<TenantDto>, ApiError> {
    require_account_admin(&caller)?;
    let (name, limit) = input.check(true)?;
    let tenant = state
        .blocking("Tenant", move |s| {
            let accounts = s.store().accounts();
            let tenant =
                accounts.create_tenant(caller.account.id, name.as_deref().unwrap_or_default())?;
            Ok(match limit {
                Some(limit) => accounts.set_message_limit(caller.account.id, tenant.id, limit)?,
                None => tenant,
            })
        })
        .await?;
    Ok(Envelope::created(
        "Tenant created successfully",
        tenant.into(),
    ))
}

/// The tenant the request works on (`X-Tenant-ID` or the key's).
#[utoipa::path(get, path = "/v1/tenants/current", tag = "tenants", responses((status = 200, description = "The current tenant", body = Object)))]
async fn current_tenant(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Envelope<TenantDto>, ApiError> {
    let tenant = state
        .blocking("Tenant", move |s| {
            Ok(s.store()
                .accounts()
                .tenant(caller.account.id, caller.tenant_id)?)
        })
        .await?;
    Ok(Envelope::ok("Tenant retrieved successfully", tenant.into()))
}

fn visible(caller: &Caller, id: TenantId) -> Result<(), ApiError> {
    if caller.key.kind == KeyKind::Tenant && caller.tenant_id != id {
        return Err(ApiError::not_found("Tenant"));
    }
    Ok(())
}

/// One tenant of the account.
#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path, description = "tnt_…")),
    responses((status = 200, description = "The tenant", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn get_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TenantDto>, ApiError> {
    let id: TenantId = path_id(&id, "Tenant")?;
    visible(&caller, id)?;
    let tenant = state
        .blocking("Tenant", move |s| {
            Ok(s.store().accounts().tenant(caller.account.id, id)?)
        })
        .await?;
    Ok(Envelope::ok("Tenant retrieved successfully", tenant.into()))
}

/// Renames a tenant or sets its message size limit.
#[utoipa::path(patch, path = "/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path)), request_body = TenantInput,
    responses((status = 200, description = "Updated", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn update_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<TenantInput>,
) -> Result<Envelope<TenantDto>, ApiError> {
    save_tenant(&state, caller, &id, &input, false).await
}

/// Replaces a tenant's settings: `name` is required, a `max_message_bytes` left out removes
/// the tenant's own limit (the platform's applies).
#[utoipa::path(put, path = "/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path)), request_body = TenantInput,
    responses((status = 200, description = "Replaced", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn replace_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<TenantInput>,
) -> Result<Envelope<TenantDto>, ApiError> {
    save_tenant(&state, caller, &id, &input, true).await
}

/// PATCH (`replace` false) changes the fields given; PUT requires the name and resets a
/// limit left out.
async fn save_tenant(
    state: &AppState,
    caller: Caller,
    id: &str,
    input: &TenantInput,
    replace: bool,
) -> Result<Envelope<TenantDto>, ApiError> {
    let id: TenantId = path_id(id, "Tenant")?;
    require_account_admin(&caller)?;
    let (name, limit) = input.check(replace)?;
    let limit = if replace {
        Some(limit.flatten())
    } else {
        limit
    };
    let tenant = state
        .blocking("Tenant", move |s| {
            let accounts = s.store().accounts();
            let mut tenant = accounts.tenant(caller.account.id, id)?;
            if let Some(name) = &name {
                tenant = accounts.rename_tenant(caller.account.id, id, name)?;
            }
            if let Some(limit) = limit {
                tenant = accounts.set_message_limit(caller.account.id, id, limit)?;
            }
            Ok(tenant)
        })
        .await?;
    let message = if replace {
        "Tenant replaced successfully"
    } else {
        "Tenant updated successfully"
    };
    Ok(Envelope::ok(message, tenant.into()))
}

/// Deletes a tenant (its data stays for audit, unreachable).
#[utoipa::path(delete, path = "/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn delete_tenant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<serde_json::Value>, ApiError> {
    let id: TenantId = path_id(&id, "Tenant")?;
    require_account_admin(&caller)?;
    state
        .blocking("Tenant", move |s| {
            Ok(s.store().accounts().delete_tenant(caller.account.id, id)?)
        })
        .await?;
    Ok(Envelope::ok(
        "Tenant deleted successfully",
        serde_json::json!({ "id": id.to_string(), "deleted": true }),
    ))
}
