//! The webhook endpoint form: every setting `POST /v1/webhook-endpoints` and `PUT
//! /v1/webhook-endpoints/{id}` take (URL, description, events one a line, active), with its
//! label, hint and the API's sentences beside it, filled from an endpoint or from what was
//! sent, and the API's body made from it. The secret is never part of it.

use std::collections::HashMap;

use as2_domain::webhook::{EventType, WebhookEndpoint};
use maud::{Markup, html};

use crate::console::layout::csrf_field;
use crate::console::session::ConsoleSession;
use crate::error::FieldErrors;
use crate::routes::webhooks::WebhookInput;

/// Every field the form shows (the sentences for any other come first, above the form).
const SHOWN: [&str; 4] = ["url", "description", "events", "active"];

/// The form's values of a stored endpoint.
pub fn values_of(endpoint: &WebhookEndpoint) -> HashMap<String, String> {
    let s = &endpoint.settings;
    let mut values = HashMap::from([
        ("url".to_owned(), s.url.clone()),
        (
            "description".to_owned(),
            s.description.clone().unwrap_or_default(),
        ),
        ("events".to_owned(), s.events.join("\n")),
    ]);
    if s.active {
        values.insert("active".to_owned(), "true".to_owned());
    }
    values
}

/// The API's body from the form: every setting as shown (an empty description is none, one
/// event a line, blank lines skipped, an unchecked box inactive).
pub fn input_of(values: &HashMap<String, String>) -> WebhookInput {
    let text = |name: &str| {
        values
            .get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let description = text("description");
    let events = values
        .get("events")
        .map(|e| {
            e.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    WebhookInput {
        url: Some(text("url")),
        description: Some((!description.is_empty()).then_some(description)),
        events: Some(events),
        active: Some(values.contains_key("active")),
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

/// Where the form posts, its button, and what was not done when there are sentences.
#[derive(Debug, Clone, Copy)]
pub struct WebhookForm<'a> {
    /// Where the form posts.
    pub action: &'a str,
    /// The submit button's text.
    pub submit: &'a str,
    /// "The endpoint was not created" or "… saved".
    pub failed: &'a str,
}

/// The form itself.
pub fn form(
    console: &ConsoleSession,
    spec: &WebhookForm<'_>,
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> Markup {
    let other: Vec<(&String, &Vec<String>)> = errors
        .iter()
        .filter(|(field, _)| !SHOWN.contains(&field.as_str()))
        .collect();
    let invalid = |name: &str| errors.contains_key(name).then_some("true");
    html! {
        p { a href="/console/webhooks" { "All webhook endpoints" } }
        @if !errors.is_empty() {
            div class="error" role="alert" id="form-errors" {
                p { (spec.failed) ": correct the fields marked below." }
                @if !other.is_empty() {
                    ul { @for (field, sentences) in &other { @for s in *sentences { li { (field) ": " (s) } } } }
                }
            }
        }
        form method="post" action=(spec.action) novalidate {
            (csrf_field(console))
            div class="field" {
                label for="url" { "URL" }
                input id="url" name="url" type="url" value=[values.get("url")]
                    aria-describedby=(described("url", errors)) aria-invalid=[invalid("url")];
                small id="url-hint" { "Where events are posted (HTTPS in live mode)" }
                (sentences("url", errors))
            }
            div class="field" {
                label for="description" { "Description" }
                input id="description" name="description" type="text" value=[values.get("description")]
                    aria-describedby=(described("description", errors)) aria-invalid=[invalid("description")];
                small id="description-hint" { "Free text, at most 1000 characters" }
                (sentences("description", errors))
            }
            div class="field" {
                label for="events" { "Events" }
                textarea id="events" name="events" rows="4" cols="40"
                    aria-describedby=(described("events", errors)) aria-invalid=[invalid("events")] {
                    (values.get("events").map(String::as_str).unwrap_or_default())
                }
                small id="events-hint" {
                    "One a line: " code { "*" } " for all, a prefix such as " code { "message.*" } ", or one of "
                    @for (i, e) in EventType::ALL.iter().enumerate() { @if i > 0 { ", " } code { (e) } }
                }
                (sentences("events", errors))
            }
            div class="field" {
                label {
                    input type="checkbox" id="active" name="active" value="true"
                        checked[values.contains_key("active")] aria-describedby="active-hint";
                    " Active"
                }
                small id="active-hint" { "A paused endpoint gets no delivery" }
                (sentences("active", errors))
            }
            p { button type="submit" { (spec.submit) } }
        }
    }
}
