//! The messages pages: the list with its filters (`message_filters.rs`) and one message's
//! detail (`message_detail.rs`), both scoped to the session's tenant and mode:
//! another tenant's message is "not found", exactly like one that does not exist.

use std::collections::HashMap;

use as2_domain::id::MessageId;
use as2_domain::pagination::PageRequest;
use as2_domain::user::ConsoleAction;
use as2_store::StoreError;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::layout::{not_found_page, page, when};
use crate::console::message_detail::{self, Detail};
use crate::console::message_export;
use crate::console::message_filters;
use crate::console::session::ConsoleSession;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /console/messages`.
pub async fn list(
    State(state): State<AppState>,
    console: ConsoleSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(scope) = console.scope() else {
        return page("Messages", Some(&console), html! { p { "No tenant." } }).into_response();
    };
    let filter = message_filters::filters(&query);
    let found = state
        .blocking("message", move |s| {
            let store = s.store();
            let choices = PageRequest {
                page: 1,
                per_page: 100,
            };
            let (partners, _) = store.partners().list(scope, None, choices)?;
            let (stations, _) = store.stations().list(scope, choices)?;
            let found = store
                .messages()
                .list(scope, filter, PageRequest::default())?;
            Ok((found, partners, stations))
        })
        .await;
    let ((messages, total), partners, stations) = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let may_send = console
        .current
        .as_ref()
        .is_some_and(|m| m.role.may(ConsoleAction::OperateMessages));
    let content = html! {
        @if may_send {
            p { a href="/console/messages/new" { "Send a message" } }
        }
        (message_filters::form(&query, &partners, &stations))
        @if messages.is_empty() {
            p { "No message matches." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { (messages.len()) " of " (total) " messages, newest first" }
                thead { tr {
                    th scope="col" { "Message" } th scope="col" { "Direction" } th scope="col" { "Partner" }
                    th scope="col" { "Status" } th scope="col" { "File" } th scope="col" { "Created" }
                } }
                tbody {
                    @for m in &messages {
                        tr {
                            td { a href={ "/console/messages/" (m.id) } { (m.id) } }
                            td { (m.direction) }
                            td {
                                @match partners.iter().find(|p| p.id == m.partner_id) {
                                    Some(p) => (p.settings.name),
                                    None => (m.partner_id),
                                }
                            }
                            td { (m.status) }
                            td { (m.filename.as_deref().unwrap_or("")) }
                            td { (when(m.created_at)) }
                        }
                    }
                }
            } }
        }
    };
    let content = html! {
        (content)
        (message_export::form(&HashMap::new(), &crate::error::FieldErrors::new()))
    };
    page("Messages", Some(&console), content).into_response()
}

fn not_found(console: &ConsoleSession) -> Response {
    not_found_page(console, "message")
}

/// `GET /console/messages/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let (Some(scope), Ok(id)) = (console.scope(), raw.parse::<MessageId>()) else {
        return not_found(&console);
    };
    let found = state
        .blocking("message", move |s| {
            let messages = s.store().messages();
            let message = match messages.get(scope, id) {
                Ok(message) => message,
                Err(StoreError::NotFound) => return Ok(None),
                Err(other) => return Err(ApiError::from(other)),
            };
            let events = messages.events(scope, id)?;
            let mdn = messages.mdn(scope, id)?;
            let raw_mdn = mdn.is_some() && messages.mdn_raw(scope, id)?.is_some();
            Ok(Some(Detail {
                message,
                events,
                mdn,
                raw_mdn,
            }))
        })
        .await;
    match found {
        Ok(Some(detail)) => {
            let title = format!("Message {}", detail.message.id);
            page(
                &title,
                Some(&console),
                message_detail::markup(&console, &detail),
            )
            .into_response()
        }
        Ok(None) => not_found(&console),
        Err(error) => error.into_response(),
    }
}
