//! A partner's trust lifecycle page: the current, next and previous certificate, the
//! rollover window, the hash-chained timeline with its evidence and the "verify chain"
//! result, read through the functions of `/v1/partners/{id}/trust…`; admins and owners get
//! the forms that act on it (`console::trust_actions`).

use as2_domain::certificate::Certificate;
use as2_domain::id::PartnerId;
use as2_domain::pagination::PageRequest;
use as2_domain::user::ConsoleAction;
use as2_store::repo::certificates::CertificateFilter;
use as2_store::repo::trust::TrustEvent;
use as2_trust::lifecycle::Subject;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::console::layout::{csrf_field, page, when};
use crate::console::session::ConsoleSession;
use crate::error::{ApiError, FieldErrors};
use crate::routes::certificates::CertificateDto;
use crate::routes::trust::{self, Operator, TrustDto, VerificationDto};
use crate::state::AppState;

/// The reason a rollover cancelled in the console records.
const CANCELLED: &str = "cancelled in the console";

/// The console user as the operator of trust records in the session's tenant and mode.
pub fn operator(console: &ConsoleSession) -> Option<Operator> {
    Some(Operator {
        scope: console.scope()?,
        actor: console.user.id.to_string(),
        cancel_reason: CANCELLED,
    })
}

/// What the page shows besides the record: the chain's verification, the rollover form's
/// values and the sentences beside its fields.
#[derive(Debug, Default)]
pub struct Extra {
    /// The "verify chain" result.
    pub verification: Option<VerificationDto>,
    /// The rollover form as sent: certificate, activation date, retirement date.
    pub values: [String; 3],
    /// The API's sentences, by field.
    pub errors: FieldErrors,
}

/// The 404 page of a partner not in the session's tenant and mode.
pub fn not_found(console: &ConsoleSession) -> Response {
    (
        StatusCode::NOT_FOUND,
        page(
            "Partner not found",
            Some(console),
            html! { p { "There is no such partner in this tenant and mode." } },
        ),
    )
        .into_response()
}

/// The partner of the path, or `None` (a 404) for a malformed id.
pub fn subject_of(raw: &str) -> Option<Subject> {
    raw.parse::<PartnerId>().ok().map(Subject::Partner)
}

/// `GET /console/partners/{id}/trust`.
pub async fn show(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    render(&state, &console, &raw, Extra::default(), StatusCode::OK).await
}

/// `GET /console/partners/{id}/trust/verify`: the page with the chain verified (every role).
pub async fn verify(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let (Some(subject), Some(operator)) = (subject_of(&raw), operator(&console)) else {
        return not_found(&console);
    };
    match trust::verify(&state, operator, subject).await {
        Ok(result) => {
            let extra = Extra {
                verification: Some(result),
                ..Extra::default()
            };
            render(&state, &console, &raw, extra, StatusCode::OK).await
        }
        Err(error) => failure(&console, &error),
    }
}

/// A refused or failed request as a page (404 for another tenant's partner).
pub fn failure(console: &ConsoleSession, error: &ApiError) -> Response {
    if error.status() == StatusCode::NOT_FOUND {
        return not_found(console);
    }
    let body = error.body();
    let message = body["message"].as_str().unwrap_or("The request failed");
    (
        error.status(),
        page(
            "Trust lifecycle",
            Some(console),
            html! { p class="error" role="alert" { (message) } },
        ),
    )
        .into_response()
}

/// The page of partner `raw` with `extra`, answered with `status`.
pub async fn render(
    state: &AppState,
    console: &ConsoleSession,
    raw: &str,
    extra: Extra,
    status: StatusCode,
) -> Response {
    let (Some(subject), Some(operator)) = (subject_of(raw), operator(console)) else {
        return not_found(console);
    };
    let scope = operator.scope;
    let record = match trust::show(state, operator.clone(), subject).await {
        Ok(record) => record,
        Err(error) => return failure(console, &error),
    };
    let events = match trust::events(state, operator, subject).await {
        Ok(events) => events,
        Err(error) => return failure(console, &error),
    };
    let Some(id) = subject.partner_id() else {
        return not_found(console);
    };
    let found = state
        .blocking("Partner", move |s| {
            let partner = s.store().partners().get(scope, id)?;
            let page = PageRequest {
                page: 1,
                per_page: 100,
            };
            let (certificates, _) =
                s.store()
                    .certificates()
                    .list(scope, CertificateFilter::default(), page)?;
            Ok((partner.settings.name, certificates))
        })
        .await;
    let (name, certificates) = match found {
        Ok(found) => found,
        Err(error) => return failure(console, &error),
    };
    let may_act = console
        .current
        .as_ref()
        .is_some_and(|m| m.role.may(ConsoleAction::Configure));
    let content = html! {
        p { a href="/console/partners" { "All partners" } }
        (record_facts(&record))
        @if let Some(result) = &extra.verification { (verification(result)) }
        (timeline(raw, &events))
        @if may_act { (actions(console, raw, &record, &certificates, &extra)) }
    };
    let title = format!("Trust lifecycle: {name}");
    (status, page(&title, Some(console), content)).into_response()
}

fn certificate_fact(label: &str, certificate: Option<&CertificateDto>) -> Markup {
    html! {
        dt { (label) }
        dd {
            @if let Some(c) = certificate {
                (c.name) " (" code { (c.id) } "), valid until " (instant(&c.not_after))
                br; small class="fp" { "SHA-256 " (c.fingerprint_sha256) }
            } @else { "none" }
        }
    }
}

/// An RFC 3339 time of the API as the console shows times.
fn instant(raw: &str) -> Markup {
    match crate::time::parse(raw) {
        Some(at) => when(at),
        None => html! { (raw) },
    }
}

fn scheduled(raw: Option<&str>) -> Markup {
    match raw {
        Some(raw) => instant(raw),
        None => html! { "not scheduled" },
    }
}

fn events_count(n: usize) -> String {
    if n == 1 {
        "1 event".to_owned()
    } else {
        format!("{n} events")
    }
}

fn record_facts(record: &TrustDto) -> Markup {
    html! {
        h2 { "Certificates" }
        dl class="facts" {
            dt { "State" } dd { (record.state.replace('_', " ")) }
            (certificate_fact("Current", record.current.as_ref()))
            (certificate_fact("Next", record.next.as_ref()))
            (certificate_fact("Previous", record.previous.as_ref()))
            dt { "Activation" } dd { (scheduled(record.activate_at.as_deref())) }
            dt { "Retirement" } dd { (scheduled(record.retire_at.as_deref())) }
        }
    }
}

fn verification(result: &VerificationDto) -> Markup {
    html! {
        section aria-labelledby="verification" role="status" {
            h2 id="verification" { "Chain verification" }
            @if result.valid {
                p { "Intact: " (events_count(result.events)) ", the hash chain and every time-stamp token verify." }
            } @else {
                p class="error" { "Broken: " (events_count(result.events)) " checked." }
                ul { @for problem in &result.problems { li { (problem) } } }
            }
        }
    }
}

/// A field of the rollover form with its hint and the API's sentences.
fn field(name: &str, label: &str, hint: &str, errors: &FieldErrors, control: &Markup) -> Markup {
    let sentences = errors.get(name);
    html! {
        div class="field" {
            label for=(name) { (label) }
            (control)
            small id={ (name) "-hint" } { (hint) }
            @if let Some(sentences) = sentences {
                p class="error" id={ (name) "-error" } { @for s in sentences { (s) " " } }
            }
        }
    }
}

fn described(name: &str, errors: &FieldErrors) -> String {
    if errors.contains_key(name) {
        format!("{name}-hint {name}-error")
    } else {
        format!("{name}-hint")
    }
}

fn actions(
    console: &ConsoleSession,
    raw: &str,
    record: &TrustDto,
    certificates: &[Certificate],
    extra: &Extra,
) -> Markup {
    let errors = &extra.errors;
    let [chosen, activate, retire] = &extra.values;
    let current = record.current.as_ref().map(|c| c.id.as_str());
    let invalid = |name: &str| errors.contains_key(name).then_some("true");
    let base = format!("/console/partners/{raw}/trust");
    html! {
        h2 { "Act" }
        @if !errors.is_empty() {
            div class="error" role="alert" id="form-errors" {
                p { "The rollover was not scheduled: correct the fields marked below." }
            }
        }
        form method="post" action={ (base) "/rollover" } novalidate {
            (csrf_field(console))
            fieldset {
                legend { "Schedule a rollover" }
                (field("certificate_id", "Next certificate", "One of the tenant's certificates", errors, &html! {
                    select id="certificate_id" name="certificate_id"
                        aria-describedby=(described("certificate_id", errors)) aria-invalid=[invalid("certificate_id")] {
                        option value="" { "Choose a certificate" }
                        @for c in certificates.iter().filter(|c| Some(c.id.to_string().as_str()) != current) {
                            @let id = c.id.to_string();
                            option value=(id) selected[&id == chosen] {
                                (c.name) " (" (id) ", until " (c.info.not_after.format("%Y-%m-%d")) ")"
                            }
                        }
                    }
                }))
                (field("activate_at", "Activation date", "It becomes current at 00:00 UTC that day", errors, &html! {
                    input id="activate_at" name="activate_at" type="date" value=(activate)
                        aria-describedby=(described("activate_at", errors)) aria-invalid=[invalid("activate_at")];
                }))
                (field("retire_at", "Retirement date", "The current one is accepted until 00:00 UTC that day", errors, &html! {
                    input id="retire_at" name="retire_at" type="date" value=(retire)
                        aria-describedby=(described("retire_at", errors)) aria-invalid=[invalid("retire_at")];
                }))
                button type="submit" { "Schedule rollover" }
            }
        }
        @if record.next.is_some() {
            form class="inline" method="post" action={ (base) "/activate" } {
                (csrf_field(console)) button type="submit" { "Activate the next certificate now" }
            }
            form class="inline" method="post" action={ (base) "/cancel" } {
                (csrf_field(console)) button type="submit" { "Cancel the rollover" }
            }
        }
        @if record.previous.is_some() {
            form class="inline" method="post" action={ (base) "/retire" } {
                (csrf_field(console)) button type="submit" { "Retire the previous certificate now" }
            }
        }
    }
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

fn timeline(raw: &str, events: &[TrustEvent]) -> Markup {
    html! {
        h2 { "Timeline" }
        form method="get" action={ "/console/partners/" (raw) "/trust/verify" } {
            button type="submit" { "Verify chain" }
        }
        @if events.is_empty() {
            p { "No event yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { (events_count(events.len())) ", oldest first" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "By" }
                    th scope="col" { "Details" } th scope="col" { "Evidence" }
                } }
                tbody {
                    @for e in events {
                        tr {
                            td { (when(e.created_at)) }
                            td { (e.event_type.replace('_', " ")) }
                            td { code { (e.actor) } }
                            td { code class="fp" { (e.details) } }
                            td {
                                "hash " code title=(e.hash) { (short(&e.hash)) }
                                @if let Some(prev) = &e.prev_hash {
                                    br; "after " code title=(prev) { (short(prev)) }
                                }
                                br;
                                @if e.timestamp_token.is_some() { "time-stamped" } @else { "not time-stamped yet" }
                            }
                        }
                    }
                }
            } }
        }
    }
}
