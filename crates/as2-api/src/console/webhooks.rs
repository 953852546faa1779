//! The webhooks page: the tenant's endpoints in the mode shown and, under each, its latest
//! deliveries with their status, attempts, answer and error, so a failing endpoint is seen
//! at once; for admins and owners the links and buttons of `webhook_edit.rs` and
//! `webhook_actions.rs` (new, edit, delete, test event, redeliver), and the sentence saying
//! what the last of those did. Secrets are never shown here.

use std::collections::HashMap;

use as2_domain::id::{WebhookDeliveryId, WebhookEndpointId};
use as2_domain::pagination::PageRequest;
use as2_domain::webhook::WebhookEndpoint;
use as2_store::repo::webhooks::Delivery;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use as2_domain::user::ConsoleAction;

use crate::console::layout::{csrf_field, page, when};
use crate::console::session::ConsoleSession;
use crate::routes::webhook_deliveries::{REDELIVERY_QUEUED, TEST_QUEUED};
use crate::state::AppState;

/// Deliveries shown per endpoint.
const SHOWN: i64 = 10;

/// An endpoint with its latest deliveries and their total.
type Shown = (WebhookEndpoint, Vec<Delivery>, i64);

/// The redeliver button of `d` (a form of its own: the CSRF token and one button).
fn redeliver_button(console: &ConsoleSession, d: &Delivery) -> Markup {
    html! {
        form class="inline" method="post"
            action={ "/console/webhooks/" (d.endpoint_id) "/deliveries/" (d.id) "/redeliver" } {
            (csrf_field(console))
            button type="submit" { "Redeliver" span class="visually-hidden" { " " (d.id) } }
        }
    }
}

fn deliveries(console: &ConsoleSession, shown: &Shown, may_act: bool) -> Markup {
    let (endpoint, list, total) = shown;
    let redeliverable = may_act && endpoint.settings.active;
    html! {
        @if list.is_empty() {
            p { "No delivery yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { "The last " (list.len()) " of " (total) " deliveries to " (endpoint.settings.url) }
                thead { tr {
                    th scope="col" { "Delivery" } th scope="col" { "Event" } th scope="col" { "Status" }
                    th scope="col" { "Attempts" } th scope="col" { "Answer" } th scope="col" { "Error" }
                    th scope="col" { "Created" }
                    @if redeliverable { th scope="col" { "Redeliver" } }
                } }
                tbody {
                    @for d in list {
                        tr {
                            td {
                                (d.id)
                                @if let Some(original) = d.redelivery_of { br; small { "redelivery of " (original) } }
                            }
                            td { (d.event_type) }
                            td { @if d.status == "failed" { strong class="error" { (d.status) } } @else { (d.status) } }
                            td { (d.attempts) }
                            td { @if let Some(code) = d.response_status { (code) } }
                            td { (d.error.as_deref().unwrap_or("")) }
                            td { (when(d.created_at)) }
                            @if redeliverable { td { (redeliver_button(console, d)) } }
                        }
                    }
                }
            } }
        }
    }
}

/// What an action just did, said from what is stored now (a made-up query says nothing).
fn notice(query: &HashMap<String, String>, shown: &[Shown]) -> Option<Markup> {
    let get = |name: &str| query.get(name).map(String::as_str);
    if let Some(id) = get("deleted").and_then(|v| v.parse::<WebhookEndpointId>().ok())
        && !shown.iter().any(|(e, _, _)| e.id == id)
    {
        return Some(html! { p role="status" { "The webhook endpoint " (id) " was deleted." } });
    }
    if let Some(id) = get("tested").and_then(|v| v.parse::<WebhookEndpointId>().ok())
        && let Some((endpoint, _, _)) = shown.iter().find(|(e, _, _)| e.id == id)
    {
        return Some(html! {
            p role="status" { (TEST_QUEUED) " to " (endpoint.settings.url) ": its delivery is listed under it." }
        });
    }
    let id = get("redelivered").and_then(|v| v.parse::<WebhookDeliveryId>().ok())?;
    let (endpoint, delivery) = shown.iter().find_map(|(e, list, _)| {
        list.iter()
            .find(|d| d.id == id && d.redelivery_of.is_some())
            .map(|d| (e, d))
    })?;
    Some(html! {
        p role="status" {
            (REDELIVERY_QUEUED) ": " (delivery.id) " delivers the " (delivery.event_type) " event of "
            (delivery.redelivery_of.map(|o| o.to_string()).unwrap_or_default()) " to " (endpoint.settings.url) " again."
        }
    })
}

/// An endpoint's heading, settings and, for admins and owners, its links and buttons.
fn endpoint_section(console: &ConsoleSession, shown: &Shown, may_act: bool) -> Markup {
    let endpoint = &shown.0;
    let url = &endpoint.settings.url;
    html! {
        section aria-labelledby={ "wh-" (endpoint.id) } {
            h2 id={ "wh-" (endpoint.id) } { (url) }
            p {
                (endpoint.id) " · "
                @if endpoint.settings.active { "Active" } @else { "Inactive" }
                @if let Some(description) = &endpoint.settings.description { " · " (description) }
                " · events: "
                @if endpoint.settings.events.is_empty() { "all" } @else { (endpoint.settings.events.join(", ")) }
            }
            @if may_act {
                div {
                    p {
                        a href={ "/console/webhooks/" (endpoint.id) "/edit" } { "Edit" span class="visually-hidden" { " " (url) } }
                        " · "
                        a href={ "/console/webhooks/" (endpoint.id) "/delete" } { "Delete" span class="visually-hidden" { " " (url) } }
                    }
                    @if endpoint.settings.active {
                        form class="inline" method="post" action={ "/console/webhooks/" (endpoint.id) "/test" } {
                            (csrf_field(console))
                            button type="submit" { "Send test event" span class="visually-hidden" { " to " (url) } }
                        }
                    } @else {
                        p { small { "Paused: turn it on (Edit) to send it a test event or redeliver." } }
                    }
                }
            }
            (deliveries(console, shown, may_act))
        }
    }
}

/// `GET /console/webhooks` (`?deleted=`, `?tested=`, `?redelivered=` after an action).
pub async fn list(
    State(state): State<AppState>,
    console: ConsoleSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(scope) = console.scope() else {
        return page("Webhooks", Some(&console), html! { p { "No tenant." } }).into_response();
    };
    let found = state
        .blocking("Webhook endpoint", move |s| {
            let webhooks = s.store().webhooks();
            let (endpoints, _) = webhooks.list(
                scope,
                PageRequest {
                    page: 1,
                    per_page: 50,
                },
            )?;
            let mut shown = Vec::new();
            for endpoint in endpoints {
                let (list, total) = webhooks.deliveries(
                    scope,
                    endpoint.id,
                    PageRequest {
                        page: 1,
                        per_page: SHOWN,
                    },
                )?;
                shown.push((endpoint, list, total));
            }
            Ok(shown)
        })
        .await;
    let endpoints = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let may_act = console
        .current
        .as_ref()
        .is_some_and(|m| m.role.may(ConsoleAction::Configure));
    let content = html! {
        @if let Some(notice) = notice(&query, &endpoints) { (notice) }
        @if may_act {
            p { a href="/console/webhooks/new" { "New endpoint" } }
        }
        @if endpoints.is_empty() {
            p { "No webhook endpoint in this tenant and mode." }
        }
        @for shown in &endpoints {
            (endpoint_section(&console, shown, may_act))
        }
    };
    page("Webhooks", Some(&console), content).into_response()
}
