//! The messages export (anyone who may read the tenant, like `GET /v1/exports/messages`):
//! a form of two days on the messages page that downloads the API's own zip for the messages
//! created from the start of the first day to the end of the last (UTC); a range the API
//! refuses shows the form again with its sentences beside the fields (422). A range of more
//! than [`MAX_EXPORT_MESSAGES`] messages comes in parts: the zip's `manifest.json` says
//! `complete: false` and names `next_after`, which the form's "Continue after" field takes;
//! the answer carries the API's `Link` (to this page) and `X-Export-Next-After` headers.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate};
use maud::{Markup, html};

use crate::console::layout::page;
use crate::console::session::ConsoleSession;
use crate::error::FieldErrors;
use crate::params::QueryMap;
use crate::routes::exports::{MAX_EXPORT_DAYS, MAX_EXPORT_MESSAGES, export};
use crate::state::AppState;

/// The two fields: name (the API's parameter), label.
const FIELDS: [(&str, &str); 2] = [("since", "First day"), ("until", "Last day")];

/// The cursor of a part after the first (the API's `after`).
const AFTER: &str = "after";

/// Passed on as typed when the address has them: the cursor, and the API's `limit` (no
/// field of the form; the `Link` to a next part keeps it).
const PASSED_ON: [&str; 2] = [AFTER, "limit"];

/// The API's query from the form: a day's start for `since`, the next day's start for
/// `until` (the last day included); anything that is no day is passed as typed, for the
/// API to accept (a date-time) or to name; an empty field is left out (the API requires it).
fn query_of(values: &HashMap<String, String>) -> QueryMap {
    let mut query = QueryMap::new();
    for (name, _) in FIELDS {
        let Some(text) = values.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
            continue;
        };
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let day = if name == "until" {
            day.and_then(|d| d.checked_add_days(Days::new(1)))
        } else {
            day
        };
        let value = match day {
            Some(day) => format!("{}T00:00:00Z", day.format("%Y-%m-%d")),
            None => text.to_owned(),
        };
        query.insert(name.to_owned(), value);
    }
    for name in PASSED_ON {
        if let Some(value) = values.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            query.insert(name.to_owned(), value.to_owned());
        }
    }
    query
}

/// The export form, with what was sent and the API's sentences beside the fields.
pub fn form(values: &HashMap<String, String>, errors: &FieldErrors) -> Markup {
    html! {
        section aria-labelledby="export-heading" {
            h2 id="export-heading" { "Export" }
            form method="get" action="/console/messages/export" class="filters" novalidate {
                @for (name, label) in FIELDS {
                    @let id = format!("export-{name}");
                    @let invalid = errors.contains_key(name);
                    div class="field" {
                        label for=(id) { (label) }
                        input id=(id) name=(name) type="date" value=[values.get(name)]
                            aria-describedby={ "export-hint" @if invalid { " " (id) "-error" } }
                            aria-invalid=[invalid.then_some("true")];
                        @if let Some(sentences) = errors.get(name) {
                            p class="error" id={ (id) "-error" } { @for s in sentences { (s) " " } }
                        }
                    }
                }
                @let invalid = errors.contains_key(AFTER);
                div class="field" {
                    label for="export-after" { "Continue after (optional)" }
                    input id="export-after" name=(AFTER) type="text" value=[values.get(AFTER)]
                        placeholder="msg_…" aria-describedby={ "export-parts" @if invalid { " export-after-error" } }
                        aria-invalid=[invalid.then_some("true")];
                    @if let Some(sentences) = errors.get(AFTER) {
                        p class="error" id="export-after-error" { @for s in sentences { (s) " " } }
                    }
                }
                button type="submit" { "Download zip" }
            }
            small id="export-hint" {
                "The messages created from the start of the first day to the end of the last (UTC), at most "
                (MAX_EXPORT_DAYS) " days, with their MDNs, timelines and payloads, as a zip."
            }
            p id="export-parts" { small {
                "A zip holds at most " (MAX_EXPORT_MESSAGES) " messages. When the range holds more, its "
                code { "manifest.json" } " says " code { "\"complete\": false" } " and names "
                code { "next_after" } ": download the next part with the same days and that id in "
                "\"Continue after\", until a manifest says " code { "\"complete\": true" } "."
            } }
        }
    }
}

/// `GET /console/messages/export`: the API's zip, or the form with its sentences (422).
pub async fn download(
    State(state): State<AppState>,
    console: ConsoleSession,
    Query(values): Query<HashMap<String, String>>,
) -> Response {
    let Some(scope) = console.scope() else {
        return page(
            "Export messages",
            Some(&console),
            html! { p { "No tenant." } },
        )
        .into_response();
    };
    let query = query_of(&values);
    let error = match export(state, scope, &query, "/console/messages/export").await {
        Ok(zip) => return zip,
        Err(error) => error,
    };
    let Some(errors) = error.field_errors() else {
        return error.into_response();
    };
    let content = html! {
        div class="error" role="alert" {
            p { "Nothing was exported: correct the fields marked below." }
            @let other: Vec<&String> = errors.keys().filter(|k| k.as_str() != AFTER && !FIELDS.iter().any(|(n, _)| n == k)).collect();
            @if !other.is_empty() { ul { @for k in other { @for s in &errors[k] { li { (k) ": " (s) } } } } }
        }
        p { a href="/console/messages" { "All messages" } }
        (form(&values, errors))
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        page("Export messages", Some(&console), content),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_the_range_with_the_last_day_included() {
        let values = HashMap::from([
            ("since".to_owned(), "2026-12-01".to_owned()),
            ("until".to_owned(), "2026-12-31".to_owned()),
        ]);
        let query = query_of(&values);
        assert_eq!(query["since"], "2026-12-01T00:00:00Z");
        assert_eq!(query["until"], "2027-01-01T00:00:00Z");
        let typed = HashMap::from([
            ("since".to_owned(), "yesterday".to_owned()),
            ("until".to_owned(), " ".to_owned()),
        ]);
        let query = query_of(&typed);
        assert_eq!(query["since"], "yesterday");
        assert!(!query.contains_key("until"));
    }
}
