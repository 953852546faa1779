//! Disabling, enabling and resetting the password of a tenant's user from the users page
//! (owners only), through [`crate::user_access::change_access`] and its rules (the account is
//! the owner's own or only in tenants they own; the last active owner is not disabled).
//! The new password is shown once on the page; every change is an audit event.

use as2_domain::id::UserId;
use as2_domain::user::ConsoleAction;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::console::changes::{allowed, record};
use crate::console::session::ConsoleSession;
use crate::console::users::{alert, show};
use crate::error::ApiError;
use crate::state::AppState;
use crate::user_access::{AccessChange, AccessChanged, AccessRefusal, change_access};

/// `POST /console/users/{id}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    act(state, console, raw, AccessChange::Disable).await
}

/// `POST /console/users/{id}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    act(state, console, raw, AccessChange::Enable).await
}

/// `POST /console/users/{id}/reset-password`.
pub async fn reset_password(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    act(state, console, raw, AccessChange::ResetPassword).await
}

/// How many sessions ended, as a sentence's end.
fn sessions(n: usize) -> String {
    match n {
        0 => "no session was open".to_owned(),
        1 => "the 1 open session ended".to_owned(),
        n => format!("the {n} open sessions ended"),
    }
}

/// What the owner reads after `change` was made.
fn said(console: &ConsoleSession, change: AccessChange, done: &AccessChanged) -> Markup {
    let email = &done.user.email;
    let own = done.user.id == console.user.id;
    let ended = done.sessions_ended;
    match (change, &done.password) {
        (AccessChange::ResetPassword, Some(password)) => html! {
            div role="status" {
                p { "The password of " (email) " was reset (" (sessions(ended)) "). Their new password, shown this once:" }
                p { code id="new-password" { (password) } }
                @if own {
                    p { "This session has ended too: sign in again with it." }
                } @else {
                    p { "Give it to them over a channel you trust; the old one no longer works." }
                }
            }
        },
        (AccessChange::Disable, _) => html! {
            p role="status" { (email) " is disabled: they cannot sign in (" (sessions(ended)) ")." }
        },
        _ => html! { p role="status" { (email) " may sign in again." } },
    }
}

async fn act(
    state: AppState,
    console: ConsoleSession,
    raw: String,
    change: AccessChange,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::ManageUsers) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(target) = raw.parse::<UserId>() else {
        let text = AccessRefusal::NotHere.to_string();
        return show(
            &state,
            &console,
            scope,
            StatusCode::NOT_FOUND,
            Some(alert(&text)),
        )
        .await;
    };
    let actor = console.clone();
    let done = state
        .blocking("user", move |s| {
            let store = s.store();
            let done = match change_access(store, actor.user.id, scope.tenant_id, target, change) {
                Ok(done) => done,
                Err(AccessRefusal::Store(error)) => return Err(error.into()),
                Err(AccessRefusal::Hash(error)) => return Err(ApiError::internal(&error)),
                Err(refusal) => return Ok(Err(refusal)),
            };
            let user = target.to_string();
            let changes = serde_json::json!({
                "email": done.user.email,
                "sessions_ended": done.sessions_ended,
            })
            .to_string();
            record(
                store,
                scope,
                &actor,
                change.action(),
                ("user", Some(user.as_str())),
                &changes,
            )?;
            Ok(Ok(done))
        })
        .await;
    let (status, notice) = match done {
        Ok(Ok(done)) => (StatusCode::OK, said(&console, change, &done)),
        Ok(Err(refusal)) => {
            let status = match refusal {
                AccessRefusal::NotHere => StatusCode::NOT_FOUND,
                _ => StatusCode::CONFLICT,
            };
            (status, alert(&refusal.to_string()))
        }
        Err(error) => return error.into_response(),
    };
    show(&state, &console, scope, status, Some(notice)).await
}
