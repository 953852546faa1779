//! A new received message's first record, owned: its row, its first timeline entry, its MDN
//! and its event, written by a transaction that may run on another writer's thread
//! (`Store::transaction_owned`: on SQLite the holder of the writers' turn runs it in its
//! group instead of waking this thread for it).

use as2_domain::algorithms::MdnMode;
use as2_domain::id::{PartnerId, StationId};
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, Message, MessageError, MessageStatus, PayloadRef};
use as2_store::repo::messages::NewMessage;
use as2_store::{Announce, Scope, StoreResult, Tx};

/// Everything a new inbound message's first record holds.
pub(super) struct NewRecord {
    pub(super) scope: Scope,
    pub(super) partner_id: PartnerId,
    pub(super) station_id: StationId,
    pub(super) as2_message_id: String,
    pub(super) subject: Option<String>,
    pub(super) mdn_mode: MdnMode,
    pub(super) outcome: Outcome,
    /// The MDN answered, with its bytes as sent.
    pub(super) mdn: Option<(MdnRecord, Vec<u8>)>,
    /// The webhook event it announces.
    pub(super) announce: Announce,
    /// A note for the timeline after the first entry (a certificate exchange's).
    pub(super) note: Option<(&'static str, String)>,
}

/// How the message arrived: received with its payload, or failed.
pub(super) enum Outcome {
    Received {
        filename: Option<String>,
        content_type: String,
        bytes: i64,
        sha256: String,
        payload: PayloadRef,
        mic: String,
    },
    Failed(MessageError),
}

impl NewRecord {
    /// Writes the record in `tx`: the row, its first timeline entry, its MDN and its event
    /// (one statement on PostgreSQL), then the note.
    pub(super) fn write(&self, tx: &mut Tx<'_>) -> StoreResult<Message> {
        let base = NewMessage {
            direction: Direction::Inbound,
            partner_id: self.partner_id,
            station_id: self.station_id,
            as2_message_id: &self.as2_message_id,
            subject: self.subject.as_deref(),
            filename: None,
            content_type: "application/octet-stream",
            bytes: 0,
            sha256: "",
            payload: None,
            mdn_mode: self.mdn_mode,
            status: MessageStatus::Failed,
            error: None,
            mic: None,
            destination_url: None,
        };
        let row = match &self.outcome {
            Outcome::Received {
                filename,
                content_type,
                bytes,
                sha256,
                payload,
                mic,
            } => NewMessage {
                filename: filename.as_deref(),
                content_type,
                bytes: *bytes,
                sha256,
                payload: Some(payload),
                status: MessageStatus::Received,
                mic: Some(mic),
                ..base
            },
            Outcome::Failed(error) => NewMessage {
                error: Some(error),
                ..base
            },
        };
        let mdn = self
            .mdn
            .as_ref()
            .map(|(record, raw)| (record, Some(raw.as_slice())));
        let message = tx
            .messages()
            .create_with_mdn(self.scope, &row, mdn, Some(&self.announce))?;
        if let Some((event_type, detail)) = &self.note {
            tx.messages()
                .add_event(self.scope, message.id, event_type, Some(detail))?;
        }
        Ok(message)
    }
}
