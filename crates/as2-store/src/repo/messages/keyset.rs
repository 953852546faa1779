//! Keyset paging of a creation range: the messages of `[since, until)` in (created_at, id)
//! order after a cursor, a limited number at a time, so a range of any size is walked in
//! parts that each resume where the last ended (messages added or purged meanwhile move no
//! part's start, as an offset would); and a part's messages read back by id with their MDNs.

use as2_domain::id::MessageId;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{MessageRow, MessageWithMdn, Messages};
use crate::error::StoreResult;
use crate::schema::messages;
use crate::scope::Scope;
use crate::time::{from_db, to_db};
use crate::with_conn;

/// A place in the (created_at, id) order: a message's creation time and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// When the message was created.
    pub created_at: DateTime<Utc>,
    /// Its id (orders messages created at the same instant).
    pub id: MessageId,
}

impl Messages<'_> {
    /// At most `limit` messages of `scope` created in `[since, until)` after `after` (from
    /// the range's start without one), in (created_at, id) order: their places.
    pub fn ids_after(
        &self,
        scope: Scope,
        (since, until): (DateTime<Utc>, DateTime<Utc>),
        after: Option<Cursor>,
        limit: i64,
    ) -> StoreResult<Vec<Cursor>> {
        let mut conn = self.store.db().conn()?;
        let rows: Vec<(i64, NaiveDateTime)> = with_conn!(&mut conn, |c| {
            let mut query = scoped!(messages, scope)
                .filter(messages::created_at.ge(to_db(since)))
                .filter(messages::created_at.lt(to_db(until)))
                .into_boxed();
            if let Some(after) = after {
                let at = to_db(after.created_at);
                query = query.filter(
                    messages::created_at
                        .gt(at)
                        .or(messages::created_at.eq(at).and(messages::id.gt(after.id.0))),
                );
            }
            query
                .order((messages::created_at.asc(), messages::id.asc()))
                .limit(limit)
                .select((messages::id, messages::created_at))
                .load(c)
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, at)| Cursor {
                created_at: from_db(at),
                id: MessageId(id),
            })
            .collect())
    }

    /// The messages of `scope` among `ids` with their MDNs, in (created_at, id) order (two
    /// queries; an id no longer there, purged meanwhile, is left out).
    pub fn with_mdns(&self, scope: Scope, ids: &[MessageId]) -> StoreResult<Vec<MessageWithMdn>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let mut conn = self.store.db().conn()?;
        let rows: Vec<MessageRow> = with_conn!(&mut conn, |c| scoped!(messages, scope)
            .filter(messages::id.eq_any(&raw))
            .order((messages::created_at.asc(), messages::id.asc()))
            .select(MessageRow::as_select())
            .load(c))?;
        drop(conn);
        let found: Vec<as2_domain::message::Message> = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<StoreResult<_>>()?;
        let present: Vec<MessageId> = found.iter().map(|m| m.id).collect();
        let mut mdns = self.mdns(scope, &present)?;
        Ok(found
            .into_iter()
            .map(|m| {
                let mdn = mdns.remove(&m.id);
                (m, mdn)
            })
            .collect())
    }
}
