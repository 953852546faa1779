//! The API's cancel of a queued outbound message: its waiting send job is removed and the
//! message fails as `cancelled`, both in one transaction; a worker that claimed the job
//! first wins and the cancel is a `Conflict`.

use as2_domain::id::MessageId;
use as2_domain::message::{Direction, ErrorKind, Message, MessageError, MessageStatus};

use super::Messages;
use crate::error::{StoreError, StoreResult};
use crate::jobs::{MessageRef, SendMessage};
use crate::outbox::Announce;
use crate::scope::Scope;

/// The sentence a cancelled message carries.
pub const CANCELLED: &str = "Cancelled through the API before it was sent";

impl Messages<'_> {
    /// Cancels a `queued` outbound message of `scope` whose send job is still waiting: the
    /// job is removed and the message moves to `failed` (error type `cancelled`) with the
    /// event `announce`, atomically. An inbound message, one in another status, or one whose
    /// job a worker has claimed meanwhile is a `Conflict` saying which.
    pub fn cancel(
        &self,
        scope: Scope,
        id: MessageId,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        self.store.transaction(|tx| {
            let current = tx.messages().get(scope, id)?;
            if current.direction != Direction::Outbound {
                return Err(StoreError::Conflict(
                    "only outbound messages can be cancelled; this one is inbound".into(),
                ));
            }
            if current.status != MessageStatus::Queued {
                return Err(StoreError::Conflict(format!(
                    "only a queued message can be cancelled; this one is {}",
                    current.status
                )));
            }
            if !tx
                .jobs()
                .remove_ready(&SendMessage(MessageRef::new(scope, id)))?
            {
                return Err(StoreError::Conflict(
                    "the message is being sent already and can no longer be cancelled".into(),
                ));
            }
            let error = MessageError {
                kind: ErrorKind::Cancelled,
                sentence: CANCELLED.into(),
            };
            tx.messages().transition(
                scope,
                id,
                MessageStatus::Failed,
                Some(&error),
                "cancelled",
                announce,
            )
        })
    }
}
