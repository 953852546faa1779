//! The users page of a tenant (owners only): its users, their roles and whether they may
//! sign in, adding a user (a new one gets a generated password, shown once; an existing one
//! is given the role here), changing a role and taking a user out of the tenant (disabling,
//! enabling and password resets: `user_actions.rs`). The tenant always keeps an active
//! owner. Every change is an audit event with the owner as actor.

use std::collections::HashMap;

use as2_domain::id::UserId;
use as2_domain::pagination::PageRequest;
use as2_domain::user::{ConsoleAction, Role, User, normalize_email};
use as2_store::{Scope, Store, StoreError};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::console::changes::{allowed, record};
use crate::console::layout::{csrf_field, page, when};
use crate::console::session::ConsoleSession;
use crate::console_users::{UserCreateError, create_user};
use crate::error::ApiError;
use crate::state::AppState;

fn members(store: &Store, scope: Scope) -> Result<Vec<(User, Role)>, StoreError> {
    let page = PageRequest {
        page: 1,
        per_page: 100,
    };
    Ok(store.users().of_tenant(scope.tenant_id, page)?.0)
}

fn role_select(id: &str, chosen: Option<Role>) -> Markup {
    html! {
        select id=(id) name="role" {
            @for role in Role::ALL {
                option value=(role) selected[chosen == Some(*role)] { (role) }
            }
        }
    }
}

fn listing(console: &ConsoleSession, users: &[(User, Role)], notice: Option<Markup>) -> Markup {
    html! {
        @if let Some(notice) = notice { (notice) }
        div class="table" tabindex="0" { table {
            caption { (users.len()) " users" }
            thead { tr {
                th scope="col" { "Email" } th scope="col" { "Name" } th scope="col" { "Role" }
                th scope="col" { "Sign-in" } th scope="col" { "Remove" }
            } }
            tbody {
                @for (user, role) in users {
                    tr {
                        td { (user.email) }
                        td { (user.name) }
                        td {
                            form class="inline" method="post" action={ "/console/users/" (user.id) "/role" } {
                                (csrf_field(console))
                                label class="visually-hidden" for={ "role-" (user.id) } { "Role of " (user.email) }
                                (role_select(&format!("role-{}", user.id), Some(*role)))
                                button type="submit" { "Change role" }
                            }
                        }
                        td { (access_cell(console, user)) }
                        td {
                            form method="post" action={ "/console/users/" (user.id) "/remove" } {
                                (csrf_field(console))
                                button type="submit" aria-label={ "Remove " (user.email) } { "Remove" }
                            }
                        }
                    }
                }
            }
        } }
        h2 { "Add a user" }
        form method="post" action="/console/users" {
            (csrf_field(console))
            div class="field" {
                label for="new-email" { "Email" }
                input id="new-email" name="email" type="email" required;
            }
            div class="field" {
                label for="new-name" { "Name" }
                input id="new-name" name="name";
            }
            div class="field" {
                label for="new-role" { "Role" }
                (role_select("new-role", Some(Role::Viewer)))
            }
            p { button type="submit" { "Add user" } }
        }
    }
}

/// Whether `user` may sign in, and the buttons that change it: disable or enable, and
/// reset the password.
fn access_cell(console: &ConsoleSession, user: &User) -> Markup {
    let (path, label) = if user.disabled_at.is_some() {
        ("enable", "Enable")
    } else {
        ("disable", "Disable")
    };
    html! {
        @if let Some(at) = user.disabled_at { strong { "Disabled" } " since " (when(at)) } @else { "Allowed" }
        form class="inline" method="post" action={ "/console/users/" (user.id) "/" (path) } {
            (csrf_field(console))
            button type="submit" aria-label={ (label) " " (user.email) } { (label) }
        }
        form class="inline" method="post" action={ "/console/users/" (user.id) "/reset-password" } {
            (csrf_field(console))
            button type="submit" aria-label={ "Reset the password of " (user.email) } { "Reset password" }
        }
    }
}

/// The page with `notice` above the list (`status` as given).
pub(crate) async fn show(
    state: &AppState,
    console: &ConsoleSession,
    scope: Scope,
    status: StatusCode,
    notice: Option<Markup>,
) -> Response {
    let found = state
        .blocking("user", move |s| Ok(members(s.store(), scope)?))
        .await;
    match found {
        Ok(users) => (
            status,
            page("Users", Some(console), listing(console, &users, notice)),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

pub(crate) fn alert(text: &str) -> Markup {
    html! { p class="error" role="alert" { (text) } }
}

/// `GET /console/users`.
pub async fn list(State(state): State<AppState>, console: ConsoleSession) -> Response {
    match allowed(&console, ConsoleAction::ManageUsers) {
        Ok(scope) => show(&state, &console, scope, StatusCode::OK, None).await,
        Err(refused) => *refused,
    }
}

/// What adding a user did.
enum Added {
    /// A new user, and the password to show once.
    New(String),
    /// An existing user, given the role here.
    Existing,
}

/// `POST /console/users`.
pub async fn add(
    State(state): State<AppState>,
    console: ConsoleSession,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::ManageUsers) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let email = values.get("email").cloned().unwrap_or_default();
    let name = values.get("name").cloned().unwrap_or_default();
    let Some(role) = values.get("role").and_then(|r| r.parse::<Role>().ok()) else {
        return show(
            &state,
            &console,
            scope,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(alert("Choose a role: owner, admin, operator or viewer.")),
        )
        .await;
    };
    let actor = console.clone();
    let shown_email = email.trim().to_lowercase();
    let done = state
        .blocking("user", move |s| {
            let store = s.store();
            let (user, added) = match create_user(store, &email, &name, None, scope.tenant_id, role)
            {
                Ok(made) => (
                    made.user,
                    Added::New(made.generated_password.unwrap_or_default()),
                ),
                Err(UserCreateError::Taken) => {
                    let email = normalize_email(&email).unwrap_or_default();
                    let (user, _) = store.users().credentials(&email)?;
                    store.users().set_role(user.id, scope.tenant_id, role)?;
                    (user, Added::Existing)
                }
                Err(UserCreateError::Invalid(errors)) => {
                    return Err(ApiError::validation(errors.fields().clone()));
                }
                Err(other) => {
                    return Err(ApiError::field("email", other.to_string()));
                }
            };
            let id = user.id.to_string();
            let changes =
                serde_json::json!({"email": user.email, "role": role.to_string()}).to_string();
            record(
                store,
                scope,
                &actor,
                "user.add",
                ("user", Some(id.as_str())),
                &changes,
            )?;
            Ok(added)
        })
        .await;
    let notice = match done {
        Ok(Added::New(password)) => html! {
            div role="status" {
                p { (shown_email) " was added as " (role) ". Their password, shown this once: " }
                p { code id="new-password" { (password) } }
                p { "Give it to them over a channel you trust; they sign in at /console/login." }
            }
        },
        Ok(Added::Existing) => html! {
            p role="status" { (shown_email) " already had an account and is now " (role) " here." }
        },
        Err(error) => {
            let sentences: Vec<String> = error
                .field_errors()
                .map(|f| f.values().flatten().cloned().collect())
                .unwrap_or_default();
            let text = if sentences.is_empty() {
                "The user was not added.".to_owned()
            } else {
                sentences.join(" ")
            };
            return show(
                &state,
                &console,
                scope,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(alert(&text)),
            )
            .await;
        }
    };
    show(&state, &console, scope, StatusCode::OK, Some(notice)).await
}

/// Whether taking the owner role from `user` (or the user out) would leave no active owner
/// (a disabled owner cannot sign in to act).
fn last_owner(users: &[(User, Role)], user: UserId) -> bool {
    !users
        .iter()
        .any(|(u, role)| *role == Role::Owner && u.id != user && u.disabled_at.is_none())
}

/// A change of one user's membership: a new role, or `None` to take the user out.
async fn change(
    state: AppState,
    console: ConsoleSession,
    raw: String,
    role: Option<Role>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::ManageUsers) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<UserId>() else {
        return show(
            &state,
            &console,
            scope,
            StatusCode::NOT_FOUND,
            Some(alert("No such user here.")),
        )
        .await;
    };
    let actor = console.clone();
    let done = state
        .blocking("user", move |s| {
            let store = s.store();
            let users = members(store, scope)?;
            if !users.iter().any(|(u, _)| u.id == id) {
                return Ok(Some("No such user here."));
            }
            // the check again under the tenant's lock, with the change (two owners at once)
            let keeps_an_owner = !(role != Some(Role::Owner) && last_owner(&users, id))
                && store.users().change_membership(id, scope.tenant_id, role)?;
            if !keeps_an_owner {
                return Ok(Some(
                    "The tenant must keep one owner: make another user owner first.",
                ));
            }
            let (action, changes) = match role {
                Some(role) => (
                    "user.role",
                    serde_json::json!({ "role": role.to_string() }).to_string(),
                ),
                None => ("user.remove", "{}".to_owned()),
            };
            let user = id.to_string();
            record(
                store,
                scope,
                &actor,
                action,
                ("user", Some(user.as_str())),
                &changes,
            )?;
            Ok(None)
        })
        .await;
    match done {
        Ok(None) => Redirect::to("/console/users").into_response(),
        Ok(Some(refusal)) => {
            show(
                &state,
                &console,
                scope,
                StatusCode::CONFLICT,
                Some(alert(refusal)),
            )
            .await
        }
        Err(error) => error.into_response(),
    }
}

/// `POST /console/users/{id}/role`.
pub async fn set_role(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    match values.get("role").and_then(|r| r.parse::<Role>().ok()) {
        Some(role) => change(state, console, raw, Some(role)).await,
        None => (StatusCode::UNPROCESSABLE_ENTITY, "Choose a role").into_response(),
    }
}

/// `POST /console/users/{id}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    change(state, console, raw, None).await
}
