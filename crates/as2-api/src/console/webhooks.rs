//! The webhooks page: the tenant's endpoints in the mode shown and, under each, its latest
//! deliveries with their status, attempts, answer and error, so a failing endpoint is seen
//! at once; "New endpoint" and "Edit" links for admins and owners (`webhook_edit.rs`).
//! Secrets are never shown here.

use as2_domain::pagination::PageRequest;
use as2_domain::webhook::WebhookEndpoint;
use as2_store::repo::webhooks::Delivery;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use as2_domain::user::ConsoleAction;

use crate::console::layout::{page, when};
use crate::console::session::ConsoleSession;
use crate::state::AppState;

/// Deliveries shown per endpoint.
const SHOWN: i64 = 10;

fn deliveries(endpoint: &WebhookEndpoint, list: &[Delivery], total: i64) -> Markup {
    html! {
        @if list.is_empty() {
            p { "No delivery yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { "The last " (list.len()) " of " (total) " deliveries to " (endpoint.settings.url) }
                thead { tr {
                    th scope="col" { "Event" } th scope="col" { "Status" } th scope="col" { "Attempts" }
                    th scope="col" { "Answer" } th scope="col" { "Error" } th scope="col" { "Created" }
                } }
                tbody {
                    @for d in list {
                        tr {
                            td { (d.event_type) }
                            td { @if d.status == "failed" { strong class="error" { (d.status) } } @else { (d.status) } }
                            td { (d.attempts) }
                            td { @if let Some(code) = d.response_status { (code) } }
                            td { (d.error.as_deref().unwrap_or("")) }
                            td { (when(d.created_at)) }
                        }
                    }
                }
            } }
        }
    }
}

/// `GET /console/webhooks`.
pub async fn list(State(state): State<AppState>, console: ConsoleSession) -> Response {
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
    let may_edit = console
        .current
        .as_ref()
        .is_some_and(|m| m.role.may(ConsoleAction::Configure));
    let content = html! {
        @if may_edit {
            p { a href="/console/webhooks/new" { "New endpoint" } }
        }
        @if endpoints.is_empty() {
            p { "No webhook endpoint in this tenant and mode." }
        }
        @for (endpoint, list, total) in &endpoints {
            section aria-labelledby={ "wh-" (endpoint.id) } {
                h2 id={ "wh-" (endpoint.id) } { (endpoint.settings.url) }
                p {
                    @if endpoint.settings.active { "Active" } @else { "Inactive" }
                    @if let Some(description) = &endpoint.settings.description { " · " (description) }
                    " · events: "
                    @if endpoint.settings.events.is_empty() { "all" } @else { (endpoint.settings.events.join(", ")) }
                }
                @if may_edit {
                    p { a href={ "/console/webhooks/" (endpoint.id) "/edit" } { "Edit" span class="visually-hidden" { " " (endpoint.settings.url) } } }
                }
                (deliveries(endpoint, list, *total))
            }
        }
    };
    page("Webhooks", Some(&console), content).into_response()
}
