//! The partners pages: the tenant's partners in the session's mode, and the form that
//! creates one (admins and owners) through the API's own path (`save_partner`), so the
//! console shows the API's validation sentences beside the fields they name.

use std::collections::{BTreeMap, HashMap};

use as2_domain::audit::REDACTED;
use as2_domain::pagination::PageRequest;
use as2_domain::partner::Partner;
use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::console::changes::{allowed, record};
use crate::console::csrf::FIELD;
use crate::console::layout::{csrf_field, page, when};
use crate::console::session::ConsoleSession;
use crate::error::{ApiError, FieldErrors};
use crate::routes::partner_input::PartnerInput;
use crate::routes::partners::save_partner;
use crate::state::AppState;

/// The text fields of the form: name, label, input type, hint.
const TEXT_FIELDS: [(&str, &str, &str, &str); 4] = [
    ("name", "Name", "text", "How the partner is shown"),
    (
        "as2_id",
        "AS2 ID",
        "text",
        "Their AS2 identifier: 1 to 128 printable characters, no spaces",
    ),
    (
        "url",
        "AS2 URL",
        "url",
        "Their AS2 endpoint (HTTPS in live mode)",
    ),
    ("email", "Contact email", "email", "Optional"),
];

/// The checkboxes of the form: name, label.
const CHECKBOXES: [(&str, &str); 3] = [
    ("sign", "Sign our messages"),
    ("encrypt", "Encrypt our messages"),
    ("compress", "Compress our messages"),
];

/// `GET /console/partners`.
pub async fn list(State(state): State<AppState>, console: ConsoleSession) -> Response {
    let Some(scope) = console.scope() else {
        return page("Partners", Some(&console), html! { p { "No tenant." } }).into_response();
    };
    let found = state
        .blocking("Partner", move |s| {
            let page = PageRequest {
                page: 1,
                per_page: 100,
            };
            Ok(s.store().partners().list(scope, None, page)?)
        })
        .await;
    let (partners, total) = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let may_create = may(&console, ConsoleAction::Configure);
    let may_test = may(&console, ConsoleAction::OperateMessages);
    let content = html! {
        @if may_create {
            p { a href="/console/partners/new" { "New partner" } }
        }
        @if partners.is_empty() {
            p { "No partner yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { (partners.len()) " of " (total) " partners" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "AS2 ID" } th scope="col" { "URL" }
                    th scope="col" { "Station" } th scope="col" { "Active" } th scope="col" { "Created" }
                    th scope="col" { "Settings" }
                } }
                tbody {
                    @for p in &partners { (row(p, may_create, may_test)) }
                }
            } }
        }
    };
    page("Partners", Some(&console), content).into_response()
}

fn row(p: &Partner, may_edit: bool, may_test: bool) -> Markup {
    html! {
        tr {
            td { (p.settings.name) }
            td { code { (p.settings.as2_id) } }
            td { (p.settings.url) }
            td { (p.settings.station_id) }
            td { @if p.settings.active { "yes" } @else { "no" } }
            td { (when(p.created_at)) }
            td { a href={ "/console/partners/" (p.id) "/trust" } { "Trust lifecycle" span class="visually-hidden" { " of " (p.settings.name) } }
                @if may_edit {
                    br; a href={ "/console/partners/" (p.id) "/edit" } { "Edit" span class="visually-hidden" { " " (p.settings.name) } }
                }
                @if may_test && !p.settings.url.trim().is_empty() {
                    br; a href={ "/console/partners/" (p.id) "/test" } { "Test the connection" span class="visually-hidden" { " to " (p.settings.name) } }
                }
            }
        }
    }
}

/// Whether the user's role in the tenant shown allows `action`.
fn may(console: &ConsoleSession, action: ConsoleAction) -> bool {
    console.current.as_ref().is_some_and(|m| m.role.may(action))
}

/// The form, filled with `values` (a fresh form signs and encrypts), each field followed by
/// its sentences from `errors`; sentences for fields the form does not show come first.
fn form(
    console: &ConsoleSession,
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> Markup {
    let shown: Vec<&str> = TEXT_FIELDS
        .iter()
        .map(|f| f.0)
        .chain(CHECKBOXES.iter().map(|c| c.0))
        .collect();
    let other: BTreeMap<&String, &Vec<String>> = errors
        .iter()
        .filter(|(field, _)| !shown.contains(&field.as_str()))
        .collect();
    let fresh = values.is_empty();
    html! {
        @if !errors.is_empty() {
            div class="error" role="alert" id="form-errors" {
                p { "The partner was not created: correct the fields marked below." }
                @if !other.is_empty() {
                    ul { @for (field, sentences) in &other { @for s in *sentences { li { (field) ": " (s) } } } }
                }
            }
        }
        form method="post" action="/console/partners" novalidate {
            (csrf_field(console))
            @for (name, label, kind, hint) in TEXT_FIELDS {
                @let sentences = errors.get(name);
                @let described = if sentences.is_some() { format!("{name}-hint {name}-error") } else { format!("{name}-hint") };
                div class="field" {
                    label for=(name) { (label) }
                    input id=(name) name=(name) type=(kind) value=[values.get(name)]
                        aria-describedby=(described) aria-invalid=[sentences.map(|_| "true")];
                    small id={ (name) "-hint" } { (hint) }
                    @if let Some(sentences) = sentences {
                        p class="error" id={ (name) "-error" } {
                            @for s in sentences { (s) " " }
                        }
                    }
                }
            }
            fieldset {
                legend { "Outbound messages" }
                @for (name, label) in CHECKBOXES {
                    label {
                        input type="checkbox" name=(name) value="true"
                            checked[fresh || values.contains_key(name)];
                        " " (label)
                    }
                }
            }
            p { button type="submit" { "Create partner" } }
        }
    }
}

/// `GET /console/partners/new` (admins and owners).
pub async fn new(console: ConsoleSession) -> Response {
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let content = form(&console, &HashMap::new(), &FieldErrors::new());
    page("New partner", Some(&console), content).into_response()
}

/// The API's partner body from the form's fields (checkboxes: present means on).
fn input_of(values: &HashMap<String, String>) -> PartnerInput {
    let text = |name: &str| values.get(name).map(|v| v.trim().to_owned());
    let checked = |name: &str| Some(values.contains_key(name));
    PartnerInput {
        name: text("name"),
        as2_id: text("as2_id"),
        url: text("url"),
        email: text("email").filter(|e| !e.is_empty()),
        sign: checked("sign"),
        encrypt: checked("encrypt"),
        compress: checked("compress"),
        ..PartnerInput::default()
    }
}

/// What the audit log keeps of the form: its fields, without the CSRF token.
pub fn recorded(values: &HashMap<String, String>) -> String {
    let fields: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .filter(|(name, _)| name.as_str() != FIELD)
        .map(|(name, value)| {
            let value = if as2_domain::audit::is_secret_field(name) {
                REDACTED.to_owned()
            } else {
                value.chars().take(512).collect()
            };
            (name.clone(), serde_json::Value::String(value))
        })
        .collect();
    serde_json::Value::Object(fields).to_string()
}

/// `POST /console/partners`: creates the partner, or shows the form again with the API's
/// sentences beside the fields (422).
pub async fn create(
    State(state): State<AppState>,
    console: ConsoleSession,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let input = input_of(&values);
    let changes = recorded(&values);
    let actor = console.clone();
    let saved = state
        .blocking("Partner", move |s| {
            let partner = save_partner(s, scope, None, input, true)?;
            let id = partner.id.to_string();
            record(
                s.store(),
                scope,
                &actor,
                "partner.create",
                ("partner", Some(id.as_str())),
                &changes,
            )
            .map_err(ApiError::from)?;
            Ok(partner)
        })
        .await;
    match saved {
        Ok(_) => Redirect::to("/console/partners").into_response(),
        Err(error) => match error.field_errors() {
            Some(errors) => {
                let content = form(&console, &values, errors);
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page("New partner", Some(&console), content),
                )
                    .into_response()
            }
            None => {
                let body = error.body();
                let message = body["message"]
                    .as_str()
                    .unwrap_or("The partner was not created");
                let content = html! { p class="error" role="alert" { (message) } };
                (
                    error.status(),
                    page("Partner not created", Some(&console), content),
                )
                    .into_response()
            }
        },
    }
}
