//! Which payload keys rows name, across tenants: the orphan sweep's question. Every column
//! that holds a payload store key is here: `messages.payload_key` (a message's payload,
//! CEM documents included) and `mdns.raw_key` (a partner's MDN as received).

use std::collections::HashSet;

use diesel::prelude::*;

use crate::error::StoreResult;
use crate::schema::{mdns, messages};
use crate::store::Store;
use crate::with_conn;

/// The rows' references to payloads (not tenant-scoped: the payload store is shared).
#[derive(Debug)]
pub struct PayloadRefs<'a> {
    pub(crate) store: &'a Store,
}

/// Keys asked about in one query.
const BATCH: usize = 500;

impl PayloadRefs<'_> {
    /// The keys among `keys` that some row names.
    ///
    /// # Errors
    /// The database failed.
    pub fn referenced(&self, keys: &[String]) -> StoreResult<HashSet<String>> {
        let mut conn = self.store.db().conn()?;
        let mut found = HashSet::new();
        for batch in keys.chunks(BATCH) {
            let (by_messages, by_mdns) = with_conn!(&mut conn, |c| {
                let by_messages: Vec<Option<String>> = messages::table
                    .filter(messages::payload_key.eq_any(batch))
                    .select(messages::payload_key)
                    .load(c)?;
                let by_mdns: Vec<Option<String>> = mdns::table
                    .filter(mdns::raw_key.eq_any(batch))
                    .select(mdns::raw_key)
                    .load(c)?;
                Ok::<_, diesel::result::Error>((by_messages, by_mdns))
            })?;
            found.extend(by_messages.into_iter().chain(by_mdns).flatten());
        }
        Ok(found)
    }
}
