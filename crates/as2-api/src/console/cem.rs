//! Certificate Exchange Messaging on a partner's trust page: the requests sent and received,
//! accept or reject a pending request of the partner's, and offer one of our key pairs,
//! each through the function `/v1/partners/{id}/trust/cem…` runs, audited with the user as
//! the actor (admins and owners; every role sees the list).

use std::collections::HashMap;

use as2_domain::cem::{CemDirection, CemRequest, CemStatus};
use as2_domain::certificate::CertificateKind;
use as2_domain::id::CemRequestId;
use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use crate::console::changes::allowed;
use crate::console::layout::{csrf_field, when};
use crate::console::session::ConsoleSession;
use crate::console::trust::{Extra, Holder, Sent, SentForm, not_found, operator, render};
use crate::console::trust_actions::{done, instant};
use crate::console::trust_view::{Facts, described, errors_of, field};
use crate::error::{ApiError, FieldErrors};
use crate::routes::cem::{self, CemOfferInput};
use crate::state::AppState;

/// The usages an offer may name, with the words the form shows.
const USAGES: [(&str, &str); 4] = [
    ("keyEncipherment", "Encryption (keyEncipherment)"),
    ("digitalSignature", "Signing (digitalSignature)"),
    ("tlsServer", "TLS server (tlsServer)"),
    ("tlsClient", "TLS client (tlsClient)"),
];

/// The partner's CEM requests, with the answer forms of the pending ones it sent.
pub fn requests(facts: &Facts<'_>) -> Markup {
    html! {
        h2 id="cem" { "Certificate exchange (CEM)" }
        @if facts.requests.is_empty() {
            p { "No certificate exchange request yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { "Requests sent and received, newest first" }
                thead { tr {
                    th scope="col" { "Recorded" } th scope="col" { "Direction" }
                    th scope="col" { "Request" } th scope="col" { "Certificate" }
                    th scope="col" { "Usages" } th scope="col" { "Respond by" }
                    th scope="col" { "Status" }
                    @if facts.may_act { th scope="col" { "Answer" } }
                } }
                tbody { @for r in facts.requests { (row(facts, r)) } }
            } }
        }
    }
}

fn row(facts: &Facts<'_>, r: &CemRequest) -> Markup {
    let id = r.id.to_string();
    let received = r.direction == CemDirection::Inbound;
    let pending = r.status == CemStatus::Pending;
    html! {
        tr id={ "cem-" (id) } {
            td { (when(r.created_at)) }
            td { @if received { "received" } @else { "sent" } }
            td { code { (r.request_id) } }
            td { code { (r.certificate_id) } }
            td { (r.usages.join(", ")) }
            td { (when(r.respond_by)) }
            td {
                (r.status.as_str())
                @if let Some(reason) = &r.reason { br; small { (reason) } }
            }
            @if facts.may_act {
                td { @if received && pending { (answer_forms(facts, &id)) } }
            }
        }
    }
}

fn answer_forms(facts: &Facts<'_>, id: &str) -> Markup {
    let form = SentForm::Reject(id.to_owned());
    let sent = facts.extra.sent.as_ref();
    let no_errors = FieldErrors::new();
    let errors = errors_of(sent, &form).unwrap_or(&no_errors);
    let control = format!("reason-{id}");
    let base = &facts.base;
    html! {
        form class="inline" method="post" action={ (base) "/cem/" (id) "/accept" } {
            (csrf_field(facts.console))
            button type="submit" { "Accept" span class="visually-hidden" { " request " (id) } }
        }
        form method="post" action={ (base) "/cem/" (id) "/reject" } novalidate {
            (csrf_field(facts.console))
            (field((control.as_str(), "reason"), "Reason for rejecting", "Sent to the partner", errors, &html! {
                input id=(control) name="reason" type="text" maxlength="1000"
                    value=(Sent::value(sent, &form, "reason"))
                    aria-describedby=(described(&control, "reason", errors))
                    aria-invalid=[errors.contains_key("reason").then_some("true")];
            }))
            button type="submit" { "Reject" span class="visually-hidden" { " request " (id) } }
        }
    }
}

/// The form offering one of our key pairs to the partner (admins and owners).
pub fn offer_form(facts: &Facts<'_>) -> Markup {
    let sent = facts.extra.sent.as_ref();
    let no_errors = FieldErrors::new();
    let errors = errors_of(sent, &SentForm::Offer).unwrap_or(&no_errors);
    let value = |name: &str| Sent::value(sent, &SentForm::Offer, name);
    let chosen = value("certificate_id");
    let usages = value("usages");
    let checked = |token: &str| match sent.filter(|s| s.form == SentForm::Offer) {
        Some(_) => usages.split(',').any(|u| u == token),
        None => matches!(token, "keyEncipherment" | "digitalSignature"),
    };
    let invalid = |name: &str| errors.contains_key(name).then_some("true");
    let key_pairs = facts
        .certificates
        .iter()
        .filter(|c| c.kind == CertificateKind::KeyPair);
    html! {
        @if !errors.is_empty() {
            div class="error" role="alert" id="offer-errors" {
                p { "The offer was not sent: correct the fields marked below." }
            }
        }
        form method="post" action={ (facts.base) "/cem" } novalidate {
            (csrf_field(facts.console))
            fieldset {
                legend { "Offer a key pair of ours to the partner" }
                (field(("offer-certificate_id", "certificate_id"), "Key pair", "Our station's next key pair", errors, &html! {
                    select id="offer-certificate_id" name="certificate_id"
                        aria-describedby=(described("offer-certificate_id", "certificate_id", errors))
                        aria-invalid=[invalid("certificate_id")] {
                        option value="" { "Choose a key pair" }
                        @for c in key_pairs {
                            @let id = c.id.to_string();
                            option value=(id) selected[id == chosen] {
                                (c.name) " (" (id) ", until " (c.info.not_after.format("%Y-%m-%d")) ")"
                            }
                        }
                    }
                }))
                fieldset aria-describedby="offer-usages-hint" {
                    legend { "Usages" }
                    @for (token, label) in USAGES {
                        @let id = format!("offer-usage-{token}");
                        div { input type="checkbox" id=(id) name="usages" value=(token) checked[checked(token)];
                              label for=(id) { (label) } }
                    }
                    small id="offer-usages-hint" { "What the partner is to trust it for" }
                    @if let Some(sentences) = errors.get("usages") {
                        p class="error" id="offer-usages-error" { @for s in sentences { (s) " " } }
                    }
                }
                (field(("offer-respond_by", "respond_by"), "Respond by", "Signing switches at 00:00 UTC that day", errors, &html! {
                    input id="offer-respond_by" name="respond_by" type="date" value=(value("respond_by"))
                        aria-describedby=(described("offer-respond_by", "respond_by", errors))
                        aria-invalid=[invalid("respond_by")];
                }))
                (field(("offer-response_url", "response_url"), "Response URL (optional)", "Where the partner answers; our public AS2 URL when empty", errors, &html! {
                    input id="offer-response_url" name="response_url" type="url" value=(value("response_url"))
                        aria-describedby=(described("offer-response_url", "response_url", errors))
                        aria-invalid=[invalid("response_url")];
                }))
                button type="submit" { "Send the offer" }
            }
        }
    }
}

/// The form's fields by name, a repeated one (`usages`) joined by commas.
fn collect(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    let mut values: HashMap<String, String> = HashMap::new();
    for (name, value) in pairs {
        values
            .entry(name)
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    values
}

/// The page again with `error`'s sentences beside `form`'s fields, or the failure page.
async fn refused(
    state: &AppState,
    console: &ConsoleSession,
    raw: &str,
    (form, values): (SentForm, HashMap<String, String>),
    error: ApiError,
) -> Response {
    let Some(errors) = error.field_errors().cloned() else {
        return crate::console::trust::failure(console, Holder::Partner, &error);
    };
    let extra = Extra {
        verification: None,
        sent: Some(Sent {
            form,
            values,
            errors,
        }),
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render(state, console, Holder::Partner, raw, extra, status).await
}

/// `POST /console/partners/{id}/trust/cem`: offers a key pair, or the page again with the
/// API's sentences (422).
pub async fn offer(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let (Some(partner), Some(operator)) = (raw.parse().ok(), operator(&console)) else {
        return not_found(&console, Holder::Partner);
    };
    let values = collect(pairs);
    let text = |name: &str| {
        values
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let input = CemOfferInput {
        certificate_id: text("certificate_id"),
        usages: Some(
            text("usages")
                .map(|u| u.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
        ),
        respond_by: instant(values.get("respond_by")),
        response_url: text("response_url"),
    };
    let changes = serde_json::json!({
        "certificate_id": input.certificate_id,
        "usages": input.usages,
        "respond_by": input.respond_by,
        "response_url": input.response_url,
    })
    .to_string();
    let urls = state.config().public_as2_urls();
    let outcome = match input.check(urls.for_mode(operator.scope.mode)) {
        Ok(checked) => cem::offer(&state, operator, partner, checked).await,
        Err(error) => Err(error),
    };
    match outcome {
        Err(error) if error.field_errors().is_some() => {
            let sent = (SentForm::Offer, values);
            refused(&state, &console, &raw, sent, error).await
        }
        outcome => {
            let place = (Holder::Partner, raw.as_str());
            done(&state, &console, place, "trust.cem", changes, outcome).await
        }
    }
}

async fn answer(
    state: AppState,
    console: ConsoleSession,
    (raw, cem_raw): (String, String),
    reject: Option<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let ids = (raw.parse().ok(), cem_raw.parse::<CemRequestId>().ok());
    let ((Some(partner), Some(id)), Some(operator)) = (ids, operator(&console)) else {
        return not_found(&console, Holder::Partner);
    };
    let place = (Holder::Partner, raw.as_str());
    let Some(values) = reject else {
        let outcome = cem::answer(&state, operator, partner, id, None).await;
        let changes = serde_json::json!({ "cem_id": cem_raw }).to_string();
        return done(
            &state,
            &console,
            place,
            "trust.cem.accept",
            changes,
            outcome,
        )
        .await;
    };
    let reason = values.get("reason").cloned();
    let changes = serde_json::json!({ "cem_id": cem_raw, "reason": reason }).to_string();
    let outcome = match cem::rejection_reason(reason) {
        Ok(reason) => cem::answer(&state, operator, partner, id, Some(reason)).await,
        Err(error) => Err(error),
    };
    match outcome {
        Err(error) if error.field_errors().is_some() => {
            let sent = (SentForm::Reject(cem_raw.clone()), values);
            refused(&state, &console, &raw, sent, error).await
        }
        outcome => {
            done(
                &state,
                &console,
                place,
                "trust.cem.reject",
                changes,
                outcome,
            )
            .await
        }
    }
}

/// `POST /console/partners/{id}/trust/cem/{cem_id}/accept`.
pub async fn accept(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(ids): Path<(String, String)>,
) -> Response {
    answer(state, console, ids, None).await
}

/// `POST /console/partners/{id}/trust/cem/{cem_id}/reject`: rejects with the reason given,
/// or the page again with the sentence beside the reason (422).
pub async fn reject(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(ids): Path<(String, String)>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    answer(state, console, ids, Some(values)).await
}
