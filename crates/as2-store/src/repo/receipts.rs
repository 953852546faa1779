//! Inbound receipts: a message that failed on arrival and is sent again by the partner becomes
//! `received` in place (the Message-ID stays unique per partner).

use as2_domain::id::MessageId;
use as2_domain::message::{Direction, Message, MessageStatus};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::repo::messages::Messages;
use crate::schema::{message_events, messages};
use crate::scope::Scope;
use crate::time::{now, to_db};
use crate::with_conn;

impl Messages<'_> {
    /// Marks a failed inbound message received with its stored payload, clearing the error.
    pub fn set_received(
        &self,
        scope: Scope,
        id: MessageId,
        payload_key: &str,
        bytes: i64,
        sha256: &str,
        mic: &str,
    ) -> StoreResult<Message> {
        let at = to_db(now());
        let mut conn = self.store.db().conn()?;
        let updated = with_conn!(&mut conn, |c| c.transaction(|c| {
            let n = diesel::update(
                messages::table
                    .filter(messages::id.eq(id.0))
                    .filter(messages::tenant_id.eq(scope.tenant()))
                    .filter(messages::mode.eq(scope.mode()))
                    .filter(messages::direction.eq(Direction::Inbound.as_str()))
                    .filter(messages::status.eq(MessageStatus::Failed.as_str())),
            )
            .set((
                messages::status.eq(MessageStatus::Received.as_str()),
                messages::payload_key.eq(payload_key),
                messages::bytes.eq(bytes),
                messages::sha256.eq(sha256),
                messages::mic.eq(mic),
                messages::error_type.eq(None::<String>),
                messages::error_message.eq(None::<String>),
                messages::updated_at.eq(at),
            ))
            .execute(c)?;
            if n == 1 {
                diesel::insert_into(message_events::table)
                    .values((
                        message_events::message_id.eq(id.0),
                        message_events::tenant_id.eq(scope.tenant()),
                        message_events::mode.eq(scope.mode()),
                        message_events::event_type.eq("received"),
                        message_events::status.eq(Some(MessageStatus::Received.as_str())),
                        message_events::detail
                            .eq(Some("Received on a resend after an earlier failure")),
                        message_events::created_at.eq(at),
                    ))
                    .execute(c)?;
            }
            Ok::<_, diesel::result::Error>(n)
        }))?;
        drop(conn);
        if updated == 0 {
            return Err(StoreError::Conflict(
                "only a failed inbound message can be received again".into(),
            ));
        }
        self.get(scope, id)
    }
}
