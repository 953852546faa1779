//! The overview page: who and where the user is, and the latest changes in the tenant and
//! mode shown (from the audit log, scoped like every page).

use as2_domain::pagination::PageRequest;
use as2_store::repo::audit::AuditFilter;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::layout::{page, when};
use crate::console::session::ConsoleSession;
use crate::state::AppState;

/// `GET /console`.
pub async fn page_handler(State(state): State<AppState>, console: ConsoleSession) -> Response {
    let Some(scope) = console.scope() else {
        let content = html! {
            p { "You do not belong to any tenant yet. Ask an owner to add you." }
        };
        return page("Overview", Some(&console), content).into_response();
    };
    let recent = state
        .blocking("audit event", move |s| {
            let page = PageRequest {
                page: 1,
                per_page: 10,
            };
            Ok(s.store()
                .audit()
                .list(scope, &AuditFilter::default(), page)?)
        })
        .await;
    let (events, total) = match recent {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let role = console
        .current
        .as_ref()
        .map(|m| m.role.to_string())
        .unwrap_or_default();
    let tenant = console
        .current
        .as_ref()
        .map(|m| m.tenant_name.clone())
        .unwrap_or_default();
    let content = html! {
        p { "Tenant " strong { (tenant) } ", " strong { (console.session.mode) } " mode. Your role: " strong { (role) } "." }
        h2 { "Latest changes" }
        @if events.is_empty() {
            p { "No change yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { "The last " (events.len()) " of " (total) " changes" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "Resource" } } }
                tbody {
                    @for e in &events {
                        tr {
                            td { (when(e.created_at)) }
                            td { (e.actor.label) }
                            td { (e.action) }
                            td { (e.resource_id.as_deref().unwrap_or(&e.resource_type)) }
                        }
                    }
                }
            } }
        }
    };
    page("Overview", Some(&console), content).into_response()
}
