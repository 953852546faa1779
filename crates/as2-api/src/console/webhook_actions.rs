//! A webhook endpoint's actions from the console (admins and owners), each through the
//! function its API route runs: delete the endpoint (after a confirmation page), send it a
//! test event, redeliver one of its deliveries. Each is an audit event named as the API's
//! audit layer names its route; the list page says what was done.

use as2_domain::id::{WebhookDeliveryId, WebhookEndpointId};
use as2_domain::user::ConsoleAction;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::console::changes::{allowed, delete_recorded, record};
use crate::console::layout::{csrf_field, page};
use crate::console::session::ConsoleSession;
use crate::error::ApiError;
use crate::routes::webhook_deliveries::{redeliver, send_test_event};
use crate::routes::webhooks::delete_webhook;
use crate::state::AppState;

/// The page of a refused action: the API's status and sentence ("not found" for an endpoint
/// or delivery not in the session's tenant and mode).
fn refusal(console: &ConsoleSession, title: &str, error: &ApiError) -> Response {
    let sentence = error.body()["message"]
        .as_str()
        .unwrap_or("The request was refused.")
        .to_owned();
    let content = html! {
        p class="error" role="alert" { (sentence) }
        p { a href="/console/webhooks" { "All webhook endpoints" } }
    };
    (error.status(), page(title, Some(console), content)).into_response()
}

fn endpoint_id(raw: &str) -> Result<WebhookEndpointId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found("Webhook endpoint"))
}

/// `GET /console/webhooks/{id}/delete`: what deleting the endpoint does, and the button.
pub async fn confirm_delete(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let found = match endpoint_id(&raw) {
        Ok(id) => {
            state
                .blocking("Webhook endpoint", move |s| {
                    Ok(s.store().webhooks().get(scope, id)?)
                })
                .await
        }
        Err(error) => Err(error),
    };
    let endpoint = match found {
        Ok(endpoint) => endpoint,
        Err(error) => return refusal(&console, "Webhook endpoint not found", &error),
    };
    let content = html! {
        p {
            "Delete the endpoint " strong { (endpoint.settings.url) } " (" (endpoint.id) ")? "
            "No event is sent to it any more and its deliveries are no longer listed; "
            "this cannot be undone (pausing it, on its Edit page, can)."
        }
        form method="post" action={ "/console/webhooks/" (endpoint.id) "/delete" } {
            (csrf_field(&console))
            p { button type="submit" { "Delete endpoint" } }
        }
        p { a href="/console/webhooks" { "Keep it: all webhook endpoints" } }
    };
    page("Delete webhook endpoint", Some(&console), content).into_response()
}

/// `POST /console/webhooks/{id}/delete`: deletes the endpoint; the list says so.
pub async fn delete(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let id = match endpoint_id(&raw) {
        Ok(id) => id,
        Err(error) => return refusal(&console, "Webhook endpoint not found", &error),
    };
    let place = ("Webhook endpoint", "webhook_endpoint", id.to_string());
    let done = delete_recorded(&state, &console, scope, place, move |s| {
        delete_webhook(s, scope, id)
    })
    .await;
    match done {
        Ok(()) => Redirect::to(&format!("/console/webhooks?deleted={id}")).into_response(),
        Err(error) => refusal(&console, "Delete refused", &error),
    }
}

/// `POST /console/webhooks/{id}/test`: a `webhook.test` event for this endpoint alone.
pub async fn test(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let id = match endpoint_id(&raw) {
        Ok(id) => id,
        Err(error) => return refusal(&console, "Webhook endpoint not found", &error),
    };
    let actor = console.clone();
    let done = state
        .blocking("Webhook endpoint", move |s| {
            let event = send_test_event(s, scope, id)?;
            let changes = serde_json::json!({ "event_id": event.to_string() }).to_string();
            let id = id.to_string();
            record(
                s.store(),
                scope,
                &actor,
                "webhook_endpoint.test",
                ("webhook_endpoint", Some(id.as_str())),
                &changes,
            )?;
            Ok(())
        })
        .await;
    match done {
        Ok(()) => Redirect::to(&format!("/console/webhooks?tested={id}")).into_response(),
        Err(error) => refusal(&console, "Test event refused", &error),
    }
}

/// `POST /console/webhooks/{id}/deliveries/{delivery}/redeliver`: a new delivery of the
/// same event, linked to the one it repeats.
pub async fn redeliver_delivery(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path((raw, raw_delivery)): Path<(String, String)>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let ids = endpoint_id(&raw).and_then(|id| {
        raw_delivery
            .parse::<WebhookDeliveryId>()
            .map(|delivery| (id, delivery))
            .map_err(|_| ApiError::not_found("Webhook delivery"))
    });
    let (id, delivery) = match ids {
        Ok(ids) => ids,
        Err(error) => return refusal(&console, "Webhook delivery not found", &error),
    };
    let actor = console.clone();
    let done = state
        .blocking("Webhook delivery", move |s| {
            let made = redeliver(s, scope, id, delivery)?;
            let changes = serde_json::json!({
                "delivery_id": delivery.to_string(),
                "new_delivery_id": made.id.to_string(),
            })
            .to_string();
            let id = id.to_string();
            record(
                s.store(),
                scope,
                &actor,
                "webhook_endpoint.deliveries.redeliver",
                ("webhook_endpoint", Some(id.as_str())),
                &changes,
            )?;
            Ok(made.id)
        })
        .await;
    match done {
        Ok(made) => Redirect::to(&format!("/console/webhooks?redelivered={made}")).into_response(),
        Err(error) if error.status() == StatusCode::NOT_FOUND => {
            refusal(&console, "Webhook delivery not found", &error)
        }
        Err(error) => refusal(&console, "Redelivery refused", &error),
    }
}
