//! The messages pages: the list with its filters (`message_filters.rs`) and one message's
//! detail (`message_detail.rs`), both scoped to the session's tenant and mode:
//! another tenant's message is "not found", exactly like one that does not exist.

use std::collections::HashMap;

use as2_domain::id::MessageId;
use as2_domain::pagination::PageRequest;
use as2_domain::user::ConsoleAction;
use as2_domain::webhook::EventType;
use as2_store::Announce;
use as2_store::StoreError;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::console::changes::{allowed, record};
use crate::console::layout::{page, when};
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
    (
        StatusCode::NOT_FOUND,
        page(
            "Message not found",
            Some(console),
            html! { p { "There is no such message in this tenant and mode." } },
        ),
    )
        .into_response()
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

/// `POST /console/messages/{id}/retry`: queues an outbound message again (operators and up).
pub async fn retry(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::OperateMessages) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<MessageId>() else {
        return not_found(&console);
    };
    let actor = console.clone();
    let done = state
        .blocking("message", move |s| {
            let store = s.store();
            let message = match store.messages().get(scope, id) {
                Ok(message) => message,
                Err(StoreError::NotFound) => return Ok(false),
                Err(other) => return Err(other.into()),
            };
            let attempts = match store.partners().get(scope, message.partner_id) {
                Ok(p) => p.settings.retry_attempts.saturating_add(1),
                Err(StoreError::NotFound) => 1,
                Err(e) => return Err(e.into()),
            };
            let queued = Announce::new(EventType::MessageQueued);
            store
                .messages()
                .requeue(scope, id, attempts, Some(&queued))?;
            let id = id.to_string();
            record(
                store,
                scope,
                &actor,
                "message.retry",
                ("message", Some(id.as_str())),
                "{}",
            )?;
            Ok(true)
        })
        .await;
    match done {
        Ok(true) => Redirect::to(&format!("/console/messages/{id}")).into_response(),
        Ok(false) => not_found(&console),
        Err(error) => {
            let status = error.status();
            (
                status,
                page(
                    "Retry refused",
                    Some(&console),
                    html! { p class="error" role="alert" { (error.body()["message"].as_str().unwrap_or("The retry was refused.")) } },
                ),
            )
                .into_response()
        }
    }
}
