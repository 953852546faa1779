//! Authentication and tenancy: the Bearer key, `X-Tenant-ID`, the scope the method needs,
//! and the key's rate limit. The `authenticate` middleware puts a [`Caller`] in the request.
//!
//! Every failure answers without saying whether a resource or tenant exists: unknown,
//! revoked and malformed keys are the same 401; a tenant that is not the key's is 403.

use as2_domain::Mode;
use as2_domain::api_key::{ApiKey, KeyKind, Scope as KeyScope, hash_secret, parse_secret};
use as2_domain::id::TenantId;
use as2_domain::plan::Plan;
use as2_domain::tenant::Account;
use as2_store::{Scope, StoreError};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::rate_limit::{Decision, Limits};
use crate::state::AppState;

/// Who is calling: the key, its account, and the tenant and mode the request works in.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key record.
    pub key: ApiKey,
    /// Its account.
    pub account: Account,
    /// The tenant the request works on.
    pub tenant_id: TenantId,
    /// The `User-Agent`, recorded on audit events.
    pub user_agent: Option<String>,
}

impl Caller {
    /// The tenant and mode every query of this request is scoped to.
    pub fn scope(&self) -> Scope {
        Scope::new(self.tenant_id, self.key.mode)
    }

    /// The key's mode.
    pub fn mode(&self) -> Mode {
        self.key.mode
    }

    /// 403 unless the key has `scope`.
    pub fn require(&self, scope: KeyScope) -> Result<(), ApiError> {
        if self.key.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "insufficient_scope",
                format!("This API key lacks the `{scope}` scope"),
            ))
        }
    }

    /// Who did it, for audit trails (`key_000001`).
    pub fn actor(&self) -> String {
        self.key.id.to_string()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(|| ApiError::unauthenticated("Authentication required"))
    }
}

/// Whether the request changes something (needs the `write` scope or more).
pub fn needs_write(method: &Method, path: &str) -> bool {
    scope_for(method, path) != KeyScope::Read
}

/// The scope a request needs: by method, except seed 000's POST-only reads (`/api/v1` calls
/// other than `create`, `send` and the lifecycle operations read).
fn scope_for(method: &Method, path: &str) -> KeyScope {
    if let Some(call) = path.strip_prefix("/api/v1/") {
        let writes = ["create", "send", "update", "delete", "cem/"];
        let reads = ["cem/trust", "cem/events", "cem/verify", "cem/requests"];
        let read_only = reads.iter().any(|r| call.ends_with(r));
        return if !read_only && writes.iter().any(|w| call.ends_with(w) || call.contains(w)) {
            KeyScope::Write
        } else {
            KeyScope::Read
        };
    }
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => KeyScope::Read,
        Method::DELETE => KeyScope::Delete,
        _ => KeyScope::Write,
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthenticated("Authentication required: send Authorization: Bearer <API key>")
    })?;
    let value = value.to_str().map_err(|_| invalid_key())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(invalid_key)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthenticated(
            "Use the Bearer scheme: Authorization: Bearer <API key>",
        ));
    }
    Ok(token.trim())
}

fn invalid_key() -> ApiError {
    ApiError::unauthenticated("The API key is invalid or revoked")
}

/// A tenant that is not found is not the key's (403); any other failure (the database is
/// away) is answered as such, never as a 403.
fn not_the_keys(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => wrong_tenant(),
        other => other.into(),
    }
}

fn wrong_tenant() -> ApiError {
    ApiError::forbidden(
        "tenant_not_accessible",
        "This API key cannot act on the requested tenant",
    )
}

/// The plan's limits for this account.
pub fn limits_for(account: &Account, state: &AppState) -> Limits {
    let custom = state.config().enterprise_limits;
    match account.plan {
        Plan::Enterprise => custom,
        plan => {
            let l = plan.limits(None);
            Limits {
                per_minute: l.per_minute,
                burst: l.burst,
                concurrent: l.concurrent,
            }
        }
    }
}

/// Resolves the key and tenant, checks the method's scope and the rate limit, and adds the
/// `X-RateLimit-*` headers to the response.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let (caller, decision, limits) = match resolve(&state, request.headers()).await {
        Ok(resolved) => resolved,
        Err(error) => return error.into_response(),
    };
    // the place is held until the response is made
    let place = decision
        .allowed
        .then(|| {
            state
                .in_flight()
                .try_acquire(&caller.account.id.to_string(), limits.concurrent)
        })
        .flatten();
    let mut response = if !decision.allowed {
        ApiError::rate_limited(decision.retry_after_secs).into_response()
    } else if place.is_none() {
        ApiError::too_many_in_flight(limits.concurrent).into_response()
    } else if let Err(error) = caller.require(scope_for(request.method(), request.uri().path())) {
        error.into_response()
    } else {
        let key_id = caller.key.id;
        // `last_used_at` is kept to the minute (the store skips fresher updates); not even
        // asking saves a blocking task and, on SQLite, a write lock per request.
        let fresh = caller
            .key
            .last_used_at
            .is_some_and(|at| chrono::Utc::now() - at < chrono::Duration::minutes(1));
        request.extensions_mut().insert(caller);
        if !fresh {
            let touch = state.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(error) = touch.store().api_keys().touch(key_id) {
                    tracing::warn!(%error, "could not record API key use");
                }
            });
        }
        next.run(request).await
    };
    decision.write_headers(response.headers_mut());
    response
}

/// The caller, the rate limit's decision on this request and the plan's limits: one task on
/// the blocking pool (and one pooled connection) for the key, the tenant and the bucket.
async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Caller, Decision, Limits), ApiError> {
    let secret = bearer(headers)?;
    if parse_secret(secret).is_none() {
        return Err(invalid_key());
    }
    let hash = hash_secret(secret);
    let requested = match headers.get("x-tenant-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<TenantId>().ok())
                .ok_or_else(wrong_tenant)?,
        ),
        None => None,
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect());
    state
        .blocking("API key", move |state| {
            let store = state.store();
            let (key, account) = store.api_keys().authenticate(&hash).map_err(|e| match e {
                StoreError::NotFound => invalid_key(),
                other => other.into(),
            })?;
            let tenant_id = match (key.kind, key.tenant_id, requested) {
                (KeyKind::Tenant, Some(own), None) => own,
                (KeyKind::Tenant, Some(own), Some(asked)) if asked == own => own,
                (KeyKind::Tenant, _, _) => return Err(wrong_tenant()),
                (KeyKind::Account, _, Some(asked)) => {
                    store
                        .accounts()
                        .tenant(account.id, asked)
                        .map_err(not_the_keys)?
                        .id
                }
                (KeyKind::Account, _, None) => {
                    store
                        .accounts()
                        .first_tenant(account.id)
                        .map_err(not_the_keys)?
                        .id
                }
            };
            if key.kind == KeyKind::Tenant && !store.api_keys().tenant_alive(tenant_id)? {
                return Err(invalid_key());
            }
            let limits = limits_for(&account, state);
            let decision = state.limiter().check(store, &key.id.to_string(), limits)?;
            let caller = Caller {
                key,
                account,
                tenant_id,
                user_agent,
            };
            Ok((caller, decision, limits))
        })
        .await
}
