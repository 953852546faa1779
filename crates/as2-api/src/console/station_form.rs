//! The station form: every setting `POST /v1/stations` and `PUT /v1/stations/{id}` take, with
//! its label, hint and the API's sentences beside it, filled from a station or from what was
//! sent, and the API's body made from it.

use std::collections::HashMap;

use as2_domain::certificate::{Certificate, CertificateKind};
use as2_domain::station::Station;
use maud::{Markup, html};

use crate::console::layout::csrf_field;
use crate::console::session::ConsoleSession;
use crate::error::FieldErrors;
use crate::routes::stations::StationInput;

/// The text settings: the API's field name, label, input type, hint.
const TEXT: [(&str, &str, &str, &str); 2] = [
    ("name", "Name", "text", "How the station is shown"),
    (
        "as2_id",
        "AS2 ID",
        "text",
        "Our AS2 identifier: 1 to 128 printable characters, no spaces, unique in this mode",
    ),
];

/// The key pair settings: field name, label, hint.
const KEY_PAIRS: [(&str, &str, &str); 2] = [
    (
        "certificate_id",
        "Key pair",
        "Signs our messages and MDNs and decrypts what partners send",
    ),
    (
        "encryption_certificate_id",
        "Decryption key pair",
        "Only when partners encrypt to another key pair than the one above",
    ),
];

/// Every field the form shows (the sentences for any other come first, above the form).
const SHOWN: [&str; 6] = [
    "name",
    "as2_id",
    "certificate_id",
    "encryption_certificate_id",
    "mdn_url",
    "default",
];

/// The form's values of a stored station (the MDN URL as stored: empty is the gateway's).
pub fn values_of(station: &Station) -> HashMap<String, String> {
    let s = &station.settings;
    let mut values = HashMap::from([
        ("name".to_owned(), s.name.clone()),
        ("as2_id".to_owned(), s.as2_id.clone()),
        ("mdn_url".to_owned(), s.mdn_url.clone().unwrap_or_default()),
    ]);
    for (field, id) in [
        ("certificate_id", s.certificate_id),
        ("encryption_certificate_id", s.encryption_certificate_id),
    ] {
        if let Some(id) = id {
            values.insert(field.to_owned(), id.to_string());
        }
    }
    if s.is_default {
        values.insert("default".to_owned(), "true".to_owned());
    }
    values
}

/// The API's body from the form: every setting as shown (an empty key pair is none, an empty
/// MDN URL the gateway's); an unchecked "default" leaves the default where it is.
pub fn input_of(values: &HashMap<String, String>) -> StationInput {
    let text = |name: &str| values.get(name).map(|v| v.trim().to_owned());
    let kept = |name: &str| text(name).filter(|v| !v.is_empty());
    StationInput {
        name: text("name"),
        as2_id: text("as2_id"),
        certificate_id: kept("certificate_id"),
        encryption_certificate_id: kept("encryption_certificate_id"),
        mdn_url: kept("mdn_url"),
        default: values.contains_key("default").then_some(true),
    }
}

fn described(name: &str, errors: &FieldErrors) -> String {
    if errors.contains_key(name) {
        format!("{name}-hint {name}-error")
    } else {
        format!("{name}-hint")
    }
}

fn sentences(name: &str, errors: &FieldErrors) -> Markup {
    html! {
        @if let Some(sentences) = errors.get(name) {
            p class="error" id={ (name) "-error" } { @for s in sentences { (s) " " } }
        }
    }
}

fn key_pair_choice(
    (name, label, hint): (&str, &str, &str),
    certificates: &[Certificate],
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> Markup {
    let chosen = values.get(name).map(String::as_str).unwrap_or_default();
    let invalid = errors.contains_key(name).then_some("true");
    html! {
        div class="field" {
            label for=(name) { (label) }
            select id=(name) name=(name) aria-describedby=(described(name, errors)) aria-invalid=[invalid] {
                option value="" { "None" }
                @for c in certificates {
                    @let id = c.id.to_string();
                    option value=(id) selected[id == chosen] {
                        (c.name) " (" (id) ", "
                        @if c.kind == CertificateKind::KeyPair { "key pair" } @else { "certificate only" }
                        ", until " (c.info.not_after.format("%Y-%m-%d")) ")"
                    }
                }
            }
            small id={ (name) "-hint" } { (hint) }
            (sentences(name, errors))
        }
    }
}

/// The form posting to `action` with `values`, each field followed by the API's sentences;
/// `failed` says what was not done when there are sentences or a `problem` (a conflict).
#[derive(Debug, Clone, Copy)]
pub struct StationForm<'a> {
    /// Where the form posts.
    pub action: &'a str,
    /// The submit button's text.
    pub submit: &'a str,
    /// "The station was not created" or "… saved".
    pub failed: &'a str,
    /// A sentence of the API that names no field (the AS2 ID taken).
    pub problem: Option<&'a str>,
}

/// The form itself.
pub fn form(
    console: &ConsoleSession,
    spec: &StationForm<'_>,
    certificates: &[Certificate],
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> Markup {
    let other: Vec<(&String, &Vec<String>)> = errors
        .iter()
        .filter(|(field, _)| !SHOWN.contains(&field.as_str()))
        .collect();
    html! {
        p { a href="/console/stations" { "All stations" } }
        @if !errors.is_empty() || spec.problem.is_some() {
            div class="error" role="alert" id="form-errors" {
                p { (spec.failed) ": correct the fields marked below." }
                @if let Some(problem) = spec.problem { p { (problem) } }
                @if !other.is_empty() {
                    ul { @for (field, sentences) in &other { @for s in *sentences { li { (field) ": " (s) } } } }
                }
            }
        }
        form method="post" action=(spec.action) novalidate {
            (csrf_field(console))
            @for (name, label, kind, hint) in TEXT {
                div class="field" {
                    label for=(name) { (label) }
                    input id=(name) name=(name) type=(kind) value=[values.get(name)]
                        aria-describedby=(described(name, errors)) aria-invalid=[errors.contains_key(name).then_some("true")];
                    small id={ (name) "-hint" } { (hint) }
                    (sentences(name, errors))
                }
            }
            @for key_pair in KEY_PAIRS { (key_pair_choice(key_pair, certificates, values, errors)) }
            div class="field" {
                label for="mdn_url" { "Async MDN URL" }
                input id="mdn_url" name="mdn_url" type="url" value=[values.get("mdn_url")]
                    aria-describedby=(described("mdn_url", errors)) aria-invalid=[errors.contains_key("mdn_url").then_some("true")];
                small id="mdn_url-hint" { "Where partners send asynchronous MDNs; empty: the gateway's URL of this mode" }
                (sentences("mdn_url", errors))
            }
            div class="field" {
                label {
                    input type="checkbox" id="default" name="default" value="true"
                        checked[values.contains_key("default")] aria-describedby="default-hint";
                    " The tenant's default station"
                }
                small id="default-hint" { "Partners created without a station use it; to move the default, make another station the default" }
                (sentences("default", errors))
            }
            p { button type="submit" { (spec.submit) } }
        }
    }
}
