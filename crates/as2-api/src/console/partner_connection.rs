//! A partner's connection test from the console (operators and up, like
//! `POST /v1/partners/{id}/test`, which needs the `write` scope): a form with the optional
//! test message and its wait, run through the route's own `run_test`, and the report: each
//! step with its sentence and outcome, the certificate the partner presented, and the test
//! message linked to its page. A test that answered is audited as `partner.test`, as the API's
//! audit layer records it.

use std::collections::HashMap;

use as2_domain::id::PartnerId;
use as2_domain::partner::Partner;
use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::console::changes::{allowed, record};
use crate::console::layout::{csrf_field, page, when};
use crate::console::partners::recorded;
use crate::console::session::ConsoleSession;
use crate::console::trust::{Holder, not_found};
use crate::error::{ApiError, FieldErrors};
use crate::routes::partner_test::{ConnectionTestDto, run_test};
use crate::routes::partner_test_message::{ConnectionTestInput, MAX_WAIT_SECS, TEST_FILENAME};
use crate::state::AppState;

/// `GET /console/partners/{id}/test`: the form (operators and up).
pub async fn show(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::OperateMessages) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<PartnerId>() else {
        return not_found(&console, Holder::Partner);
    };
    let found = state
        .blocking("Partner", move |s| {
            Ok(s.store().partners().get(scope, id)?)
        })
        .await;
    match found {
        Ok(partner) => render(
            &console,
            &partner,
            &HashMap::new(),
            &Outcome::None,
            StatusCode::OK,
        ),
        Err(error) => failure(&console, &error),
    }
}

/// `POST /console/partners/{id}/test`: runs the test and shows its report under the form; a
/// wrong wait or a partner the API cannot test shows the form with the API's sentences (422).
pub async fn run(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::OperateMessages) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<PartnerId>() else {
        return not_found(&console, Holder::Partner);
    };
    let partner = match state
        .blocking("Partner", move |s| {
            Ok(s.store().partners().get(scope, id)?)
        })
        .await
    {
        Ok(partner) => partner,
        Err(error) => return failure(&console, &error),
    };
    let refused = |errors: FieldErrors| {
        let outcome = Outcome::Refused(errors);
        render(
            &console,
            &partner,
            &values,
            &outcome,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let wait = match input_of(&values).and_then(|input| input.message_wait()) {
        Ok(wait) => wait,
        Err(error) => return refused(field_errors(&error)),
    };
    let report = match run_test(&state, scope, id, wait).await {
        Ok(report) => report,
        Err(error) if error.field_errors().is_some() => return refused(field_errors(&error)),
        Err(error) => return failure(&console, &error),
    };
    let changes = recorded(&values);
    let actor = console.clone();
    let audited = state
        .blocking("audit event", move |s| {
            let id = id.to_string();
            let resource = ("partner", Some(id.as_str()));
            record(s.store(), scope, &actor, "partner.test", resource, &changes)?;
            Ok(())
        })
        .await;
    if let Err(error) = audited {
        return failure(&console, &error);
    }
    render(
        &console,
        &partner,
        &values,
        &Outcome::Report(report),
        StatusCode::OK,
    )
}

/// What the page shows under the form.
enum Outcome {
    /// Nothing yet.
    None,
    /// The API's sentences, by field.
    Refused(FieldErrors),
    /// The test's report.
    Report(ConnectionTestDto),
}

/// The API's body from the form: the box checked or not, the wait as typed (empty: the
/// API's default); a wait that is no whole number is the API's `wait_secs` refusal.
fn input_of(values: &HashMap<String, String>) -> Result<ConnectionTestInput, ApiError> {
    let wait = values
        .get("wait_secs")
        .map(|w| w.trim())
        .filter(|w| !w.is_empty());
    let wait_secs = match wait {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            ApiError::field(
                "wait_secs",
                format!("The wait is 1 to {MAX_WAIT_SECS} seconds"),
            )
        })?),
    };
    Ok(ConnectionTestInput {
        send_message: Some(values.contains_key("send_message")),
        wait_secs,
    })
}

/// A field refusal's sentences (any other refusal's message under `_`).
fn field_errors(error: &ApiError) -> FieldErrors {
    error.field_errors().cloned().unwrap_or_else(|| {
        let message = error.body()["message"]
            .as_str()
            .unwrap_or("The request was refused")
            .to_owned();
        FieldErrors::from([("_".to_owned(), vec![message])])
    })
}

/// A refused or failed request as a page (404 for a partner not in the tenant and mode).
fn failure(console: &ConsoleSession, error: &ApiError) -> Response {
    if error.status() == StatusCode::NOT_FOUND {
        return not_found(console, Holder::Partner);
    }
    let body = error.body();
    let message = body["message"].as_str().unwrap_or("The request failed");
    (
        error.status(),
        page(
            "Connection test",
            Some(console),
            html! { p class="error" role="alert" { (message) } },
        ),
    )
        .into_response()
}

/// The page: the form with `values`, then the refusal or the report.
fn render(
    console: &ConsoleSession,
    partner: &Partner,
    values: &HashMap<String, String>,
    outcome: &Outcome,
    status: StatusCode,
) -> Response {
    let title = format!("Test the connection to {}", partner.settings.name);
    let errors = match outcome {
        Outcome::Refused(errors) => Some(errors),
        _ => None,
    };
    let content = html! {
        @if let Some(errors) = errors {
            div class="error" role="alert" id="form-errors" {
                p { "The test was not run:" }
                ul { @for (field, sentences) in errors { @for s in sentences {
                    li { @if field != "_" { (field) ": " } (s) }
                } } }
            }
        }
        p { "URL: " code { (partner.settings.url) } }
        (form(console, partner, values, errors))
        @if let Outcome::Report(report) = outcome { (report_of(report)) }
    };
    (status, page(&title, Some(console), content)).into_response()
}

fn form(
    console: &ConsoleSession,
    partner: &Partner,
    values: &HashMap<String, String>,
    errors: Option<&FieldErrors>,
) -> Markup {
    let wait_error = errors.and_then(|e| e.get("wait_secs"));
    html! {
        form method="post" action={ "/console/partners/" (partner.id) "/test" } novalidate {
            (csrf_field(console))
            p id="test-hint" {
                "The test resolves the URL's host, connects, and for HTTPS completes the TLS "
                "handshake with the partner's TLS settings. Nothing is sent to the partner unless "
                "you ask for the test message: it reaches the partner as a real message named "
                code { (TEST_FILENAME) } ", signed and encrypted as the partner's settings say."
            }
            label {
                input type="checkbox" name="send_message" value="true"
                    aria-describedby="test-hint" checked[values.contains_key("send_message")];
                " Also send a test message"
            }
            div class="field" {
                label for="wait_secs" { "Wait for the test message (seconds)" }
                input id="wait_secs" name="wait_secs" type="number" min="1" max=(MAX_WAIT_SECS)
                    value=(values.get("wait_secs").map_or("30", String::as_str))
                    aria-describedby={ "wait_secs-hint" @if wait_error.is_some() { " wait_secs-error" } }
                    aria-invalid=[wait_error.map(|_| "true")];
                small id="wait_secs-hint" {
                    "1 to " (MAX_WAIT_SECS) " seconds; a message still under way then is reported with its link."
                }
                @if let Some(sentences) = wait_error {
                    p class="error" id="wait_secs-error" { @for s in sentences { (s) " " } }
                }
            }
            p { button type="submit" { "Test the connection" } }
        }
    }
}

/// The report: the outcome, each step, the certificate and the test message.
fn report_of(report: &ConnectionTestDto) -> Markup {
    html! {
        section aria-labelledby="report-heading" {
            h2 id="report-heading" { "Result" }
            @if report.ok {
                p role="status" { (report.summary()) }
            } @else {
                p class="error" role="alert" { (report.summary()) }
            }
            div class="table" tabindex="0" { table {
                caption { "The steps of the test of " (report.url) }
                thead { tr {
                    th scope="col" { "Step" } th scope="col" { "Outcome" }
                    th scope="col" { "What happened" } th scope="col" { "Time" }
                } }
                tbody { @for step in &report.steps {
                    tr {
                        th scope="row" { (step.step) }
                        td { @if step.ok { "passed" } @else { strong class="error" { "failed" } } }
                        td { (step.detail) }
                        td { (step.duration_ms) " ms" }
                    }
                } }
            } }
            @if let Some(c) = &report.certificate {
                h2 { "Certificate presented" }
                dl class="facts" {
                    dt { "Subject" } dd { (c.subject) }
                    dt { "Issuer" } dd { (c.issuer) }
                    dt { "Valid until" } dd {
                        @match chrono::DateTime::parse_from_rfc3339(&c.not_after) {
                            Ok(at) => { (when(at.to_utc())) }
                            Err(_) => { (c.not_after) }
                        }
                    }
                    dt { "SHA-256 fingerprint" } dd { code class="fp" { (c.sha256) } }
                    dt { "SHA-256 pin" } dd { code { (c.pin_sha256) } }
                }
            }
            @if let Some(id) = &report.message_id {
                h2 { "Test message" }
                p { "The test message is " a href={ "/console/messages/" (id) } { (id) } "." }
            }
        }
    }
}
