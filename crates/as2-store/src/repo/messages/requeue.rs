//! The API's retry of a failed outbound message: back to `queued` with a new `send_message`
//! job, both in one transaction.

use as2_domain::id::MessageId;
use as2_domain::job::JobKind;
use as2_domain::message::{Direction, Message, MessageStatus};
use diesel::prelude::*;

use super::{MessageRow, Messages};
use crate::error::{StoreError, StoreResult};
use crate::jobs::insert_job;
use crate::schema::{message_events, messages};
use crate::scope::Scope;
use crate::time::{now, to_db};
use crate::with_conn;

impl Messages<'_> {
    /// Moves a `failed` outbound message of `scope` back to `queued` (clearing its error)
    /// and enqueues a `send_message` job with `max_attempts`, atomically. Any other message
    /// is a `Conflict` naming its direction and status.
    pub fn requeue(&self, scope: Scope, id: MessageId, max_attempts: i32) -> StoreResult<Message> {
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
        let now = now();
        let at = to_db(now);
        let mut conn = self.store.db().conn()?;
        let row = with_conn!(&mut conn, |c| c.transaction(|c| {
            let row: MessageRow = diesel::update(
                scoped!(scope)
                    .filter(messages::id.eq(id.0))
                    .filter(messages::status.eq(MessageStatus::Failed.as_str())),
            )
            .set((
                messages::status.eq(MessageStatus::Queued.as_str()),
                messages::error_type.eq(None::<&str>),
                messages::error_message.eq(None::<&str>),
                messages::updated_at.eq(at),
            ))
            .returning(MessageRow::as_returning())
            .get_result(c)?;
            insert_event!(
                c,
                scope,
                id.0,
                "retry_requested",
                Some(MessageStatus::Queued.as_str()),
                None::<&str>,
                at
            )?;
            let payload = format!(
                r#"{{"message_id":{},"tenant_id":{},"mode":"{}"}}"#,
                id.0,
                scope.tenant(),
                scope.mode()
            );
            insert_job!(c, JobKind::SendMessage, &payload, now, max_attempts, now)?;
            Ok::<_, diesel::result::Error>(row)
        }))
        .map_err(|e| match e {
            diesel::result::Error::NotFound => {
                StoreError::Conflict("the message changed status meanwhile".into())
            }
            other => StoreError::Database(other),
        })?;
        row.try_into()
    }
}
