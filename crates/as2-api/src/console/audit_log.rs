//! The audit log page: the tenant's changes in the session's mode, newest first, filtered
//! by action or resource id.

use std::collections::HashMap;

use as2_domain::pagination::PageRequest;
use as2_store::repo::audit::AuditFilter;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::layout::{page, when};
use crate::console::session::ConsoleSession;
use crate::state::AppState;

/// `GET /console/audit`.
pub async fn list(
    State(state): State<AppState>,
    console: ConsoleSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(scope) = console.scope() else {
        return page("Audit log", Some(&console), html! { p { "No tenant." } }).into_response();
    };
    let text = |name: &str| {
        query
            .get(name)
            .map(|v| v.trim().chars().take(128).collect::<String>())
            .filter(|v| !v.is_empty())
    };
    let filter = AuditFilter {
        action: text("action"),
        resource_id: text("resource_id"),
        ..AuditFilter::default()
    };
    let found = state
        .blocking("audit event", move |s| {
            let page = PageRequest {
                page: 1,
                per_page: 100,
            };
            Ok(s.store().audit().list(scope, &filter, page)?)
        })
        .await;
    let (events, total) = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let content = html! {
        form class="filters" method="get" action="/console/audit" aria-label="Filter the audit log" {
            div class="field" {
                label for="a-action" { "Action" }
                input id="a-action" name="action" value=[query.get("action")];
            }
            div class="field" {
                label for="a-resource" { "Resource id" }
                input id="a-resource" name="resource_id" value=[query.get("resource_id")];
            }
            div class="field" { button type="submit" { "Filter" } }
        }
        @if events.is_empty() {
            p { "No change matches." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { (events.len()) " of " (total) " changes, newest first" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                    th scope="col" { "Resource" } th scope="col" { "From" } th scope="col" { "Fields" }
                } }
                tbody {
                    @for e in &events {
                        tr {
                            td { (when(e.created_at)) }
                            td { (e.actor.label) " (" (e.actor.id) ")" }
                            td { (e.action) }
                            td { (e.resource_type) " " (e.resource_id.as_deref().unwrap_or("")) }
                            td { (e.ip.as_deref().unwrap_or("")) }
                            td { code { (e.changes) } }
                        }
                    }
                }
            } }
        }
    };
    page("Audit log", Some(&console), content).into_response()
}
