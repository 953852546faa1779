//! Messages inside a transaction: every write of a message (its row, its timeline, its MDN,
//! its job) and the webhook event it announces commit together. The pooled methods of
//! [`Messages`](super::Messages) run these in a transaction of their own.

use as2_domain::id::MessageId;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, Message, MessageError, MessageStatus, PayloadRef};
use diesel::prelude::*;

use super::with_mdn_pg::InsertWithMdn;
use super::{DUPLICATE, MessageRow, NewMessage};
use crate::error::{StoreError, StoreResult};
use crate::jobs::{MessageRef, SendMessage};
use crate::outbox::Announce;
use crate::schema::{mdns, message_events, messages};
use crate::scope::Scope;
use crate::time::{now, to_db};
use crate::tx::{Tx, with_tx};

/// The messages side of a transaction: [`Tx::messages`].
#[derive(Debug)]
pub struct MessagesTx<'t, 'c> {
    tx: &'t mut Tx<'c>,
}

impl<'c> Tx<'c> {
    /// Messages written in this transaction.
    pub fn messages(&mut self) -> MessagesTx<'_, 'c> {
        MessagesTx { tx: self }
    }
}

/// A conditional update that found no row: the message moved on meanwhile.
fn changed_meanwhile(error: diesel::result::Error) -> StoreError {
    match error {
        diesel::result::Error::NotFound => {
            StoreError::Conflict("the message changed status meanwhile".into())
        }
        other => other.into(),
    }
}

impl MessagesTx<'_, '_> {
    /// A message of `scope`.
    pub fn get(&mut self, scope: Scope, id: MessageId) -> StoreResult<Message> {
        let row: MessageRow = with_tx!(&mut *self.tx, |c| scoped!(messages, scope)
            .filter(messages::id.eq(id.0))
            .select(MessageRow::as_select())
            // a unique lookup: no LIMIT (see `crate::db`)
            .get_result(c))?;
        row.try_into()
    }

    /// Announces `announce` about `message` (the outbox).
    fn announce(
        &mut self,
        scope: Scope,
        message: &Message,
        announce: Option<&Announce>,
    ) -> StoreResult<()> {
        if let Some(announce) = announce {
            self.tx.webhooks().announce(scope, message, announce)?;
        }
        Ok(())
    }

    /// Records a message without a job (inbound), with its first timeline entry and the event
    /// it announces.
    pub fn create(
        &mut self,
        scope: Scope,
        message: &NewMessage<'_>,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        let at = to_db(now());
        let row = with_tx!(&mut *self.tx, |c| {
            let row = insert_message!(c, scope, message, at)?;
            insert_event!(
                c,
                scope,
                row.id,
                message.status.as_str(),
                Some(message.status.as_str()),
                message.error.map(|e| e.sentence.as_str()),
                at
            )?;
            Ok::<_, diesel::result::Error>(row)
        })
        .map_err(StoreError::unique(DUPLICATE))?;
        let created: Message = row.try_into()?;
        self.announce(scope, &created, announce)?;
        Ok(created)
    }

    /// Records a new message (inbound: it has no job) with its first timeline entry and, when
    /// given, its MDN (whose `message_id` is ignored: the new row's is recorded), then the
    /// event it announces. On PostgreSQL the row, its entry and its MDN are one statement
    /// ([`super::with_mdn_pg`]): two round trips fewer for every message received.
    pub fn create_with_mdn(
        &mut self,
        scope: Scope,
        message: &NewMessage<'_>,
        mdn: Option<(&MdnRecord, Option<&[u8]>)>,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        let Tx::Postgres(c) = &mut *self.tx else {
            let created = self.create(scope, message, None)?;
            if let Some((record, raw)) = mdn {
                let record = MdnRecord {
                    message_id: created.id,
                    ..record.clone()
                };
                self.insert_mdn(scope, &record, raw)?;
            }
            self.announce(scope, &created, announce)?;
            return Ok(created);
        };
        let row: MessageRow = InsertWithMdn::new(scope, message, to_db(now()), mdn)
            .get_result(&mut **c)
            .map_err(StoreError::unique(DUPLICATE))?;
        let created: Message = row.try_into()?;
        self.announce(scope, &created, announce)?;
        Ok(created)
    }

    /// Records an outbound message as `queued` with its `send_message` job (at most
    /// `max_attempts` runs) and the event it announces.
    pub fn create_outbound(
        &mut self,
        scope: Scope,
        message: &NewMessage<'_>,
        max_attempts: i32,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        let now = now();
        let at = to_db(now);
        let row = with_tx!(&mut *self.tx, |c| {
            let row = insert_message!(c, scope, message, at)?;
            insert_event!(c, scope, row.id, "queued", Some("queued"), None::<&str>, at)?;
            Ok::<_, diesel::result::Error>(row)
        })
        .map_err(StoreError::unique(DUPLICATE))?;
        let created: Message = row.try_into()?;
        self.tx.jobs().enqueue(
            &SendMessage(MessageRef::new(scope, created.id)),
            now,
            max_attempts,
        )?;
        self.announce(scope, &created, announce)?;
        Ok(created)
    }

    /// Moves a message to `to` if the state machine allows it from its current status,
    /// recording `event` on its timeline and announcing `announce`; the update is conditional
    /// on the status read, so two workers cannot both move it (the loser gets `Conflict`).
    pub fn transition(
        &mut self,
        scope: Scope,
        id: MessageId,
        to: MessageStatus,
        error: Option<&MessageError>,
        event: &str,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        let current = self.get(scope, id)?;
        current
            .status
            .transition(current.direction, to)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let at = to_db(now());
        let counts_attempt = to == MessageStatus::Processing;
        let row = with_tx!(&mut *self.tx, |c| {
            let row: MessageRow = diesel::update(
                scoped!(messages, scope)
                    .filter(messages::id.eq(id.0))
                    .filter(messages::status.eq(current.status.as_str())),
            )
            .set((
                messages::status.eq(to.as_str()),
                messages::attempts.eq(messages::attempts + i32::from(counts_attempt)),
                messages::error_type.eq(error.map(|e| e.kind.as_str())),
                messages::error_message.eq(error.map(|e| e.sentence.as_str())),
                messages::updated_at.eq(at),
            ))
            .returning(MessageRow::as_returning())
            .get_result(c)?;
            insert_event!(
                c,
                scope,
                id.0,
                event,
                Some(to.as_str()),
                error.map(|e| e.sentence.as_str()),
                at
            )?;
            Ok::<_, diesel::result::Error>(row)
        })
        .map_err(changed_meanwhile)?;
        let moved: Message = row.try_into()?;
        self.announce(scope, &moved, announce)?;
        Ok(moved)
    }

    /// Moves a `failed` outbound message back to `queued` (clearing its error) with a new
    /// `send_message` job of `max_attempts` runs, announcing `announce`. Any other message is a
    /// `Conflict` naming its direction and status.
    pub fn requeue(
        &mut self,
        scope: Scope,
        id: MessageId,
        max_attempts: i32,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        let current = self.get(scope, id)?;
        if current.direction != Direction::Outbound {
            return Err(StoreError::Conflict(
                "only outbound messages can be retried; this one is inbound".into(),
            ));
        }
        if current.status != MessageStatus::Failed {
            return Err(StoreError::Conflict(format!(
                "only a failed message can be retried; this one is {}",
                current.status
            )));
        }
        if let Some(purged) = current.payload_purged_at {
            return Err(StoreError::Conflict(format!(
                "this message's payload was deleted under the tenant's retention on {}; it cannot be retried",
                purged.format("%Y-%m-%d")
            )));
        }
        // back to queued (its error cleared) like any transition, then its new job
        let queued = self.transition(
            scope,
            id,
            MessageStatus::Queued,
            None,
            "retry_requested",
            announce,
        )?;
        self.tx.jobs().enqueue(
            &SendMessage(MessageRef::new(scope, id)),
            now(),
            max_attempts,
        )?;
        Ok(queued)
    }

    /// Marks a failed inbound message received with its stored payload, clearing the error,
    /// and announces `announce`; `Conflict` unless it is a failed inbound message.
    pub fn set_received(
        &mut self,
        scope: Scope,
        id: MessageId,
        stored: ReceivedPayload<'_>,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        let at = to_db(now());
        let updated = with_tx!(&mut *self.tx, |c| {
            let n = diesel::update(
                scoped!(messages, scope)
                    .filter(messages::id.eq(id.0))
                    .filter(messages::direction.eq(Direction::Inbound.as_str()))
                    .filter(messages::status.eq(MessageStatus::Failed.as_str())),
            )
            .set((
                messages::status.eq(MessageStatus::Received.as_str()),
                messages::payload_key.eq(stored.payload.object_key()),
                messages::payload_inline.eq(stored.payload.inline_bytes()),
                messages::bytes.eq(stored.bytes),
                messages::sha256.eq(stored.sha256),
                messages::mic.eq(stored.mic),
                messages::error_type.eq(None::<String>),
                messages::error_message.eq(None::<String>),
                messages::updated_at.eq(at),
            ))
            .execute(c)?;
            if n == 1 {
                insert_event!(
                    c,
                    scope,
                    id.0,
                    "received",
                    Some(MessageStatus::Received.as_str()),
                    Some("Received on a resend after an earlier failure"),
                    at
                )?;
            }
            Ok::<_, diesel::result::Error>(n)
        })?;
        if updated == 0 {
            return Err(StoreError::Conflict(
                "only a failed inbound message can be received again".into(),
            ));
        }
        let received = self.get(scope, id)?;
        self.announce(scope, &received, announce)?;
        Ok(received)
    }

    /// Adds an event to a message's timeline without changing its status.
    pub fn add_event(
        &mut self,
        scope: Scope,
        id: MessageId,
        event: &str,
        detail: Option<&str>,
    ) -> StoreResult<()> {
        let at = to_db(now());
        with_tx!(&mut *self.tx, |c| insert_event!(
            c,
            scope,
            id.0,
            event,
            None::<&str>,
            detail,
            at
        ))?;
        Ok(())
    }

    /// Announces `announce` about `message` as it is, with no change of its own (a timeline
    /// entry written in the same transaction is the change).
    pub fn announce_as_is(
        &mut self,
        scope: Scope,
        message: &Message,
        announce: &Announce,
    ) -> StoreResult<()> {
        self.announce(scope, message, Some(announce))
    }

    /// Whether the message of `scope` has an MDN recorded.
    pub fn has_mdn(&mut self, scope: Scope, id: MessageId) -> StoreResult<bool> {
        let n: i64 = with_tx!(&mut *self.tx, |c| mdns::table
            .filter(mdns::message_id.eq(id.0))
            .filter(mdns::tenant_id.eq(scope.tenant()))
            .filter(mdns::mode.eq(scope.mode()))
            .count()
            .get_result(c))?;
        Ok(n > 0)
    }

    /// Records the MDN of a message of `scope` (one per message: a second is a `Conflict`),
    /// with the MDN itself as sent when it is ours.
    pub fn record_mdn(
        &mut self,
        scope: Scope,
        mdn: &MdnRecord,
        raw: Option<&[u8]>,
    ) -> StoreResult<()> {
        self.get(scope, mdn.message_id)?;
        self.insert_mdn(scope, mdn, raw)
    }

    /// Records the MDN of `message`, a message of `scope` read or written in this
    /// transaction (so it is not read again); `NotFound` when the MDN is not about it or it
    /// is not of `scope`, `Conflict` when it has one already.
    pub fn record_mdn_of(
        &mut self,
        scope: Scope,
        message: &Message,
        mdn: &MdnRecord,
        raw: Option<&[u8]>,
    ) -> StoreResult<()> {
        if message.id != mdn.message_id
            || message.tenant_id != scope.tenant_id
            || message.mode != scope.mode
        {
            return Err(StoreError::NotFound);
        }
        self.insert_mdn(scope, mdn, raw)
    }

    fn insert_mdn(&mut self, scope: Scope, mdn: &MdnRecord, raw: Option<&[u8]>) -> StoreResult<()> {
        with_tx!(&mut *self.tx, |c| diesel::insert_into(mdns::table)
            .values((
                mdns::message_id.eq(mdn.message_id.0),
                mdns::tenant_id.eq(scope.tenant()),
                mdns::mode.eq(scope.mode()),
                mdns::disposition.eq(&mdn.disposition),
                mdns::positive.eq(mdn.positive),
                mdns::mic.eq(mdn.mic.as_deref()),
                mdns::mic_matched.eq(mdn.mic_matched),
                mdns::signed.eq(mdn.signed),
                mdns::verified.eq(mdn.verified),
                mdns::original_message_id.eq(mdn.original_message_id.as_deref()),
                mdns::raw_key.eq(mdn.raw_key.as_deref()),
                mdns::raw.eq(raw),
                mdns::created_at.eq(to_db(mdn.created_at)),
            ))
            .execute(c))
        .map_err(StoreError::unique("this message already has an MDN"))?;
        Ok(())
    }
}

/// A received payload as stored: where, how large, its digest and the MIC computed over it.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedPayload<'a> {
    /// Where it is: the payload store's key, or the bytes themselves.
    pub payload: &'a PayloadRef,
    /// Its size.
    pub bytes: i64,
    /// Its SHA-256, hex.
    pub sha256: &'a str,
    /// The MIC returned in the MDN.
    pub mic: &'a str,
}
