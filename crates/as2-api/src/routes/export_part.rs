//! Which part of a range one message export holds: the query (`since`, `until`, the cursor
//! `after` and the `limit`), the messages of the range in (created_at, id) order after the
//! cursor (keyset paging, at most [`MAX_EXPORT_MESSAGES`]), and what tells a client that more
//! remain: the `Link: <…>; rel="next"` and `X-Export-Next-After` headers and the zip's
//! `manifest.json`, so an export is never silently short.

use as2_domain::ValidationErrors;
use as2_domain::id::MessageId;
use as2_store::Scope;
use as2_store::repo::messages::Cursor;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::ApiError;
use crate::params::{QueryMap, only, time};
use crate::state::AppState;
use crate::time::format;

/// The longest range one export covers.
pub const MAX_EXPORT_DAYS: i64 = 31;

/// The most messages one export holds (the zip's directory is kept until its end); a range
/// with more is exported in parts.
pub const MAX_EXPORT_MESSAGES: i64 = 10_000;

/// The query parameters an export takes.
pub const PARAMETERS: [&str; 4] = ["since", "until", "after", "limit"];

/// What an export was asked for.
#[derive(Debug, Clone)]
pub struct ExportQuery {
    /// Messages created at or after it.
    pub since: DateTime<Utc>,
    /// Messages created before it.
    pub until: DateTime<Utc>,
    /// The last message of the previous part, if this is not the first.
    pub after: Option<MessageId>,
    /// The most messages of this part, when the client said.
    pub limit: Option<i64>,
}

impl ExportQuery {
    /// The query of `query`, or the 422 naming each wrong parameter.
    pub fn parse(query: &QueryMap) -> Result<Self, ApiError> {
        let mut errors = ValidationErrors::new();
        only(query, &PARAMETERS, &mut errors);
        let since = time(query, "since", &mut errors);
        let until = time(query, "until", &mut errors);
        for name in ["since", "until"] {
            if !query.contains_key(name) {
                errors.add(name, "This parameter is required");
            }
        }
        if let (Some(since), Some(until)) = (since, until) {
            if until <= since {
                errors.add("until", "The until time must be after the since time");
            } else if until - since > chrono::Duration::days(MAX_EXPORT_DAYS) {
                errors.add(
                    "until",
                    format!("An export covers at most {MAX_EXPORT_DAYS} days; split the range"),
                );
            }
        }
        let after = query.get("after").and_then(|raw| {
            let parsed = raw.trim().parse::<MessageId>().ok();
            if parsed.is_none() {
                errors.add(
                    "after",
                    "The cursor is a message id (msg_…): the last one of the previous part",
                );
            }
            parsed
        });
        let limit = query.get("limit").and_then(|raw| {
            let parsed = raw
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_EXPORT_MESSAGES).contains(n));
            if parsed.is_none() {
                errors.add(
                    "limit",
                    format!("The limit is 1 to {MAX_EXPORT_MESSAGES} messages"),
                );
            }
            parsed
        });
        errors.into_result(())?;
        match (since, until) {
            (Some(since), Some(until)) => Ok(Self {
                since,
                until,
                after,
                limit,
            }),
            _ => Err(ApiError::internal(&std::io::Error::other(
                "range checked above",
            ))),
        }
    }

    /// The query of the part after `last`, as a query string.
    pub fn next_query(&self, last: MessageId) -> String {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        next.append_pair("since", &format(self.since));
        next.append_pair("until", &format(self.until));
        if let Some(limit) = self.limit {
            next.append_pair("limit", &limit.to_string());
        }
        next.append_pair("after", &last.to_string());
        next.finish()
    }
}

/// The messages of one part, in order, and the cursor of the next part when more remain.
#[derive(Debug, Clone)]
pub struct Part {
    /// The messages, in (created_at, id) order.
    pub ids: Vec<MessageId>,
    /// The last of them, when the range holds more after it.
    pub next_after: Option<MessageId>,
}

/// The part `query` asks for in `scope`: `after` must be a message of the scope created in
/// the range (else the 422 naming `after`).
pub fn plan(state: &AppState, scope: Scope, query: &ExportQuery) -> Result<Part, ApiError> {
    let messages = state.store().messages();
    let cursor = match query.after {
        None => None,
        Some(id) => {
            let message = messages.get(scope, id).map_err(|e| match e {
                as2_store::StoreError::NotFound => {
                    ApiError::field("after", "No message of this tenant and mode has this id")
                }
                other => other.into(),
            })?;
            if message.created_at < query.since || message.created_at >= query.until {
                return Err(ApiError::field(
                    "after",
                    "This message was not created in the range: pass the last message of the previous part of the same range",
                ));
            }
            Some(Cursor {
                created_at: message.created_at,
                id,
            })
        }
    };
    let limit = query.limit.unwrap_or(MAX_EXPORT_MESSAGES);
    let found = messages.ids_after(scope, (query.since, query.until), cursor, limit + 1)?;
    let mut ids: Vec<MessageId> = found.into_iter().map(|c| c.id).collect();
    let more = ids.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    ids.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_after = if more { ids.last().copied() } else { None };
    Ok(Part { ids, next_after })
}

/// `manifest.json`: what the zip holds and whether it is the range's last part.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// The range's start (RFC 3339).
    pub since: String,
    /// The range's end (RFC 3339).
    pub until: String,
    /// The cursor this part began after.
    pub after: Option<String>,
    /// The messages in `messages.jsonl`.
    pub count: usize,
    /// Whether no message of the range remains after this part.
    pub complete: bool,
    /// The cursor of the next part (`after=`), when it is not complete.
    pub next_after: Option<String>,
}

impl Manifest {
    /// The manifest of `part` of `query` holding `count` messages.
    pub fn new(query: &ExportQuery, part: &Part, count: usize) -> Self {
        Self {
            since: format(query.since),
            until: format(query.until),
            after: query.after.map(|a| a.to_string()),
            count,
            complete: part.next_after.is_none(),
            next_after: part.next_after.map(|a| a.to_string()),
        }
    }
}
