//! The markup of the trust lifecycle page (`console::trust`): the record's facts, the
//! chain's verification, the timeline and the rollover form; a partner's CEM section comes
//! from `console::cem`.

use as2_domain::cem::CemRequest;
use as2_domain::certificate::Certificate;
use as2_store::repo::trust::TrustEvent;
use maud::{Markup, html};

use crate::console::cem;
use crate::console::layout::{csrf_field, when};
use crate::console::session::ConsoleSession;
use crate::console::trust::{Extra, Holder, Sent, SentForm};
use crate::error::FieldErrors;
use crate::routes::certificates::CertificateDto;
use crate::routes::trust::{TrustDto, VerificationDto};

/// What the page is made of.
#[derive(Debug)]
pub struct Facts<'a> {
    /// The signed-in user (the forms' CSRF token).
    pub console: &'a ConsoleSession,
    /// A partner's page or a station's.
    pub holder: Holder,
    /// The page's path; the forms post under it.
    pub base: String,
    /// The record.
    pub record: &'a TrustDto,
    /// Its timeline, oldest first.
    pub events: &'a [TrustEvent],
    /// The certificates a rollover may choose.
    pub certificates: &'a [Certificate],
    /// A partner's CEM requests, newest first.
    pub requests: &'a [CemRequest],
    /// The verification, or a form sent back.
    pub extra: &'a Extra,
    /// Whether the user may change it (admins and owners).
    pub may_act: bool,
}

/// The page's content.
pub fn content(facts: &Facts<'_>) -> Markup {
    let holder = facts.holder;
    let all = match holder {
        Holder::Partner => "All partners",
        Holder::Station => "All stations",
    };
    html! {
        p { a href=(holder.list()) { (all) } }
        (record_facts(facts.record))
        @if let Some(result) = &facts.extra.verification { (verification(result)) }
        @if holder == Holder::Partner { (cem::requests(facts)) }
        (timeline(&facts.base, facts.events))
        @if facts.may_act {
            (actions(facts))
            @if holder == Holder::Partner { (cem::offer_form(facts)) }
        }
    }
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
pub fn instant(raw: &str) -> Markup {
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

/// A labelled control with its hint and the API's sentences; `id` is the control's id (unique
/// on the page), `name` the field the API names.
pub fn field(
    (id, name): (&str, &str),
    label: &str,
    hint: &str,
    errors: &FieldErrors,
    control: &Markup,
) -> Markup {
    let sentences = errors.get(name);
    html! {
        div class="field" {
            label for=(id) { (label) }
            (control)
            small id={ (id) "-hint" } { (hint) }
            @if let Some(sentences) = sentences {
                p class="error" id={ (id) "-error" } { @for s in sentences { (s) " " } }
            }
        }
    }
}

/// The `aria-describedby` of control `id` checked as field `name`.
pub fn described(id: &str, name: &str, errors: &FieldErrors) -> String {
    if errors.contains_key(name) {
        format!("{id}-hint {id}-error")
    } else {
        format!("{id}-hint")
    }
}

/// The sentences of `form` when it is the one sent back.
pub fn errors_of<'a>(sent: Option<&'a Sent>, form: &SentForm) -> Option<&'a FieldErrors> {
    sent.filter(|s| &s.form == form).map(|s| &s.errors)
}

fn actions(facts: &Facts<'_>) -> Markup {
    let console = facts.console;
    let record = facts.record;
    let sent = facts.extra.sent.as_ref();
    let no_errors = FieldErrors::new();
    let errors = errors_of(sent, &SentForm::Rollover).unwrap_or(&no_errors);
    let value = |name: &str| Sent::value(sent, &SentForm::Rollover, name);
    let chosen = value("certificate_id");
    let current = record.current.as_ref().map(|c| c.id.as_str());
    let invalid = |name: &str| errors.contains_key(name).then_some("true");
    let base = &facts.base;
    let (hint, label) = match facts.holder {
        Holder::Partner => ("One of the tenant's certificates", "Next certificate"),
        Holder::Station => ("One of the tenant's key pairs", "Next key pair"),
    };
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
                (field(("certificate_id", "certificate_id"), label, hint, errors, &html! {
                    select id="certificate_id" name="certificate_id"
                        aria-describedby=(described("certificate_id", "certificate_id", errors)) aria-invalid=[invalid("certificate_id")] {
                        option value="" { "Choose a certificate" }
                        @for c in facts.certificates.iter().filter(|c| Some(c.id.to_string().as_str()) != current) {
                            @let id = c.id.to_string();
                            option value=(id) selected[id == chosen] {
                                (c.name) " (" (id) ", until " (c.info.not_after.format("%Y-%m-%d")) ")"
                            }
                        }
                    }
                }))
                (field(("activate_at", "activate_at"), "Activation date", "It becomes current at 00:00 UTC that day", errors, &html! {
                    input id="activate_at" name="activate_at" type="date" value=(value("activate_at"))
                        aria-describedby=(described("activate_at", "activate_at", errors)) aria-invalid=[invalid("activate_at")];
                }))
                (field(("retire_at", "retire_at"), "Retirement date", "The current one is accepted until 00:00 UTC that day", errors, &html! {
                    input id="retire_at" name="retire_at" type="date" value=(value("retire_at"))
                        aria-describedby=(described("retire_at", "retire_at", errors)) aria-invalid=[invalid("retire_at")];
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

fn timeline(base: &str, events: &[TrustEvent]) -> Markup {
    html! {
        h2 { "Timeline" }
        form method="get" action={ (base) "/verify" } {
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
