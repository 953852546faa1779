//! Signing in and out: the form, the password check under the lock-out rule, a new session
//! at every sign-in, signing out here or everywhere.

use as2_domain::Mode;
use as2_domain::audit::{Actor, ActorKind};
use as2_domain::user::{LockoutPolicy, hash_token, new_token, normalize_email, password};
use as2_store::repo::audit::NewAuditEvent;
use as2_store::repo::sessions::NewSession;
use as2_store::{Scope, Store, StoreError};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use crate::console::layout::page;
use crate::console::session::{COOKIE, ConsoleSession, client_ip, cookie, secure, set_cookie};
use crate::error::ApiError;
use crate::state::AppState;

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct SignInInput {
    /// Email.
    #[serde(default)]
    pub email: String,
    /// Password.
    #[serde(default)]
    pub password: String,
}

fn form_markup(email: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p class="error" role="alert" id="sign-in-error" { (error) }
        }
        form method="post" action="/console/login" {
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="username" required
                value=(email) aria-describedby=[error.map(|_| "sign-in-error")];
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            p { button type="submit" { "Sign in" } }
        }
    }
}

/// `GET /console/login`.
pub async fn form(console: Option<ConsoleSession>) -> Response {
    if console.is_some() {
        return Redirect::to("/console").into_response();
    }
    page("Sign in", None, form_markup("", None)).into_response()
}

/// How a sign-in attempt ended.
enum Outcome {
    /// Signed in: the new session's token.
    Signed { token: String },
    /// Wrong email or password.
    Wrong,
    /// Locked out until then.
    Locked(DateTime<Utc>),
}

/// The attempt itself, on the blocking pool: the lock-out first (for the email and the
/// address alike, known email or not), then the password (an unknown email is checked
/// against a dummy hash so it costs the same), then the new session.
fn attempt(
    store: &Store,
    policy: LockoutPolicy,
    lifetime: chrono::Duration,
    input: &SignInInput,
    ip: Option<&str>,
    user_agent: Option<&str>,
    replaced: Option<&str>,
) -> Result<Outcome, StoreError> {
    let now = Utc::now();
    let email = normalize_email(&input.email).unwrap_or_else(|_| input.email.trim().to_lowercase());
    let subjects = [
        format!("email:{email}"),
        format!("ip:{}", ip.unwrap_or("unknown")),
    ];
    for subject in &subjects {
        if let Some(until) = store.sessions().locked_until(subject, now)? {
            return Ok(Outcome::Locked(until));
        }
    }
    let found = match store.users().credentials(&email) {
        Ok(found) => Some(found),
        Err(StoreError::NotFound) => None,
        Err(other) => return Err(other),
    };
    let hash = found
        .as_ref()
        .map_or(password::dummy_hash(), |(_, hash)| hash.as_str());
    let matches = password::verify(&input.password, hash);
    let user = match found {
        Some((user, _)) if matches && user.disabled_at.is_none() => user,
        _ => {
            let mut locked = None;
            for subject in &subjects {
                locked = locked.or(store.sessions().record_failure(subject, now, policy)?);
            }
            return Ok(locked.map_or(Outcome::Wrong, Outcome::Locked));
        }
    };
    store.sessions().clear_failures(&subjects[0])?;
    // the cookie sent with the form, if it named a session, ends here: the new session has
    // a new token whatever the browser held before (session fixation)
    if let Some(old) = replaced
        && let Ok((session, _)) = store.sessions().active(&hash_token(old), now, lifetime)
    {
        store.sessions().revoke(session.id, now)?;
    }
    let memberships = store.users().memberships(user.id)?;
    let tenant = memberships.first().map(|m| m.tenant_id);
    let token = new_token();
    let csrf = new_token();
    let session = store.sessions().create(&NewSession {
        user_id: user.id,
        token_hash: &hash_token(&token),
        csrf_token: &csrf,
        tenant_id: tenant,
        mode: Mode::Test,
        now,
        expires_at: now + lifetime,
        ip,
        user_agent,
    })?;
    if let Some(tenant) = tenant {
        let actor = Actor {
            kind: ActorKind::User,
            id: user.id.to_string(),
            label: user.email.clone(),
        };
        store.audit().record(
            Scope::new(tenant, Mode::Test),
            &NewAuditEvent {
                actor: &actor,
                action: "user.login",
                resource_type: "session",
                resource_id: Some(&session.id.to_string()),
                ip,
                user_agent,
                changes: "{}",
            },
        )?;
    }
    Ok(Outcome::Signed { token })
}

/// `POST /console/login`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(input): Form<SignInInput>,
) -> Response {
    let config = state.config().console.clone();
    let ip = client_ip(&extensions);
    let user_agent: Option<String> = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect());
    let replaced = cookie(&headers, COOKIE);
    let secure_cookie = secure(state.config().console.secure_cookie, &extensions);
    let email = input.email.clone();
    let outcome = state
        .blocking("user", move |s| {
            attempt(
                s.store(),
                config.lockout,
                config.session_lifetime,
                &input,
                ip.as_deref(),
                user_agent.as_deref(),
                replaced.as_deref(),
            )
            .map_err(ApiError::from)
        })
        .await;
    let config = &state.config().console;
    match outcome {
        Ok(Outcome::Signed { token }) => {
            let mut response = Redirect::to("/console").into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                set_cookie(
                    Some(&token),
                    secure_cookie,
                    config.session_lifetime.num_seconds(),
                ),
            );
            response
        }
        Ok(Outcome::Wrong) => (
            StatusCode::UNAUTHORIZED,
            page(
                "Sign in",
                None,
                form_markup(&email, Some("The email or the password is wrong.")),
            ),
        )
            .into_response(),
        Ok(Outcome::Locked(until)) => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                page(
                    "Sign in",
                    None,
                    form_markup(
                        &email,
                        Some(&format!(
                            "Too many failed sign-ins. Try again after {} UTC.",
                            until.format("%H:%M")
                        )),
                    ),
                ),
            )
                .into_response();
            let wait = (until - Utc::now()).num_seconds().max(1);
            if let Ok(value) = wait.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

fn signed_out(secure: bool) -> Response {
    let mut response = Redirect::to("/console/login").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(None, secure, 0));
    response
}

/// `POST /console/logout`: ends this session.
pub async fn logout(State(state): State<AppState>, console: ConsoleSession) -> Response {
    let id = console.session.id;
    let done = state
        .blocking("session", move |s| {
            Ok(s.store().sessions().revoke(id, Utc::now())?)
        })
        .await;
    match done {
        Ok(()) => signed_out(state.config().console.secure_cookie),
        Err(error) => error.into_response(),
    }
}

/// `POST /console/logout-everywhere`: ends every session of the user.
pub async fn logout_everywhere(State(state): State<AppState>, console: ConsoleSession) -> Response {
    let user = console.user.id;
    let done = state
        .blocking("session", move |s| {
            Ok(s.store().sessions().revoke_all(user, Utc::now())?)
        })
        .await;
    match done {
        Ok(_) => signed_out(state.config().console.secure_cookie),
        Err(error) => error.into_response(),
    }
}
