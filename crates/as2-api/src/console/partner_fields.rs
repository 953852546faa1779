//! The partner settings form: every setting of `PATCH /v1/partners/{id}` in groups, with its
//! label, hint and the API's sentences beside it, filled from a partner or from what was sent.

use std::collections::HashMap;

use maud::{Markup, html};

use crate::console::layout::csrf_field;
use crate::console::session::ConsoleSession;
use crate::error::FieldErrors;
use crate::routes::partners::PartnerDto;

/// How a setting is entered.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// An `input` of this type.
    Text(&'static str),
    /// A whole number.
    Number,
    /// One of these values.
    Choice(&'static [&'static str]),
    /// On or off.
    Check,
    /// Several lines.
    Area,
}

/// A setting: the API's field name, label, kind, hint.
type Setting = (&'static str, &'static str, Kind, &'static str);

/// Every setting, in groups.
const GROUPS: [(&str, &[Setting]); 7] = [
    (
        "Identity",
        &[
            (
                "name",
                "Name",
                Kind::Text("text"),
                "How the partner is shown",
            ),
            (
                "as2_id",
                "AS2 ID",
                Kind::Text("text"),
                "Their AS2 identifier: 1 to 128 printable characters, no spaces",
            ),
            (
                "url",
                "AS2 URL",
                Kind::Text("url"),
                "Their AS2 endpoint (HTTPS in live mode)",
            ),
            ("email", "Contact email", Kind::Text("email"), "Optional"),
            (
                "station_id",
                "Our station",
                Kind::Text("text"),
                "stn_…: the AS2 identity that talks to them",
            ),
            (
                "active",
                "Active",
                Kind::Check,
                "Inactive partners neither send nor receive",
            ),
        ],
    ),
    (
        "Outbound messages",
        &[
            ("sign", "Sign our messages", Kind::Check, ""),
            (
                "sign_algorithm",
                "Signature digest",
                Kind::Choice(&[
                    "sha1", "sha256", "sha384", "sha512", "sha3-256", "sha3-384", "sha3-512",
                ]),
                "Also the digest of the MIC asked for",
            ),
            (
                "signature_scheme",
                "Signature scheme",
                Kind::Choice(&["pkcs1v15", "pss"]),
                "With an RSA station key",
            ),
            ("encrypt", "Encrypt our messages", Kind::Check, ""),
            (
                "encrypt_algorithm",
                "Encryption algorithm",
                Kind::Choice(&[
                    "3des",
                    "aes128-cbc",
                    "aes192-cbc",
                    "aes256-cbc",
                    "aes128-gcm",
                    "aes256-gcm",
                ]),
                "",
            ),
            (
                "key_transport",
                "Key transport",
                Kind::Choice(&["rsa-pkcs1v15", "rsa-oaep-sha1", "rsa-oaep-sha256"]),
                "How the content key is wrapped for their RSA certificate",
            ),
            ("compress", "Compress our messages", Kind::Check, ""),
            (
                "compression_order",
                "Compression order",
                Kind::Choice(&["before-signing", "after-signing"]),
                "When both signing and compression are on",
            ),
            (
                "unsigned_mic",
                "MIC of plain messages",
                Kind::Choice(&["content-only", "with-headers"]),
                "with-headers for a partner known to hash the MIME headers too",
            ),
        ],
    ),
    (
        "Receipts (MDN)",
        &[
            (
                "mdn_mode",
                "MDN mode",
                Kind::Choice(&["sync", "async", "none"]),
                "",
            ),
            ("mdn_signed", "Ask for signed MDNs", Kind::Check, ""),
            (
                "mdn_url",
                "Async MDN URL",
                Kind::Text("url"),
                "Empty: the station's MDN URL",
            ),
        ],
    ),
    (
        "Their certificates",
        &[
            (
                "certificate_id",
                "Certificate",
                Kind::Text("text"),
                "cert_…: verifies their signatures, encrypts to them (the trust page rolls it over); empty keeps it",
            ),
            (
                "encryption_certificate_id",
                "Encryption certificate",
                Kind::Text("text"),
                "cert_…, when they encrypt with another one; empty keeps it",
            ),
        ],
    ),
    (
        "Delivery",
        &[
            ("auth", "HTTP basic authentication", Kind::Check, ""),
            ("auth_user", "Basic-auth user", Kind::Text("text"), ""),
            (
                "auth_password",
                "Basic-auth password",
                Kind::Text("password"),
                "Never shown; empty keeps the stored one",
            ),
            (
                "remove_password",
                "Remove the stored password",
                Kind::Check,
                "",
            ),
            (
                "retry_attempts",
                "Retries",
                Kind::Number,
                "After a failed transmission, 0 to 50",
            ),
            (
                "retry_interval",
                "Retry interval (seconds)",
                Kind::Number,
                "Doubled each time, 1 to 86400",
            ),
            (
                "timeout",
                "Timeout (seconds)",
                Kind::Number,
                "Of one transmission, 1 to 3600",
            ),
        ],
    ),
    (
        "Inbound messages",
        &[
            (
                "require_signed",
                "Refuse unsigned messages",
                Kind::Check,
                "",
            ),
            (
                "require_encrypted",
                "Refuse unencrypted messages",
                Kind::Check,
                "",
            ),
            (
                "firewall",
                "Only from the allowed networks",
                Kind::Check,
                "",
            ),
            (
                "allowed_networks",
                "Allowed networks",
                Kind::Area,
                "CIDR networks, one a line (or separated by commas)",
            ),
        ],
    ),
    (
        "TLS",
        &[
            (
                "tls_ca_bundle",
                "Private CA bundle",
                Kind::Area,
                "PEM certificates trusted for their HTTPS server; empty removes it",
            ),
            (
                "tls_ca_only",
                "Trust only this bundle",
                Kind::Check,
                "Not the public roots",
            ),
            (
                "tls_pin_sha256",
                "Pinned server key",
                Kind::Text("text"),
                "sha256/<base64>, base64 or 64 hex digits; empty removes the pin",
            ),
            (
                "tls_client_certificate_id",
                "Our client certificate",
                Kind::Text("text"),
                "cert_… key pair shown when their server asks; empty removes it",
            ),
            (
                "tls_inbound_client_certificate_id",
                "Their client certificate",
                Kind::Text("text"),
                "cert_… they must present to our endpoint; empty removes the demand",
            ),
        ],
    ),
];

/// The form's values of a stored partner (checkboxes: present means on).
pub fn values_of(partner: PartnerDto) -> HashMap<String, String> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(partner) else {
        return HashMap::new();
    };
    fields
        .into_iter()
        .filter_map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(true) => "true".to_owned(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => return None,
            };
            Some((name, text))
        })
        .collect()
}

fn control(
    name: &str,
    kind: Kind,
    value: Option<&String>,
    described: &str,
    invalid: bool,
) -> Markup {
    let invalid = invalid.then_some("true");
    html! {
        @match kind {
            Kind::Text(kind) => {
                @let value = if kind == "password" { None } else { value };
                input id=(name) name=(name) type=(kind) value=[value]
                    autocomplete=[(kind == "password").then_some("new-password")]
                    aria-describedby=(described) aria-invalid=[invalid];
            }
            Kind::Number => {
                input id=(name) name=(name) type="text" inputmode="numeric" value=[value]
                    aria-describedby=(described) aria-invalid=[invalid];
            }
            Kind::Area => {
                textarea id=(name) name=(name) rows="4" aria-describedby=(described) aria-invalid=[invalid] {
                    (value.map(String::as_str).unwrap_or_default())
                }
            }
            Kind::Choice(options) => {
                select id=(name) name=(name) aria-describedby=(described) aria-invalid=[invalid] {
                    @for option in options {
                        option value=(option) selected[value.is_some_and(|v| v == option)] { (option) }
                    }
                }
            }
            Kind::Check => {}
        }
    }
}

fn setting(setting: &Setting, values: &HashMap<String, String>, errors: &FieldErrors) -> Markup {
    let (name, label, kind, hint) = *setting;
    let sentences = errors.get(name);
    let mut described = Vec::new();
    if !hint.is_empty() {
        described.push(format!("{name}-hint"));
    }
    if sentences.is_some() {
        described.push(format!("{name}-error"));
    }
    let described = described.join(" ");
    html! {
        div class="field" {
            @if let Kind::Check = kind {
                label {
                    input type="checkbox" id=(name) name=(name) value="true" checked[values.contains_key(name)]
                        aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                        aria-invalid=[sentences.map(|_| "true")];
                    " " (label)
                }
            } @else {
                label for=(name) { (label) }
                (control(name, kind, values.get(name), &described, sentences.is_some()))
            }
            @if !hint.is_empty() { small id={ (name) "-hint" } { (hint) } }
            @if let Some(sentences) = sentences {
                p class="error" id={ (name) "-error" } { @for s in sentences { (s) " " } }
            }
        }
    }
}

/// The form of partner `raw` with `values`, each field followed by its sentences.
pub fn form(
    console: &ConsoleSession,
    raw: &str,
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> Markup {
    let known: Vec<&str> = GROUPS
        .iter()
        .flat_map(|g| g.1.iter().map(|s| s.0))
        .collect();
    let other: Vec<(&String, &Vec<String>)> = errors
        .iter()
        .filter(|(field, _)| !known.contains(&field.as_str()))
        .collect();
    html! {
        p { a href="/console/partners" { "All partners" } " · " a href={ "/console/partners/" (raw) "/trust" } { "Trust lifecycle" } }
        @if !errors.is_empty() {
            div class="error" role="alert" id="form-errors" {
                p { "The partner was not saved: correct the fields marked below." }
                @if !other.is_empty() {
                    ul { @for (field, sentences) in &other { @for s in *sentences { li { (field) ": " (s) } } } }
                }
            }
        }
        form method="post" action={ "/console/partners/" (raw) "/edit" } novalidate {
            (csrf_field(console))
            @for (legend, settings) in GROUPS {
                fieldset {
                    legend { (legend) }
                    @for s in settings { (setting(s, values, errors)) }
                }
            }
            p { button type="submit" { "Save partner" } }
        }
    }
}
