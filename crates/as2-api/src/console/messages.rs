//! The messages pages: the list with its filters (status, direction, AS2 Message-ID,
//! filename, subject) and one message's detail, both scoped to the session's tenant and mode:
//! another tenant's message is "not found", exactly like one that does not exist.

use std::collections::HashMap;

use as2_domain::id::MessageId;
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::user::ConsoleAction;
use as2_domain::webhook::EventType;
use as2_store::Announce;
use as2_store::StoreError;
use as2_store::repo::messages::MessageFilter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::console::changes::{allowed, record};
use crate::console::layout::{page, when};
use crate::console::message_detail::{self, Detail};
use crate::console::session::ConsoleSession;
use crate::error::ApiError;
use crate::state::AppState;

/// A text filter of the query, trimmed, when not empty.
fn text(query: &HashMap<String, String>, name: &str) -> Option<String> {
    query
        .get(name)
        .map(|v| v.trim().chars().take(256).collect::<String>())
        .filter(|v| !v.is_empty())
}

fn filters(query: &HashMap<String, String>) -> MessageFilter {
    MessageFilter {
        status: text(query, "status").and_then(|s| s.parse().ok()),
        direction: text(query, "direction").and_then(|s| s.parse().ok()),
        as2_message_id: text(query, "message_id"),
        filename: text(query, "filename"),
        subject: text(query, "subject"),
        ..MessageFilter::default()
    }
}

fn filter_form(query: &HashMap<String, String>) -> Markup {
    let chosen = |name: &str, value: &str| query.get(name).is_some_and(|v| v == value);
    html! {
        form class="filters" method="get" action="/console/messages" aria-label="Filter messages" {
            div class="field" {
                label for="f-status" { "Status" }
                select id="f-status" name="status" {
                    option value="" { "any" }
                    @for s in MessageStatus::ALL {
                        option value=(s) selected[chosen("status", s.as_str())] { (s) }
                    }
                }
            }
            div class="field" {
                label for="f-direction" { "Direction" }
                select id="f-direction" name="direction" {
                    option value="" { "any" }
                    @for d in Direction::ALL {
                        option value=(d) selected[chosen("direction", d.as_str())] { (d) }
                    }
                }
            }
            div class="field" {
                label for="f-mid" { "AS2 Message-ID" }
                input id="f-mid" name="message_id" value=[query.get("message_id")];
            }
            div class="field" {
                label for="f-file" { "File name contains" }
                input id="f-file" name="filename" value=[query.get("filename")];
            }
            div class="field" {
                label for="f-subject" { "Subject contains" }
                input id="f-subject" name="subject" value=[query.get("subject")];
            }
            div class="field" { button type="submit" { "Filter" } }
        }
    }
}

/// `GET /console/messages`.
pub async fn list(
    State(state): State<AppState>,
    console: ConsoleSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(scope) = console.scope() else {
        return page("Messages", Some(&console), html! { p { "No tenant." } }).into_response();
    };
    let filter = filters(&query);
    let found = state
        .blocking("message", move |s| {
            Ok(s.store()
                .messages()
                .list(scope, filter, PageRequest::default())?)
        })
        .await;
    let (messages, total) = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let content = html! {
        (filter_form(&query))
        @if messages.is_empty() {
            p { "No message matches." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { (messages.len()) " of " (total) " messages, newest first" }
                thead { tr {
                    th scope="col" { "Message" } th scope="col" { "Direction" }
                    th scope="col" { "Status" } th scope="col" { "File" } th scope="col" { "Created" }
                } }
                tbody {
                    @for m in &messages {
                        tr {
                            td { a href={ "/console/messages/" (m.id) } { (m.id) } }
                            td { (m.direction) }
                            td { (m.status) }
                            td { (m.filename.as_deref().unwrap_or("")) }
                            td { (when(m.created_at)) }
                        }
                    }
                }
            } }
        }
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
