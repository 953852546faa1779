//! Sending a message from the console (operators and up): a partner, a file and a subject as
//! `multipart/form-data` (the CSRF token its first field), read and queued by the functions
//! of `POST /v1/messages` (`read_multipart`, `enqueue`), then the new message's page; a
//! refusal shows the form again with the API's sentences beside the fields.

use as2_domain::pagination::PageRequest;
use as2_domain::partner::Partner;
use as2_domain::user::ConsoleAction;
use as2_store::Scope;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::console::changes::{allowed, record};
use crate::console::csrf;
use crate::console::layout::{csrf_field, page};
use crate::console::session::ConsoleSession;
use crate::error::{ApiError, FieldErrors};
use crate::routes::message_create::{MessageInput, enqueue, read_multipart};
use crate::state::AppState;

/// The form's fields: the API's name, label, hint.
const FIELDS: [(&str, &str, &str); 3] = [
    (
        "partner_id",
        "Partner",
        "An active partner of this tenant and mode, ready to send to",
    ),
    (
        "file",
        "File",
        "The payload; its name and type go with it (the type from its extension)",
    ),
    ("subject", "Subject", "Optional; at most 998 characters"),
];

/// The active partners of `scope` (the first 100), the form's choices.
fn partners(state: &AppState, scope: Scope) -> Result<Vec<Partner>, ApiError> {
    let page = PageRequest {
        page: 1,
        per_page: 100,
    };
    let (partners, _) = state.store().partners().list(scope, None, page)?;
    Ok(partners.into_iter().filter(|p| p.settings.active).collect())
}

fn described(name: &str, errors: &FieldErrors) -> String {
    if errors.contains_key(name) {
        format!("{name}-hint {name}-error")
    } else {
        format!("{name}-hint")
    }
}

fn control(name: &str, partners: &[Partner], input: &MessageInput, errors: &FieldErrors) -> Markup {
    let invalid = errors.contains_key(name).then_some("true");
    let describedby = described(name, errors);
    match name {
        "partner_id" => {
            let chosen = input.partner_id.as_deref().unwrap_or_default();
            html! {
                select id=(name) name=(name) aria-describedby=(describedby) aria-invalid=[invalid] {
                    option value="" { "Choose a partner" }
                    @for p in partners {
                        @let id = p.id.to_string();
                        option value=(id) selected[id == chosen] { (p.settings.name) " (" (p.settings.as2_id) ")" }
                    }
                }
            }
        }
        "file" => html! {
            input id=(name) name=(name) type="file" aria-describedby=(describedby) aria-invalid=[invalid];
        },
        _ => html! {
            input id=(name) name=(name) type="text" value=[input.subject.as_deref()]
                aria-describedby=(describedby) aria-invalid=[invalid];
        },
    }
}

/// The form, with what was typed (`input`, the file excepted) and the API's sentences.
fn form(
    console: &ConsoleSession,
    partners: &[Partner],
    input: &MessageInput,
    errors: &FieldErrors,
) -> Markup {
    html! {
        p { a href="/console/messages" { "All messages" } }
        @if !errors.is_empty() {
            div class="error" role="alert" id="form-errors" {
                p { "Nothing was sent: correct the fields marked below." }
            }
        }
        @if partners.is_empty() {
            p { "No active partner: add one before sending." }
        }
        form method="post" action="/console/messages/new" enctype="multipart/form-data" novalidate {
            (csrf_field(console))
            @for (name, label, hint) in FIELDS {
                div class="field" {
                    label for=(name) { (label) }
                    (control(name, partners, input, errors))
                    small id={ (name) "-hint" } { (hint) }
                    @if let Some(sentences) = errors.get(name) {
                        p class="error" id={ (name) "-error" } { @for s in sentences { (s) " " } }
                    }
                }
            }
            p { button type="submit" { "Send" } }
        }
    }
}

/// The page with the form, answered with `status`.
async fn render(
    state: &AppState,
    console: &ConsoleSession,
    scope: Scope,
    shown: (&MessageInput, &FieldErrors),
    status: StatusCode,
) -> Response {
    let partners = match state.blocking("Partner", move |s| partners(s, scope)).await {
        Ok(partners) => partners,
        Err(error) => return error.into_response(),
    };
    let (input, errors) = shown;
    let content = form(console, &partners, input, errors);
    (status, page("Send a message", Some(console), content)).into_response()
}

/// `GET /console/messages/new` (operators and up).
pub async fn new(State(state): State<AppState>, console: ConsoleSession) -> Response {
    let scope = match allowed(&console, ConsoleAction::OperateMessages) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let shown = (&MessageInput::default(), &FieldErrors::new());
    render(&state, &console, scope, shown, StatusCode::OK).await
}

/// `POST /console/messages/new` (multipart: `csrf_token` first, `partner_id`, `file`,
/// `subject`): queues the message as `POST /v1/messages` does and shows its page, or the form
/// again with the API's sentences; `message.create` in the audit log.
pub async fn send(
    State(state): State<AppState>,
    console: ConsoleSession,
    request: Request,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::OperateMessages) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let limit = state.config().max_message_bytes.min(csrf::MAX_UPLOAD);
    let mut input = MessageInput::default();
    let read = read_multipart(&state, request, limit, &[csrf::FIELD], &mut input).await;
    let actor = console.clone();
    let queued = match read {
        Ok((fields, payload)) => {
            state
                .blocking("Message", move |s| {
                    let message = enqueue(s, scope, &fields, &payload)?;
                    let changes = serde_json::json!({
                        "partner_id": message.partner_id.to_string(),
                        "filename": message.filename,
                        "bytes": message.bytes,
                        "subject": message.subject,
                    });
                    let id = message.id.to_string();
                    record(
                        s.store(),
                        scope,
                        &actor,
                        "message.create",
                        ("message", Some(id.as_str())),
                        &changes.to_string(),
                    )?;
                    Ok(message)
                })
                .await
        }
        Err(error) => Err(error),
    };
    let error = match queued {
        Ok(message) => {
            return Redirect::to(&format!("/console/messages/{}", message.id)).into_response();
        }
        Err(error) => error,
    };
    // a sentence naming no field (too large, unreadable) is the file's
    let errors = error.field_errors().cloned().unwrap_or_else(|| {
        let body = error.body();
        let sentence = body["message"]
            .as_str()
            .unwrap_or("The message was not sent");
        FieldErrors::from([("file".to_owned(), vec![sentence.to_owned()])])
    });
    render(&state, &console, scope, (&input, &errors), error.status()).await
}
