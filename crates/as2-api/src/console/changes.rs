//! What every console change goes through: the role check (a refusal is 403 and nothing is
//! done), the audit event with the user as its actor, the page of a change the API
//! refused, and the delete a confirmation page posts.

use std::fmt::Display;
use std::str::FromStr;

use as2_domain::audit::{Actor, ActorKind};
use as2_domain::user::ConsoleAction;
use as2_store::repo::audit::NewAuditEvent;
use as2_store::{Scope, Store, StoreResult};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
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

/// What a console delete deletes: its noun in a 404 ("Station"), its audit type ("station"),
/// its list (address, link text; the list names what was deleted) and its 404 page.
#[derive(Debug, Clone, Copy)]
pub struct Deleted {
    /// The noun the API's 404 uses.
    pub noun: &'static str,
    /// The audit event's resource type: `{resource_type}.delete`.
    pub resource_type: &'static str,
    /// The list the page goes back to.
    pub list: (&'static str, &'static str),
    /// The page of an id not in the session's tenant and mode.
    pub not_found: fn(&ConsoleSession) -> Response,
}

/// `POST /console/…/{raw}/delete`: the role check, then `delete` (the function the resource's
/// `DELETE /v1/…` route runs, so the same refusals) recorded as `{resource_type}.delete`, then
/// the list saying what was deleted; the 404 page for an id that is not one of the tenant's,
/// the API's sentence for a delete it refused (a 409 while the resource is in use).
pub async fn delete_then_list<Id, F>(
    state: &AppState,
    console: &ConsoleSession,
    raw: &str,
    what: Deleted,
    delete: F,
) -> Response
where
    Id: FromStr + Display + Send + 'static,
    F: FnOnce(&AppState, Scope, Id) -> Result<(), ApiError> + Send + 'static,
{
    let scope = match allowed(console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<Id>() else {
        return (what.not_found)(console);
    };
    let shown = id.to_string();
    let place = (what.noun, what.resource_type, shown.clone());
    let done = delete_recorded(state, console, scope, place, move |s| delete(s, scope, id)).await;
    match done {
        Ok(()) => Redirect::to(&format!("{}?deleted={shown}", what.list.0)).into_response(),
        Err(error) if error.status() == StatusCode::NOT_FOUND => (what.not_found)(console),
        Err(error) => refused(console, "Delete refused", &error, what.list),
    }
}
