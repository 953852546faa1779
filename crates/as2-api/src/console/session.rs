//! The signed-in user of a console request: the session cookie, the session it names, the
//! user's tenants and the one (and the mode) the header's switch selected.

use as2_domain::Mode;
use as2_domain::forwarded::ClientAddr;
use as2_domain::id::TenantId;
use as2_domain::user::{Membership, Session, User, hash_token};
use as2_store::{Scope, StoreError};
use axum::Form;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "as2_console";

/// A signed-in request: the session, its user, the user's tenants and the selected one.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// Every tenant the user belongs to.
    pub memberships: Vec<Membership>,
    /// The tenant shown (the switch's choice while the user still belongs to it, else the
    /// first); `None` for a user of no tenant.
    pub current: Option<Membership>,
    /// The client's address, for audit events.
    pub ip: Option<String>,
    /// The client's `User-Agent`, for audit events.
    pub user_agent: Option<String>,
    /// The path asked for (the menu marks its page as the current one).
    pub path: String,
}

impl ConsoleSession {
    /// The tenant and mode every query of the page is scoped to.
    pub fn scope(&self) -> Option<Scope> {
        self.current
            .as_ref()
            .map(|m| Scope::new(m.tenant_id, self.session.mode))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ConsoleSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Self>().cloned().ok_or_else(|| {
            if parts.method == axum::http::Method::GET {
                Redirect::to("/console/login").into_response()
            } else {
                (StatusCode::FORBIDDEN, "Sign in first").into_response()
            }
        })
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for ConsoleSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// `Set-Cookie` for a session token (`None` clears the cookie).
pub fn set_cookie(token: Option<&str>, secure: bool, max_age_secs: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = match token {
        Some(token) => format!(
            "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
        ),
        None => format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether the cookie is marked `Secure`: the listener speaks HTTPS, or a trusted proxy said
/// the client used HTTPS.
pub fn secure(configured: bool, extensions: &axum::http::Extensions) -> bool {
    configured
        || extensions
            .get::<ClientAddr>()
            .is_some_and(|c| c.forwarded_https == Some(true))
}

/// The client's address (the server loop's, else unknown).
pub fn client_ip(extensions: &axum::http::Extensions) -> Option<String> {
    extensions.get::<ClientAddr>().map(|c| c.ip.to_string())
}

/// Middleware: puts the [`ConsoleSession`] of a valid cookie in the request; a request
/// without one goes on signed out.
pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(token) = cookie(request.headers(), COOKIE) {
        let hash = hash_token(&token);
        let ip = client_ip(request.extensions());
        let user_agent: Option<String> = request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        let idle = state.config().console.idle_timeout;
        let path: String = request.uri().path().chars().take(256).collect();
        let found = state
            .blocking("session", move |s| {
                let store = s.store();
                let (session, user) = match store.sessions().active(&hash, chrono::Utc::now(), idle)
                {
                    Ok(found) => found,
                    Err(StoreError::NotFound) => return Ok(None),
                    Err(other) => return Err(other.into()),
                };
                let memberships = store.users().memberships(user.id)?;
                let current = session
                    .tenant_id
                    .and_then(|t| memberships.iter().find(|m| m.tenant_id == t))
                    .or(memberships.first())
                    .cloned();
                Ok(Some(ConsoleSession {
                    session,
                    user,
                    memberships,
                    current,
                    ip,
                    user_agent,
                    path,
                }))
            })
            .await;
        match found {
            Ok(Some(session)) => {
                request.extensions_mut().insert(session);
            }
            Ok(None) => {}
            Err(error) => return error.into_response(),
        }
    }
    next.run(request).await
}

/// The header's tenant and mode switch.
#[derive(Debug, Deserialize)]
pub struct SwitchInput {
    /// `tnt_…`.
    pub tenant: String,
    /// `test` or `live`.
    pub mode: String,
}

/// `POST /console/switch`: shows another of the user's tenants, or the other mode.
pub async fn switch(
    State(state): State<AppState>,
    console: ConsoleSession,
    Form(input): Form<SwitchInput>,
) -> Response {
    let tenant = input.tenant.parse::<TenantId>().ok();
    let mode = input.mode.parse::<Mode>().ok();
    let (Some(tenant), Some(mode)) = (tenant, mode) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose one of your tenants and a mode",
        )
            .into_response();
    };
    if !console.memberships.iter().any(|m| m.tenant_id == tenant) {
        return (StatusCode::NOT_FOUND, "No such tenant").into_response();
    }
    let id = console.session.id;
    match state
        .blocking("session", move |s| {
            Ok(s.store().sessions().select(id, tenant, mode)?)
        })
        .await
    {
        Ok(()) => Redirect::to("/console").into_response(),
        Err(error) => error.into_response(),
    }
}
