//! The messages list's filters: status, direction, partner, station, creation dates (whole
//! UTC days), AS2 Message-ID, file name and subject, read from the query string; a value
//! that does not parse is ignored, like an empty one.

use std::collections::HashMap;

use as2_domain::message::{Direction, MessageStatus};
use as2_domain::partner::Partner;
use as2_domain::station::Station;
use as2_store::repo::messages::MessageFilter;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use maud::{Markup, html};

/// The start of the UTC day `text` (`2026-12-06`).
fn day(text: &str) -> Option<DateTime<Utc>> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
}

/// A text filter of the query, trimmed, when not empty.
fn text(query: &HashMap<String, String>, name: &str) -> Option<String> {
    query
        .get(name)
        .map(|v| v.trim().chars().take(256).collect::<String>())
        .filter(|v| !v.is_empty())
}

/// The store's filter from the query; a value that does not parse filters nothing.
pub fn filters(query: &HashMap<String, String>) -> MessageFilter {
    MessageFilter {
        status: text(query, "status").and_then(|s| s.parse().ok()),
        direction: text(query, "direction").and_then(|s| s.parse().ok()),
        as2_message_id: text(query, "message_id"),
        filename: text(query, "filename"),
        subject: text(query, "subject"),
        partner_id: text(query, "partner").and_then(|p| p.parse().ok()),
        station_id: text(query, "station").and_then(|p| p.parse().ok()),
        created_after: text(query, "from").and_then(|d| day(&d)),
        created_before: text(query, "to")
            .and_then(|d| day(&d))
            .map(|d| d + Duration::days(1)),
        ..MessageFilter::default()
    }
}

/// The filter form, showing the query's choices.
pub fn form(query: &HashMap<String, String>, partners: &[Partner], stations: &[Station]) -> Markup {
    let chosen = |name: &str, value: &str| query.get(name).is_some_and(|v| v == value);
    html! {
        form class="filters" method="get" action="/console/messages" aria-label="Filter messages" {
            div class="field" {
                label for="f-status" { "Status" }
                select id="f-status" name="status" {
                    option value="" { "any" }
                    @for s in MessageStatus::ALL {
                        option value=(s) selected[chosen("status", s.as_str())] { (s) }
                    }
                }
            }
            div class="field" {
                label for="f-direction" { "Direction" }
                select id="f-direction" name="direction" {
                    option value="" { "any" }
                    @for d in Direction::ALL {
                        option value=(d) selected[chosen("direction", d.as_str())] { (d) }
                    }
                }
            }
            div class="field" {
                label for="f-partner" { "Partner" }
                select id="f-partner" name="partner" {
                    option value="" { "any" }
                    @for p in partners {
                        option value=(p.id) selected[chosen("partner", &p.id.to_string())] { (p.settings.name) }
                    }
                }
            }
            div class="field" {
                label for="f-station" { "Station" }
                select id="f-station" name="station" {
                    option value="" { "any" }
                    @for st in stations {
                        option value=(st.id) selected[chosen("station", &st.id.to_string())] { (st.settings.name) }
                    }
                }
            }
            div class="field" {
                label for="f-from" { "Created from" }
                input id="f-from" name="from" type="date" value=[query.get("from")];
            }
            div class="field" {
                label for="f-to" { "Created to" }
                input id="f-to" name="to" type="date" value=[query.get("to")];
            }
            div class="field" {
                label for="f-mid" { "AS2 Message-ID" }
                input id="f-mid" name="message_id" value=[query.get("message_id")];
            }
            div class="field" {
                label for="f-file" { "File name contains" }
                input id="f-file" name="filename" value=[query.get("filename")];
            }
            div class="field" {
                label for="f-subject" { "Subject contains" }
                input id="f-subject" name="subject" value=[query.get("subject")];
            }
            div class="field" { button type="submit" { "Filter" } }
        }
    }
}
