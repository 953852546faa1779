//! The evidence bundle of a message, kept once made: the files that are not kept elsewhere
//! (manifest, timeline, certificate chains) and the RFC 3161 time-stamp response over the
//! manifest. The first bundle stored for a message wins, so every download is the same.

use as2_domain::id::MessageId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::StoreResult;
use crate::schema::message_evidence;
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::with_conn;

/// The evidence of messages.
#[derive(Debug)]
pub struct MessageEvidence<'a> {
    pub(crate) store: &'a Store,
}

/// A message's stored evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvidence {
    /// `manifest.json`.
    pub manifest: Vec<u8>,
    /// `timeline.json`.
    pub timeline: Vec<u8>,
    /// `signer-chain.pem`: the certificate(s) the MDN's signature verifies under.
    pub signer_chain: Vec<u8>,
    /// `tsa-chain.pem`: the certificate(s) the time-stamp verifies under.
    pub tsa_chain: Vec<u8>,
    /// `timestamp.tsr`: an RFC 3161 TimeStampResp over the SHA-256 of the manifest.
    pub timestamp_response: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

type Row = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    chrono::NaiveDateTime,
);

impl MessageEvidence<'_> {
    /// The evidence stored for message `id` of `scope`, if any.
    pub fn get(&self, scope: Scope, id: MessageId) -> StoreResult<Option<StoredEvidence>> {
        let mut conn = self.store.db().conn()?;
        let row: Option<Row> = with_conn!(&mut conn, |c| scoped!(message_evidence, scope)
            .filter(message_evidence::message_id.eq(id.0))
            .select((
                message_evidence::manifest,
                message_evidence::timeline,
                message_evidence::signer_chain,
                message_evidence::tsa_chain,
                message_evidence::timestamp_response,
                message_evidence::created_at,
            ))
            .first(c)
            .optional())?;
        Ok(row.map(
            |(manifest, timeline, signer_chain, tsa_chain, timestamp_response, created_at)| {
                StoredEvidence {
                    manifest,
                    timeline,
                    signer_chain,
                    tsa_chain,
                    timestamp_response,
                    created_at: from_db(created_at),
                }
            },
        ))
    }

    /// Stores `evidence` for message `id` unless some is stored already, and returns the
    /// evidence in force (the first stored wins when two requests race).
    pub fn keep(
        &self,
        scope: Scope,
        id: MessageId,
        evidence: &StoredEvidence,
    ) -> StoreResult<StoredEvidence> {
        {
            let mut conn = self.store.db().conn()?;
            with_conn!(&mut conn, |c| diesel::insert_into(message_evidence::table)
                .values((
                    message_evidence::message_id.eq(id.0),
                    message_evidence::tenant_id.eq(scope.tenant()),
                    message_evidence::mode.eq(scope.mode()),
                    message_evidence::manifest.eq(&evidence.manifest),
                    message_evidence::timeline.eq(&evidence.timeline),
                    message_evidence::signer_chain.eq(&evidence.signer_chain),
                    message_evidence::tsa_chain.eq(&evidence.tsa_chain),
                    message_evidence::timestamp_response.eq(&evidence.timestamp_response),
                    message_evidence::created_at.eq(to_db(now())),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
        }
        self.get(scope, id)?.ok_or(crate::StoreError::NotFound)
    }
}
