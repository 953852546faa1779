//! The API's resend: a delivered or failed outbound message is sent again as a new message
//! (a new AS2 Message-ID, the same stored payload, partner, station, file name and subject)
//! that names the original in `resent_from`; the new message, its send job, the original's
//! timeline entry and the event announcing it commit together.

use as2_domain::id::MessageId;
use as2_domain::message::{Direction, Message, MessageStatus, PayloadRef};
use diesel::prelude::*;

use super::{MessageRow, Messages, NewMessage};
use crate::error::{StoreError, StoreResult};
use crate::outbox::Announce;
use crate::schema::messages;
use crate::scope::Scope;
use crate::tx::with_tx;

/// Whether `message` may be sent again: outbound, done (delivered or failed), with its payload
/// (its reference: the copy names the same object, or holds the same inline bytes); a
/// `Conflict` saying why not.
pub fn check_resendable(message: &Message) -> StoreResult<&PayloadRef> {
    if message.direction != Direction::Outbound {
        return Err(StoreError::Conflict(
            "only outbound messages can be resent; this one is inbound".into(),
        ));
    }
    if !matches!(
        message.status,
        MessageStatus::Delivered | MessageStatus::Failed
    ) {
        return Err(StoreError::Conflict(format!(
            "only a delivered or failed message can be resent; this one is still {}",
            message.status
        )));
    }
    if let Some(purged) = message.payload_purged_at {
        return Err(StoreError::Conflict(format!(
            "this message's payload was deleted under the tenant's retention on {}; it cannot be resent",
            purged.format("%Y-%m-%d")
        )));
    }
    message
        .payload
        .as_ref()
        .ok_or_else(|| StoreError::Conflict("this message has no stored payload".into()))
}

impl Messages<'_> {
    /// Queues a copy of the delivered or failed outbound message `id` of `scope` under the
    /// AS2 Message-ID `as2_message_id`, with a send job of `max_attempts` runs, linked to the
    /// original, and announces `announce` about it. Anything else is a `Conflict`.
    pub fn resend(
        &self,
        scope: Scope,
        id: MessageId,
        as2_message_id: &str,
        max_attempts: i32,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        self.store.transaction(|tx| {
            let original = tx.messages().get(scope, id)?;
            let payload = check_resendable(&original)?;
            let new = NewMessage {
                direction: Direction::Outbound,
                partner_id: original.partner_id,
                station_id: original.station_id,
                as2_message_id,
                subject: original.subject.as_deref(),
                filename: original.filename.as_deref(),
                content_type: &original.content_type,
                bytes: original.bytes,
                sha256: &original.sha256,
                payload: Some(payload),
                mdn_mode: original.mdn_mode,
                status: MessageStatus::Queued,
                error: None,
                mic: None,
                destination_url: original.destination_url.as_deref(),
            };
            let created = tx
                .messages()
                .create_outbound(scope, &new, max_attempts, None)?;
            let row: MessageRow = with_tx!(&mut *tx, |c| diesel::update(
                scoped!(messages, scope).filter(messages::id.eq(created.id.0))
            )
            .set(messages::resent_from.eq(original.id.0))
            .returning(MessageRow::as_returning())
            .get_result(c))?;
            let created: Message = row.try_into()?;
            let detail = format!("Sent again as {}", created.id);
            tx.messages()
                .add_event(scope, original.id, "resent", Some(&detail))?;
            if let Some(announce) = announce {
                tx.messages().announce_as_is(scope, &created, announce)?;
            }
            Ok(created)
        })
    }
}
