//! The API keys page (admins and owners): the tenant's keys in the mode shown, creating a
//! tenant key (its secret shown once, on the page that made it) and revoking one. Account
//! keys are not shown or touched here. Every change is an audit event.

use std::collections::{BTreeSet, HashMap};

use as2_domain::ValidationErrors;
use as2_domain::api_key::{ApiKey, KeyKind, Scope as KeyScope, generate};
use as2_domain::id::ApiKeyId;
use as2_domain::pagination::PageRequest;
use as2_domain::user::ConsoleAction;
use as2_domain::validation::check_name;
use as2_store::repo::api_keys::NewApiKey;
use as2_store::{Scope, Store, StoreError};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::console::changes::{allowed, record};
use crate::console::layout::{csrf_field, page, when};
use crate::console::session::ConsoleSession;
use crate::error::ApiError;
use crate::state::AppState;

/// The scopes offered, and those checked on a fresh form.
const SCOPES: [(KeyScope, bool); 4] = [
    (KeyScope::Read, true),
    (KeyScope::Write, true),
    (KeyScope::Delete, true),
    (KeyScope::Admin, false),
];

fn keys(store: &Store, scope: Scope) -> Result<Vec<ApiKey>, StoreError> {
    let account = store
        .accounts()
        .tenant_for_operator(scope.tenant_id)?
        .account_id;
    let page = PageRequest {
        page: 1,
        per_page: 100,
    };
    Ok(store
        .api_keys()
        .list(account, scope.mode, Some(scope.tenant_id), page)?
        .0)
}

fn listing(console: &ConsoleSession, keys: &[ApiKey], notice: Option<Markup>) -> Markup {
    html! {
        @if let Some(notice) = notice { (notice) }
        @if keys.is_empty() {
            p { "No key of this tenant in this mode." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { (keys.len()) " keys of this tenant in " (console.session.mode) " mode" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Key" } th scope="col" { "Scopes" }
                    th scope="col" { "Last used" } th scope="col" { "Created" } th scope="col" { "State" }
                } }
                tbody {
                    @for k in keys {
                        tr {
                            td { (k.name) }
                            td { code { (k.display_prefix) "…" } }
                            td { @for (i, s) in k.scopes.iter().enumerate() { @if i > 0 { ", " } (s) } }
                            td { @if let Some(at) = k.last_used_at { (when(at)) } @else { "never" } }
                            td { (when(k.created_at)) }
                            td {
                                @if let Some(at) = k.revoked_at {
                                    "revoked " (when(at))
                                } @else {
                                    form method="post" action={ "/console/api-keys/" (k.id) "/revoke" } {
                                        (csrf_field(console))
                                        button type="submit" aria-label={ "Revoke " (k.name) } { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        h2 { "Create a key" }
        form method="post" action="/console/api-keys" {
            (csrf_field(console))
            div class="field" {
                label for="key-name" { "Name" }
                input id="key-name" name="name" required maxlength="255";
            }
            fieldset {
                legend { "Scopes" }
                @for (s, checked) in SCOPES {
                    label { input type="checkbox" name={ "scope_" (s) } value="true" checked[checked]; " " (s) }
                }
            }
            p { button type="submit" { "Create key" } }
        }
    }
}

async fn show(
    state: &AppState,
    console: &ConsoleSession,
    scope: Scope,
    status: StatusCode,
    notice: Option<Markup>,
) -> Response {
    let found = state
        .blocking("API key", move |s| Ok(keys(s.store(), scope)?))
        .await;
    match found {
        Ok(keys) => (
            status,
            page("API keys", Some(console), listing(console, &keys, notice)),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /console/api-keys`.
pub async fn list(State(state): State<AppState>, console: ConsoleSession) -> Response {
    match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => show(&state, &console, scope, StatusCode::OK, None).await,
        Err(refused) => *refused,
    }
}

/// `POST /console/api-keys`: a tenant key in the mode shown; the secret is on this answer only.
pub async fn create(
    State(state): State<AppState>,
    console: ConsoleSession,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let name = values
        .get("name")
        .map(|n| n.trim().to_owned())
        .unwrap_or_default();
    let scopes: BTreeSet<KeyScope> = SCOPES
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| values.contains_key(&format!("scope_{s}")))
        .collect();
    let mut errors = ValidationErrors::new();
    check_name(&mut errors, "name", "name", &name, 255);
    if scopes.is_empty() {
        errors.add("scopes", "Choose at least one scope");
    }
    if !errors.is_empty() {
        let sentences: Vec<String> = errors.fields().values().flatten().cloned().collect();
        let notice = html! { p class="error" role="alert" { (sentences.join(" ")) } };
        return show(
            &state,
            &console,
            scope,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(notice),
        )
        .await;
    }
    let generated = generate(KeyKind::Tenant, scope.mode);
    let secret = generated.secret.clone();
    let actor = console.clone();
    let shown_name = name.clone();
    let made = state
        .blocking("API key", move |s| {
            let store = s.store();
            let account = store
                .accounts()
                .tenant_for_operator(scope.tenant_id)?
                .account_id;
            let key = store.api_keys().create(&NewApiKey {
                account_id: account,
                tenant_id: Some(scope.tenant_id),
                kind: KeyKind::Tenant,
                mode: scope.mode,
                name: &name,
                scopes: &scopes,
                generated: &generated,
            })?;
            let id = key.id.to_string();
            let scopes: Vec<String> = scopes.iter().map(ToString::to_string).collect();
            let changes = serde_json::json!({"name": name, "scopes": scopes}).to_string();
            record(
                store,
                scope,
                &actor,
                "api_key.create",
                ("api_key", Some(id.as_str())),
                &changes,
            )?;
            Ok(())
        })
        .await;
    match made {
        Ok(()) => {
            let notice = html! {
                div role="status" {
                    p { "The key " strong { (shown_name) } " was created. Its secret, shown this once:" }
                    p { code id="new-secret" { (secret) } }
                }
            };
            show(&state, &console, scope, StatusCode::CREATED, Some(notice)).await
        }
        Err(error) => error.into_response(),
    }
}

/// `POST /console/api-keys/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<ApiKeyId>() else {
        return show(&state, &console, scope, StatusCode::NOT_FOUND, None).await;
    };
    let actor = console.clone();
    let done = state
        .blocking("API key", move |s| {
            let store = s.store();
            let account = store
                .accounts()
                .tenant_for_operator(scope.tenant_id)?
                .account_id;
            match store
                .api_keys()
                .revoke(account, scope.mode, Some(scope.tenant_id), id)
            {
                Ok(_) => {}
                Err(StoreError::NotFound) => return Ok(false),
                Err(other) => return Err(ApiError::from(other)),
            }
            let id = id.to_string();
            record(
                store,
                scope,
                &actor,
                "api_key.revoke",
                ("api_key", Some(id.as_str())),
                "{}",
            )?;
            Ok(true)
        })
        .await;
    match done {
        Ok(true) => Redirect::to("/console/api-keys").into_response(),
        Ok(false) => show(&state, &console, scope, StatusCode::NOT_FOUND, None).await,
        Err(error) => error.into_response(),
    }
}
