//! The message search: filters (status, direction, partner, station, time, AS2 Message-ID,
//! file name and subject substrings, case-insensitive on both backends) and the sort order,
//! always tie-broken on the id so that pages are stable.

use as2_domain::id::{PartnerId, StationId};
use as2_domain::message::{Direction, Message, MessageStatus};
use as2_domain::pagination::PageRequest;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use super::{MessageRow, Messages};
use crate::error::StoreResult;
use crate::repo::converted;
use crate::schema::messages;
use crate::scope::Scope;
use crate::time::to_db;
use crate::with_conn;

diesel::define_sql_function! {
    /// SQL `lower()` (ASCII on SQLite, Unicode on PostgreSQL).
    #[sql_name = "lower"]
    fn lower_text(x: Nullable<Text>) -> Nullable<Text>;
}

/// Filters of the message list.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// Only this status.
    pub status: Option<MessageStatus>,
    /// Only this direction.
    pub direction: Option<Direction>,
    /// Only this partner.
    pub partner_id: Option<PartnerId>,
    /// Only this station.
    pub station_id: Option<StationId>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
    /// Only this AS2 `Message-ID` (exact, with its angle brackets).
    pub as2_message_id: Option<String>,
    /// File name containing this text, case-insensitively.
    pub filename: Option<String>,
    /// Subject containing this text, case-insensitively.
    pub subject: Option<String>,
    /// The order (default: newest first).
    pub sort: MessageSort,
}

/// What a message list is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Payload size.
    Bytes,
}

/// A sort order: a key and a direction (ties broken on the id, in the same direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSort {
    /// The key.
    pub key: SortKey,
    /// Largest (newest) first.
    pub descending: bool,
}

impl Default for MessageSort {
    fn default() -> Self {
        Self {
            key: SortKey::CreatedAt,
            descending: true,
        }
    }
}

impl MessageSort {
    /// The names `parse` accepts, each also with a leading `-` (descending).
    pub const KEYS: [&'static str; 3] = ["created_at", "updated_at", "bytes"];

    /// `created_at` (ascending) or `-created_at` (descending), likewise `updated_at` and
    /// `bytes`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (descending, name) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let key = match name {
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            "bytes" => SortKey::Bytes,
            _ => return None,
        };
        Some(Self { key, descending })
    }
}

/// `needle` as a LIKE pattern matching it anywhere, its wildcards escaped with `\`.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Messages<'_> {
    /// Messages of `scope` matching `filter` in its order, and their total.
    pub fn list(
        &self,
        scope: Scope,
        filter: MessageFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<Message>, i64)> {
        let MessageFilter {
            status,
            direction,
            partner_id,
            station_id,
            created_after,
            created_before,
            as2_message_id,
            filename,
            subject,
            sort,
        } = filter;
        let filename = filename.as_deref().map(contains_pattern);
        let subject = subject.as_deref().map(contains_pattern);
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<MessageRow>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                let mut query = scoped!(messages, scope).into_boxed();
                if let Some(status) = status {
                    query = query.filter(messages::status.eq(status.as_str()));
                }
                if let Some(direction) = direction {
                    query = query.filter(messages::direction.eq(direction.as_str()));
                }
                if let Some(partner) = partner_id {
                    query = query.filter(messages::partner_id.eq(partner.0));
                }
                if let Some(station) = station_id {
                    query = query.filter(messages::station_id.eq(station.0));
                }
                if let Some(after) = created_after {
                    query = query.filter(messages::created_at.ge(to_db(after)));
                }
                if let Some(before) = created_before {
                    query = query.filter(messages::created_at.lt(to_db(before)));
                }
                if let Some(id) = as2_message_id.as_deref() {
                    query = query.filter(messages::as2_message_id.eq(id));
                }
                if let Some(pattern) = filename.as_deref() {
                    query = query.filter(
                        lower_text(messages::filename)
                            .like(lower_text(Some(pattern)))
                            .escape('\\'),
                    );
                }
                if let Some(pattern) = subject.as_deref() {
                    query = query.filter(
                        lower_text(messages::subject)
                            .like(lower_text(Some(pattern)))
                            .escape('\\'),
                    );
                }
                query
            };
            let total: i64 = base().count().get_result(c)?;
            let sorted = match (sort.key, sort.descending) {
                (SortKey::CreatedAt, true) => {
                    base().order((messages::created_at.desc(), messages::id.desc()))
                }
                (SortKey::CreatedAt, false) => {
                    base().order((messages::created_at.asc(), messages::id.asc()))
                }
                (SortKey::UpdatedAt, true) => {
                    base().order((messages::updated_at.desc(), messages::id.desc()))
                }
                (SortKey::UpdatedAt, false) => {
                    base().order((messages::updated_at.asc(), messages::id.asc()))
                }
                (SortKey::Bytes, true) => {
                    base().order((messages::bytes.desc(), messages::id.desc()))
                }
                (SortKey::Bytes, false) => {
                    base().order((messages::bytes.asc(), messages::id.asc()))
                }
            };
            let rows: Vec<MessageRow> = sorted
                .limit(page.per_page)
                .offset(page.offset())
                .select(MessageRow::as_select())
                .load(c)?;
            Ok::<_, diesel::result::Error>((rows, total))
        })?;
        converted(rows, total)
    }
}

#[cfg(test)]
mod tests {
    use super::{MessageSort, SortKey, contains_pattern};

    #[test]
    fn sorts_parse_with_and_without_minus() {
        assert_eq!(
            MessageSort::parse("-bytes"),
            Some(MessageSort {
                key: SortKey::Bytes,
                descending: true
            })
        );
        assert_eq!(
            MessageSort::parse("created_at"),
            Some(MessageSort {
                key: SortKey::CreatedAt,
                descending: false
            })
        );
        assert_eq!(MessageSort::parse("status"), None);
        assert_eq!(MessageSort::parse("--bytes"), None);
    }

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
