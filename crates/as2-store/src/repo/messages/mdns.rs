//! The MDN of each message: recorded once (with the MDN itself when it is ours), read one at
//! a time or for a whole page of messages in one query.

use as2_domain::id::MessageId;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::Message;
use as2_domain::pagination::PageRequest;
use diesel::prelude::*;

use super::{MessageFilter, Messages};
use crate::error::StoreResult;
use crate::schema::mdns;
use crate::scope::Scope;
use crate::time::from_db;
use crate::with_conn;

/// A message and its MDN, if one was recorded.
pub type MessageWithMdn = (Message, Option<MdnRecord>);

impl Messages<'_> {
    /// Records the MDN of a message of `scope` (one per message; a second replaces nothing).
    pub fn record_mdn(&self, scope: Scope, mdn: &MdnRecord) -> StoreResult<()> {
        self.record_mdn_with_raw(scope, mdn, None)
    }

    /// Records the MDN with the MDN itself as sent (headers and body), kept in its row.
    pub fn record_mdn_with_raw(
        &self,
        scope: Scope,
        mdn: &MdnRecord,
        raw: Option<&[u8]>,
    ) -> StoreResult<()> {
        self.store
            .transaction(|tx| tx.messages().record_mdn(scope, mdn, raw))
    }

    /// The MDN of a message of `scope`, if one was recorded.
    pub fn mdn(&self, scope: Scope, id: MessageId) -> StoreResult<Option<MdnRecord>> {
        Ok(self.mdns(scope, &[id])?.remove(&id))
    }

    /// A page of messages with their MDNs (two queries for the page, whatever its size), and
    /// the total.
    pub fn list_with_mdns(
        &self,
        scope: Scope,
        filter: MessageFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<MessageWithMdn>, i64)> {
        let (messages, total) = self.list(scope, filter, page)?;
        let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
        let mut mdns = self.mdns(scope, &ids)?;
        let rows = messages
            .into_iter()
            .map(|m| {
                let mdn = mdns.remove(&m.id);
                (m, mdn)
            })
            .collect();
        Ok((rows, total))
    }

    /// The MDN as sent, when it is kept in its row (see [`Messages::record_mdn_with_raw`]).
    pub fn mdn_raw(&self, scope: Scope, id: MessageId) -> StoreResult<Option<Vec<u8>>> {
        let mut conn = self.store.db().conn()?;
        let raw: Option<Option<Vec<u8>>> = with_conn!(&mut conn, |c| mdns::table
            .filter(mdns::message_id.eq(id.0))
            .filter(mdns::tenant_id.eq(scope.tenant()))
            .filter(mdns::mode.eq(scope.mode()))
            .select(mdns::raw)
            // one MDN per message: no LIMIT (see `crate::db`)
            .get_result(c)
            .optional())?;
        Ok(raw.flatten())
    }

    /// The MDNs of several messages of `scope` in one query (a page of a list), by message.
    pub fn mdns(
        &self,
        scope: Scope,
        ids: &[MessageId],
    ) -> StoreResult<std::collections::HashMap<MessageId, MdnRecord>> {
        type Row = (
            i64,
            String,
            bool,
            Option<String>,
            Option<bool>,
            bool,
            bool,
            Option<String>,
            Option<String>,
            chrono::NaiveDateTime,
        );
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let mut conn = self.store.db().conn()?;
        let rows: Vec<Row> = with_conn!(&mut conn, |c| mdns::table
            .filter(mdns::message_id.eq_any(&raw))
            .filter(mdns::tenant_id.eq(scope.tenant()))
            .filter(mdns::mode.eq(scope.mode()))
            .select((
                mdns::message_id,
                mdns::disposition,
                mdns::positive,
                mdns::mic,
                mdns::mic_matched,
                mdns::signed,
                mdns::verified,
                mdns::original_message_id,
                mdns::raw_key,
                mdns::created_at,
            ))
            .load(c))?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    message,
                    disposition,
                    positive,
                    mic,
                    mic_matched,
                    signed,
                    verified,
                    original_message_id,
                    raw_key,
                    at,
                )| {
                    let message_id = MessageId(message);
                    let record = MdnRecord {
                        message_id,
                        disposition,
                        positive,
                        mic,
                        mic_matched,
                        signed,
                        verified,
                        original_message_id,
                        raw_key,
                        created_at: from_db(at),
                    };
                    (message_id, record)
                },
            )
            .collect())
    }
}
