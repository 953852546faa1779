//! A message's support actions from the console, each through the function its API route
//! runs: retry a message under its own Message-ID, send a delivered or failed one again as a
//! new message, cancel a queued one, post a received message's asynchronous MDN again
//! (operators and up, audited), and download its evidence of delivery (every role).

use as2_domain::id::MessageId;
use as2_domain::user::ConsoleAction;
use as2_domain::webhook::EventType;
use as2_store::{Announce, Scope};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::console::changes::{allowed, record};
use crate::console::layout::page;
use crate::console::session::ConsoleSession;
use crate::error::ApiError;
use crate::routes::message_evidence::evidence_response;
use crate::routes::message_support::resend;
use crate::routes::messages::retry;
use crate::state::AppState;

/// One support action: what it is called, in the audit log and on a refusal's page.
#[derive(Debug, Clone, Copy)]
enum Action {
    Retry,
    Resend,
    Cancel,
    ResendMdn,
}

impl Action {
    fn audit(self) -> &'static str {
        match self {
            Self::Retry => "message.retry",
            Self::Resend => "message.resend",
            Self::Cancel => "message.cancel",
            Self::ResendMdn => "message.mdn_resend",
        }
    }

    fn refused(self) -> &'static str {
        match self {
            Self::Retry => "Retry refused",
            Self::Resend => "Resend refused",
            Self::Cancel => "Cancel refused",
            Self::ResendMdn => "MDN resend refused",
        }
    }

    /// Runs the action on message `id`; the message whose page comes next.
    fn run(self, s: &AppState, scope: Scope, id: MessageId) -> Result<MessageId, ApiError> {
        let messages = s.store().messages();
        match self {
            Self::Retry => Ok(retry(s, scope, id)?.id),
            Self::Resend => Ok(resend(s, scope, id)?.id),
            Self::Cancel => {
                let failed = Announce::new(EventType::MessageFailed);
                Ok(messages.cancel(scope, id, Some(&failed))?.id)
            }
            Self::ResendMdn => {
                messages.resend_async_mdn(scope, id)?;
                Ok(id)
            }
        }
    }
}

/// `POST /console/messages/{id}/retry`: an outbound message queued again.
pub async fn retry_message(
    state: State<AppState>,
    console: ConsoleSession,
    raw: Path<String>,
) -> Response {
    act(state, console, raw, Action::Retry).await
}

/// `POST /console/messages/{id}/resend`: a new message with the same payload.
pub async fn resend_message(
    state: State<AppState>,
    console: ConsoleSession,
    raw: Path<String>,
) -> Response {
    act(state, console, raw, Action::Resend).await
}

/// `POST /console/messages/{id}/cancel`: a queued message stopped before it is sent.
pub async fn cancel(
    state: State<AppState>,
    console: ConsoleSession,
    raw: Path<String>,
) -> Response {
    act(state, console, raw, Action::Cancel).await
}

/// `POST /console/messages/{id}/mdn-resend`: a received message's async MDN posted again.
pub async fn resend_mdn(
    state: State<AppState>,
    console: ConsoleSession,
    raw: Path<String>,
) -> Response {
    act(state, console, raw, Action::ResendMdn).await
}

async fn act(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    action: Action,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::OperateMessages) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<MessageId>() else {
        return refusal(&console, action.refused(), &ApiError::not_found("Message"));
    };
    let actor = console.clone();
    let done = state
        .blocking("Message", move |s| {
            let next = action.run(s, scope, id)?;
            let details = serde_json::json!({ "message": next.to_string() }).to_string();
            record(
                s.store(),
                scope,
                &actor,
                action.audit(),
                ("message", Some(id.to_string().as_str())),
                &details,
            )?;
            Ok(next)
        })
        .await;
    match done {
        Ok(next) => Redirect::to(&format!("/console/messages/{next}")).into_response(),
        Err(error) => refusal(&console, action.refused(), &error),
    }
}

/// The page titled `title` of a refused request: the API's status and sentence.
fn refusal(console: &ConsoleSession, title: &str, error: &ApiError) -> Response {
    let sentence = error.body()["message"]
        .as_str()
        .unwrap_or("The request was refused.")
        .to_owned();
    (
        error.status(),
        page(
            title,
            Some(console),
            html! { p class="error" role="alert" { (sentence) } },
        ),
    )
        .into_response()
}

/// `GET /console/messages/{id}/evidence`: the evidence zip `GET /v1/messages/{id}/evidence`
/// serves (a download, never rendered).
pub async fn evidence(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let (Some(scope), Ok(id)) = (console.scope(), raw.parse::<MessageId>()) else {
        return refusal(&console, "No evidence", &ApiError::not_found("Message"));
    };
    match evidence_response(&state, scope, id).await {
        Ok(response) => response,
        Err(error) => refusal(&console, "No evidence", &error),
    }
}
