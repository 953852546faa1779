//! The tenant settings form: the retention days and alert recipients `PATCH
//! /v1/tenants/{id}` takes, each with its label, the plan's default and the API's sentences
//! beside it, filled from the tenant or from what was sent, and the API's body made from it.

use std::collections::HashMap;

use as2_domain::retention::Retention;
use as2_domain::tenant::Tenant;
use maud::{Markup, html};

use crate::console::layout::csrf_field;
use crate::console::session::ConsoleSession;
use crate::error::FieldErrors;
use crate::routes::tenants::TenantInput;

/// Which of the plan's retention days a field defaults to.
type PlanDays = fn(Retention) -> u32;

/// The retention settings: the API's field name, label, and the plan's default of it.
const DAYS: [(&str, &str, PlanDays); 2] = [
    (
        "retention_payload_days",
        "Days payloads and raw MDNs are kept",
        |r| r.payload_days,
    ),
    (
        "retention_record_days",
        "Days message rows and their timelines are kept",
        |r| r.record_days,
    ),
];

/// The recipients' field.
const EMAILS: &str = "alert_emails";

/// The form's values of a stored tenant (an unset retention is empty: the plan's default).
pub fn values_of(tenant: &Tenant) -> HashMap<String, String> {
    let days = |d: Option<u32>| d.map(|d| d.to_string()).unwrap_or_default();
    HashMap::from([
        (
            "retention_payload_days".to_owned(),
            days(tenant.retention.payload_days),
        ),
        (
            "retention_record_days".to_owned(),
            days(tenant.retention.record_days),
        ),
        (EMAILS.to_owned(), tenant.alert_emails.join("\n")),
    ])
}

/// The API's body from the form (a PATCH of the three settings: an empty retention is `0`,
/// the plan's default; one address a line, blank lines skipped), or the sentence of a
/// retention that is no whole number.
pub fn input_of(values: &HashMap<String, String>) -> Result<TenantInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut days = |name: &str| {
        let text = values.get(name).map(|v| v.trim()).unwrap_or_default();
        if text.is_empty() {
            return Some(0);
        }
        let parsed = text.parse::<i64>().ok();
        if parsed.is_none() {
            errors.insert(
                name.to_owned(),
                vec!["Enter a whole number of days, or nothing for the plan's default".to_owned()],
            );
        }
        parsed
    };
    let retention_payload_days = days("retention_payload_days");
    let retention_record_days = days("retention_record_days");
    let alert_emails = addresses(values);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TenantInput {
        name: None,
        max_message_bytes: None,
        retention_payload_days,
        retention_record_days,
        alert_emails: Some(alert_emails),
    })
}

/// The recipients typed, one a line (blank lines skipped).
fn addresses(values: &HashMap<String, String>) -> Vec<String> {
    values
        .get(EMAILS)
        .map(|text| {
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn described(name: &str, invalid: bool) -> String {
    if invalid {
        format!("{name}-hint {name}-error")
    } else {
        format!("{name}-hint")
    }
}

/// The API's sentences for the recipients: the list's own and each address's
/// (`alert_emails[1]`), with the address it names.
fn email_sentences(values: &HashMap<String, String>, errors: &FieldErrors) -> Vec<String> {
    let typed = addresses(values);
    errors
        .iter()
        .filter(|(field, _)| field.as_str() == EMAILS || field.starts_with("alert_emails["))
        .flat_map(|(field, sentences)| {
            let address = field
                .strip_prefix("alert_emails[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| typed.get(i));
            sentences.iter().map(move |s| match address {
                Some(address) => format!("{field} (\u{201c}{address}\u{201d}): {s}"),
                None => s.clone(),
            })
        })
        .collect()
}

/// The settings form, each field followed by the API's sentences; `plan` names the plan
/// whose `defaults` apply to an empty retention.
pub fn form(
    console: &ConsoleSession,
    (plan, defaults): (&str, Retention),
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> Markup {
    let emails = email_sentences(values, errors);
    let shown = |field: &str| {
        DAYS.iter().any(|(name, _, _)| *name == field)
            || field == EMAILS
            || field.starts_with("alert_emails[")
    };
    let other: Vec<(&String, &Vec<String>)> =
        errors.iter().filter(|(field, _)| !shown(field)).collect();
    html! {
        @if !errors.is_empty() {
            div class="error" role="alert" id="form-errors" {
                p { "The settings were not saved: correct the fields marked below." }
                @if !other.is_empty() {
                    ul { @for (field, sentences) in &other { @for s in *sentences { li { (field) ": " (s) } } } }
                }
            }
        }
        form method="post" action="/console/settings" novalidate {
            (csrf_field(console))
            @for (name, label, default) in DAYS {
                @let invalid = errors.contains_key(name);
                div class="field" {
                    label for=(name) { (label) }
                    input id=(name) name=(name) type="number" min="0" max="3650" inputmode="numeric"
                        value=[values.get(name).filter(|v| !v.is_empty())]
                        aria-describedby=(described(name, invalid)) aria-invalid=[invalid.then_some("true")];
                    small id={ (name) "-hint" } {
                        "Empty or 0: the " (plan) " plan's default, " (default(defaults)) " days. 1 to 3650 sets the tenant's own (both modes)."
                    }
                    @if let Some(sentences) = errors.get(name) {
                        p class="error" id={ (name) "-error" } { @for s in sentences { (s) " " } }
                    }
                }
            }
            div class="field" {
                label for=(EMAILS) { "Alert recipients" }
                textarea id=(EMAILS) name=(EMAILS) rows="4" cols="40"
                    aria-describedby=(described(EMAILS, !emails.is_empty()))
                    aria-invalid=[(!emails.is_empty()).then_some("true")] {
                    (values.get(EMAILS).map(String::as_str).unwrap_or_default())
                }
                small id="alert_emails-hint" {
                    "One address a line (ops@example.com), at most 10: they get an email when a message fails or a certificate is about to expire. Empty: no email alerts."
                }
                @if !emails.is_empty() {
                    ul class="error" id="alert_emails-error" { @for s in &emails { li { (s) } } }
                }
            }
            p { button type="submit" { "Save settings" } }
        }
    }
}
