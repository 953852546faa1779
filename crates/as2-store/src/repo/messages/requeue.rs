//! The API's retry of a failed outbound message: back to `queued` with a new `send_message`
//! job, both in one transaction.

use as2_domain::id::MessageId;
use as2_domain::message::Message;

use super::Messages;
use crate::error::StoreResult;
use crate::outbox::Announce;
use crate::scope::Scope;

impl Messages<'_> {
    /// Moves a `failed` outbound message of `scope` back to `queued` (clearing its error)
    /// and enqueues a `send_message` job with `max_attempts`, with the event `announce`,
    /// atomically. Any other message
    /// is a `Conflict` naming its direction and status.
    pub fn requeue(
        &self,
        scope: Scope,
        id: MessageId,
        max_attempts: i32,
        announce: Option<&Announce>,
    ) -> StoreResult<Message> {
        self.store
            .transaction(|tx| tx.messages().requeue(scope, id, max_attempts, announce))
    }
}
