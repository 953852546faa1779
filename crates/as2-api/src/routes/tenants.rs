//! `/v1/tenants`: the tenants of the caller's account.

use as2_domain::ValidationErrors;
use as2_domain::alerts::alert_recipients;
use as2_domain::api_key::{KeyKind, Scope as KeyScope};
use as2_domain::id::{AccountId, TenantId};
use as2_domain::retention::{RetentionOverride, check_order, retention_days};
use as2_domain::tenant::{Tenant, message_limit, validate_tenant_name};
use as2_store::Store;
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
    /// Days payloads and raw MDNs are kept; `null`: the plan's default.
    pub retention_payload_days: Option<u32>,
    /// Days message rows and their events are kept; `null`: the plan's default.
    pub retention_record_days: Option<u32>,
    /// Where email alerts go (a message failed, a certificate expiring); empty: none.
    pub alert_emails: Vec<String>,
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
            retention_payload_days: t.retention.payload_days,
            retention_record_days: t.retention.record_days,
            alert_emails: t.alert_emails,
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
    /// Days payloads and raw MDNs are kept (1–3650; 0: the plan's default).
    pub retention_payload_days: Option<i64>,
    /// Days message rows and their events are kept (1–3650, not fewer than the payload
    /// days; 0: the plan's default).
    pub retention_record_days: Option<i64>,
    /// Where email alerts go: at most 10 plain addresses (`ops@example.com`); `[]` stops
    /// them.
    pub alert_emails: Option<Vec<String>>,
}

/// A checked tenant input: each field `None` when not given (made by
/// [`TenantInput::change`], applied by [`apply_change`]).
#[derive(Debug)]
pub struct Checked {
    name: Option<String>,
    limit: Option<Option<i64>>,
    payload_days: Option<Option<u32>>,
    record_days: Option<Option<u32>>,
    alert_emails: Option<Vec<String>>,
}

impl Checked {
    /// The retention after this change, from the tenant's current one.
    fn retention(&self, current: RetentionOverride) -> RetentionOverride {
        RetentionOverride {
            payload_days: self.payload_days.unwrap_or(current.payload_days),
            record_days: self.record_days.unwrap_or(current.record_days),
        }
    }

    fn changes_retention(&self) -> bool {
        self.payload_days.is_some() || self.record_days.is_some()
    }
}

impl TenantInput {
    /// The change a PATCH (`replace` false: the fields given) or a PUT (`replace` true: the
    /// name required, a limit, retention or recipients left out reset) makes, or a 422
    /// naming each bad field. The console's settings page saves through it too.
    pub fn change(&self, replace: bool) -> Result<Checked, ApiError> {
        let mut checked = self.check(replace)?;
        if replace {
            checked.limit = Some(checked.limit.flatten());
            checked.payload_days = Some(checked.payload_days.flatten());
            checked.record_days = Some(checked.record_days.flatten());
            checked.alert_emails = Some(checked.alert_emails.unwrap_or_default());
        }
        Ok(checked)
    }

    /// The checked name (required when `required`), limit and retention changes, or a 422
    /// naming each bad field.
    fn check(&self, required: bool) -> Result<Checked, ApiError> {
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
        let mut days = |field: &str, requested: Option<i64>| match requested
            .map(|d| retention_days(field, d))
        {
            None => None,
            Some(Ok(days)) => Some(days),
            Some(Err(e)) => {
                errors.merge(e);
                None
            }
        };
        let payload_days = days("retention_payload_days", self.retention_payload_days);
        let record_days = days("retention_record_days", self.retention_record_days);
        let alert_emails = match self
            .alert_emails
            .as_deref()
            .map(|list| alert_recipients("alert_emails", list))
        {
            None => None,
            Some(Ok(list)) => Some(list),
            Some(Err(e)) => {
                errors.merge(e);
                None
            }
        };
        errors
            .into_result(Checked {
                name,
                limit,
                payload_days,
                record_days,
                alert_emails,
            })
            .map_err(Into::into)
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
    let checked = input.check(true)?;
    let retention = checked.retention(RetentionOverride::default());
    check_order(retention)?;
    let tenant = state
        .blocking("Tenant", move |s| {
            let accounts = s.store().accounts();
            let mut tenant = accounts.create_tenant(
                caller.account.id,
                checked.name.as_deref().unwrap_or_default(),
            )?;
            if let Some(limit) = checked.limit {
                tenant = accounts.set_message_limit(caller.account.id, tenant.id, limit)?;
            }
            if checked.changes_retention() {
                tenant = accounts.set_retention(caller.account.id, tenant.id, retention)?;
            }
            if let Some(emails) = &checked.alert_emails {
                tenant = accounts.set_alert_emails(caller.account.id, tenant.id, emails)?;
            }
            Ok(tenant)
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

/// Renames a tenant or sets its message size limit, retention or alert recipients.
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

/// Replaces a tenant's settings: `name` is required, a `max_message_bytes` or retention left
/// out removes the tenant's own value (the platform's or the plan's applies), and
/// `alert_emails` left out stops email alerts.
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
    let checked = input.change(replace)?;
    let tenant = state
        .blocking("Tenant", move |s| {
            apply_change(s.store(), caller.account.id, id, &checked)
        })
        .await?;
    let message = if replace {
        "Tenant replaced successfully"
    } else {
        "Tenant updated successfully"
    };
    Ok(Envelope::ok(message, tenant.into()))
}

/// Applies a checked change to tenant `id` of `account` (not found in another account),
/// the retention's order checked against what the tenant has: a PATCH may change one of the
/// two. Blocking: run it in [`AppState::blocking`].
pub fn apply_change(
    store: &Store,
    account: AccountId,
    id: TenantId,
    checked: &Checked,
) -> Result<Tenant, ApiError> {
    let accounts = store.accounts();
    let mut tenant = accounts.tenant(account, id)?;
    let retention = checked.retention(tenant.retention);
    check_order(retention)?;
    if let Some(name) = &checked.name {
        tenant = accounts.rename_tenant(account, id, name)?;
    }
    if let Some(limit) = checked.limit {
        tenant = accounts.set_message_limit(account, id, limit)?;
    }
    if checked.changes_retention() {
        tenant = accounts.set_retention(account, id, retention)?;
    }
    if let Some(emails) = &checked.alert_emails {
        tenant = accounts.set_alert_emails(account, id, emails)?;
    }
    Ok(tenant)
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
