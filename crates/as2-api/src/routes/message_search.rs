//! The query of `GET /v1/messages`: its filters (status, direction, partner, station,
//! creation time, AS2 Message-ID, file name and subject) and `sort`, checked into a
//! [`MessageFilter`], every bad parameter named.

use as2_domain::ValidationErrors;
use as2_domain::id::{PartnerId, StationId};
use as2_domain::message::{Direction, MessageStatus};
use as2_store::repo::messages::{MessageFilter, MessageSort};

use crate::params::{QueryMap, parsed, time};

/// The query parameters `GET /v1/messages` knows.
pub const PARAMETERS: [&str; 12] = [
    "page",
    "per_page",
    "status",
    "direction",
    "partner_id",
    "station_id",
    "created_after",
    "created_before",
    "message_id",
    "filename",
    "subject",
    "sort",
];

/// A text filter: trimmed, not empty, at most `max` characters, no control characters.
fn text(query: &QueryMap, name: &str, max: usize, errors: &mut ValidationErrors) -> Option<String> {
    let value = query.get(name)?.trim();
    let label = name.replace('_', " ");
    if value.is_empty() {
        errors.add(name, format!("The {label} filter must not be empty"));
        return None;
    }
    if value.chars().count() > max {
        errors.add(
            name,
            format!("The {label} filter must be at most {max} characters"),
        );
        return None;
    }
    if value.chars().any(char::is_control) {
        errors.add(
            name,
            format!("The {label} filter must not contain control characters"),
        );
        return None;
    }
    Some(value.to_owned())
}

/// The AS2 Message-ID asked for, with its angle brackets whether or not they were given.
fn message_id(query: &QueryMap, errors: &mut ValidationErrors) -> Option<String> {
    let value = text(query, "message_id", 998, errors)?;
    let bare = value
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .unwrap_or(&value);
    if bare.is_empty() || bare.contains(['<', '>']) || bare.chars().any(char::is_whitespace) {
        errors.add(
            "message_id",
            "The message id must be an AS2 Message-ID such as <abc@example.com>, with or without its angle brackets",
        );
        return None;
    }
    Some(format!("<{bare}>"))
}

/// The sort order asked for (default: newest first).
fn sort(query: &QueryMap, errors: &mut ValidationErrors) -> MessageSort {
    let Some(value) = query.get("sort") else {
        return MessageSort::default();
    };
    MessageSort::parse(value.trim()).unwrap_or_else(|| {
        let names: Vec<String> = MessageSort::KEYS
            .iter()
            .flat_map(|k| [(*k).to_owned(), format!("-{k}")])
            .collect();
        errors.add(
            "sort",
            format!("The sort must be one of {}", names.join(", ")),
        );
        MessageSort::default()
    })
}

/// The filter a list query asks for; what is wrong is added to `errors`.
pub fn filter(query: &QueryMap, errors: &mut ValidationErrors) -> MessageFilter {
    let filter = MessageFilter {
        status: parsed::<MessageStatus>(
            query,
            "status",
            "The status must be one of queued, processing, sent, delivered, failed, received",
            errors,
        ),
        direction: parsed::<Direction>(
            query,
            "direction",
            "The direction must be inbound or outbound",
            errors,
        ),
        partner_id: parsed::<PartnerId>(
            query,
            "partner_id",
            "The partner id must look like prt_000001",
            errors,
        ),
        station_id: parsed::<StationId>(
            query,
            "station_id",
            "The station id must look like stn_000001",
            errors,
        ),
        created_after: time(query, "created_after", errors),
        created_before: time(query, "created_before", errors),
        as2_message_id: message_id(query, errors),
        filename: text(query, "filename", 255, errors),
        subject: text(query, "subject", 998, errors),
        sort: sort(query, errors),
    };
    if let (Some(after), Some(before)) = (filter.created_after, filter.created_before)
        && after > before
    {
        errors.add(
            "created_before",
            "The created before time must not be earlier than created after",
        );
    }
    filter
}
