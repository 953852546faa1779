//! What every console change goes through: the role check (a refusal is 403 and nothing is
//! done), the audit event with the user as its actor, and the page of a change the API
//! refused.

use as2_domain::audit::{Actor, ActorKind};
use as2_domain::user::ConsoleAction;
use as2_store::repo::audit::NewAuditEvent;
use as2_store::{Scope, Store, StoreResult};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::layout::page;
use crate::console::session::ConsoleSession;
use crate::error::ApiError;
use crate::state::AppState;

/// The tenant and mode of a change `console`'s user may make, or the 403 page (boxed: an
/// answer is large beside a scope).
pub fn allowed(console: &ConsoleSession, action: ConsoleAction) -> Result<Scope, Box<Response>> {
    match (console.scope(), console.current.as_ref()) {
        (Some(scope), Some(membership)) if membership.role.may(action) => Ok(scope),
        _ => Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                page(
                    "Not allowed",
                    Some(console),
                    html! { p { "Your role in this tenant does not allow this change." } },
                ),
            )
                .into_response(),
        )),
    }
}

/// Records a console change in the audit log.
pub fn record(
    store: &Store,
    scope: Scope,
    console: &ConsoleSession,
    action: &str,
    resource: (&str, Option<&str>),
    changes: &str,
) -> StoreResult<()> {
    let actor = Actor {
        kind: ActorKind::User,
        id: console.user.id.to_string(),
        label: console.user.email.clone(),
    };
    store.audit().record(
        scope,
        &NewAuditEvent {
            actor: &actor,
            action,
            resource_type: resource.0,
            resource_id: resource.1,
            ip: console.ip.as_deref(),
            user_agent: console.user_agent.as_deref(),
            changes,
        },
    )?;
    Ok(())
}

/// The page of a change the API refused: its status and sentence (a `role="alert"`
/// paragraph; "not found" for what is not in the session's tenant and mode), and the link
/// `back` (address, text).
pub fn refused(
    console: &ConsoleSession,
    title: &str,
    error: &ApiError,
    back: (&str, &str),
) -> Response {
    let sentence = error.body()["message"]
        .as_str()
        .unwrap_or("The request was refused.")
        .to_owned();
    let content = html! {
        p class="error" role="alert" { (sentence) }
        p { a href=(back.0) { (back.1) } }
    };
    (error.status(), page(title, Some(console), content)).into_response()
}

/// Deletes a resource of `scope` through `delete` (the function its `DELETE /v1/…` route
/// runs) and records `{resource_type}.delete` with the user as the actor, in one blocking
/// task; `noun` names the resource in a 404.
pub async fn delete_recorded<F>(
    state: &AppState,
    console: &ConsoleSession,
    scope: Scope,
    (noun, resource_type, id): (&'static str, &'static str, String),
    delete: F,
) -> Result<(), ApiError>
where
    F: FnOnce(&AppState) -> Result<(), ApiError> + Send + 'static,
{
    let actor = console.clone();
    state
        .blocking(noun, move |s| {
            delete(s)?;
            let action = format!("{resource_type}.delete");
            let resource = (resource_type, Some(id.as_str()));
            record(s.store(), scope, &actor, &action, resource, "{}")?;
            Ok(())
        })
        .await
}
