//! The tenant settings form: the name, message size limit, retention days and alert
//! recipients `PATCH /v1/tenants/{id}` takes, each with its label, its default and the API's
//! sentences beside it, filled from the tenant or from what was sent, and the API's body made
//! from it.

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

/// The tenant's name field.
const NAME: &str = "name";

/// The message size limit's field.
const LIMIT: &str = "max_message_bytes";

/// The form's values of a stored tenant (an unset retention is empty: the plan's default).
pub fn values_of(tenant: &Tenant) -> HashMap<String, String> {
    let days = |d: Option<u32>| d.map(|d| d.to_string()).unwrap_or_default();
    HashMap::from([
        (NAME.to_owned(), tenant.name.clone()),
        (
            LIMIT.to_owned(),
            tenant
                .max_message_bytes
                .map(|b| b.to_string())
                .unwrap_or_default(),
        ),
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

/// The API's body from the form (a PATCH of the settings: an empty retention is `0`, the
/// plan's default; an empty limit `0`, the platform's; a name or limit the form did not send
/// is left as it is; one address a line, blank lines skipped), or the sentence of a number
/// that is no whole number.
pub fn input_of(values: &HashMap<String, String>) -> Result<TenantInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let max_message_bytes = match values.get(LIMIT).map(|v| v.trim()) {
        None => None,
        Some("") => Some(0),
        Some(text) => {
            let parsed = text.parse::<i64>().ok();
            if parsed.is_none() {
                errors.insert(
                    LIMIT.to_owned(),
                    vec![
                        "Enter a whole number of bytes, or nothing for the platform's limit"
                            .to_owned(),
                    ],
                );
            }
            parsed
        }
    };
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
        name: values.get(NAME).cloned(),
        max_message_bytes,
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

/// The tenant's name and message size limit, each with its hint and the API's sentences.
fn tenant_fields(values: &HashMap<String, String>, errors: &FieldErrors) -> Markup {
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or_default();
    let sentences = |name: &str| {
        html! {
            @if let Some(sentences) = errors.get(name) {
                p class="error" id={ (name) "-error" } { @for s in sentences { (s) " " } }
            }
        }
    };
    html! {
        div class="field" {
            label for=(NAME) { "Tenant name" }
            input id=(NAME) name=(NAME) type="text" maxlength="255" required value=(value(NAME))
                aria-describedby=(described(NAME, errors.contains_key(NAME)))
                aria-invalid=[errors.contains_key(NAME).then_some("true")];
            small id="name-hint" { "1 to 255 characters; shown in the tenant switch of every page." }
            (sentences(NAME))
        }
        div class="field" {
            label for=(LIMIT) { "Largest message (bytes)" }
            input id=(LIMIT) name=(LIMIT) type="number" min="1024" inputmode="numeric"
                value=[values.get(LIMIT).filter(|v| !v.is_empty())]
                aria-describedby=(described(LIMIT, errors.contains_key(LIMIT)))
                aria-invalid=[errors.contains_key(LIMIT).then_some("true")];
            small id="max_message_bytes-hint" {
                "The largest AS2 message the tenant takes or sends (both modes). Empty or 0: the platform's limit (the gateway's AS2_MAX_MESSAGE_BYTES). At least 1024 sets the tenant's own."
            }
            (sentences(LIMIT))
        }
    }
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
            || field == NAME
            || field == LIMIT
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
            (tenant_fields(values, errors))
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
