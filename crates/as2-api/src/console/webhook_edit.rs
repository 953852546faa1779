//! Creating and editing webhook endpoints (admins and owners) through the API's own
//! `create_webhook` and `save_webhook` (every setting as shown, like `PUT
//! /v1/webhook-endpoints/{id}`), the API's sentences beside the fields; the signing secret
//! shown once, on the page that created the endpoint; every change an audit event.

use std::collections::HashMap;

use as2_domain::id::WebhookEndpointId;
use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::console::changes::{allowed, record};
use crate::console::layout::{not_found_page, page};
use crate::console::partners::recorded;
use crate::console::session::ConsoleSession;
use crate::console::webhook_form::{WebhookForm, form, input_of, values_of};
use crate::error::{ApiError, FieldErrors};
use crate::routes::webhooks::{create_webhook, save_webhook};
use crate::state::AppState;

const CREATING: WebhookForm<'static> = WebhookForm {
    action: "/console/webhooks",
    submit: "Create endpoint",
    failed: "The endpoint was not created",
};

fn editing(action: &str) -> WebhookForm<'_> {
    WebhookForm {
        action,
        submit: "Save endpoint",
        failed: "The endpoint was not saved",
    }
}

/// The 404 page of an endpoint not in the session's tenant and mode.
fn not_found(console: &ConsoleSession) -> Response {
    not_found_page(console, "webhook endpoint")
}

/// The form again with the API's sentences (422), or the error's own page.
fn refused(
    console: &ConsoleSession,
    error: ApiError,
    spec: &WebhookForm<'_>,
    title: &str,
    values: &HashMap<String, String>,
) -> Response {
    if error.status() == StatusCode::NOT_FOUND {
        return not_found(console);
    }
    let Some(errors) = error.field_errors() else {
        return error.into_response();
    };
    let content = form(console, spec, values, errors);
    (error.status(), page(title, Some(console), content)).into_response()
}

/// `GET /console/webhooks/new`.
pub async fn new(console: ConsoleSession) -> Response {
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let values = HashMap::from([
        ("active".to_owned(), "true".to_owned()),
        ("events".to_owned(), "*".to_owned()),
    ]);
    let content = form(&console, &CREATING, &values, &FieldErrors::new());
    page("New webhook endpoint", Some(&console), content).into_response()
}

/// `POST /console/webhooks`: creates the endpoint and shows its secret this once, or shows
/// the form again with the API's sentences beside the fields.
pub async fn create(
    State(state): State<AppState>,
    console: ConsoleSession,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let input = input_of(&values);
    let changes = recorded(&values);
    let actor = console.clone();
    let made = state
        .blocking("Webhook endpoint", move |s| {
            let (endpoint, secret) = create_webhook(s, scope, input)?;
            let id = endpoint.id.to_string();
            record(
                s.store(),
                scope,
                &actor,
                "webhook_endpoint.create",
                ("webhook_endpoint", Some(id.as_str())),
                &changes,
            )?;
            Ok((endpoint, secret))
        })
        .await;
    match made {
        Ok((endpoint, secret)) => {
            let content = html! {
                div role="status" {
                    p { "The endpoint " strong { (endpoint.settings.url) } " was created. Its signing secret, shown this once:" }
                    p { code id="new-secret" { (secret) } }
                    p { "Store it now: deliveries are signed with it and it cannot be read again." }
                }
                p { a href="/console/webhooks" { "All webhook endpoints" } }
            };
            (
                StatusCode::CREATED,
                page("Webhook endpoint created", Some(&console), content),
            )
                .into_response()
        }
        Err(error) => refused(&console, error, &CREATING, "New webhook endpoint", &values),
    }
}

/// `GET /console/webhooks/{id}/edit`.
pub async fn edit(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<WebhookEndpointId>() else {
        return not_found(&console);
    };
    let found = state
        .blocking("Webhook endpoint", move |s| {
            Ok(s.store().webhooks().get(scope, id)?)
        })
        .await;
    match found {
        Ok(endpoint) => {
            let action = format!("/console/webhooks/{id}/edit");
            let content = form(
                &console,
                &editing(&action),
                &values_of(&endpoint),
                &FieldErrors::new(),
            );
            page("Edit webhook endpoint", Some(&console), content).into_response()
        }
        Err(error) if error.status() == StatusCode::NOT_FOUND => not_found(&console),
        Err(error) => error.into_response(),
    }
}

/// `POST /console/webhooks/{id}/edit`: saves every setting as shown (the secret kept), or
/// shows the form again with the API's sentences beside the fields.
pub async fn save(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<WebhookEndpointId>() else {
        return not_found(&console);
    };
    let input = input_of(&values);
    let changes = recorded(&values);
    let actor = console.clone();
    let saved = state
        .blocking("Webhook endpoint", move |s| {
            save_webhook(s, scope, id, input, true)?;
            let id = id.to_string();
            record(
                s.store(),
                scope,
                &actor,
                "webhook_endpoint.update",
                ("webhook_endpoint", Some(id.as_str())),
                &changes,
            )?;
            Ok(())
        })
        .await;
    match saved {
        Ok(()) => Redirect::to("/console/webhooks").into_response(),
        Err(error) => {
            let action = format!("/console/webhooks/{id}/edit");
            refused(
                &console,
                error,
                &editing(&action),
                "Edit webhook endpoint",
                &values,
            )
        }
    }
}
