//! The API's resend of the asynchronous MDN of a message we received: the `send_mdn` job is
//! queued again, due now, with the MDN as stored (the same bytes) to the URL of the first
//! authenticated request; a waiting job for it is replaced, not doubled.

use as2_domain::algorithms::MdnMode;
use as2_domain::id::MessageId;
use as2_domain::message::Direction;

use super::Messages;
use crate::error::{StoreError, StoreResult};
use crate::jobs::{JobInput as _, MessageRef, SendMdn};
use crate::scope::Scope;

/// The event that says an async MDN was queued (the engine's `send_async::QUEUED_EVENT`);
/// its detail is the URL.
const QUEUED_EVENT: &str = "mdn_async_queued";
/// The event a resend through the API adds.
pub const RESEND_EVENT: &str = "mdn_resend_requested";

impl Messages<'_> {
    /// Queues the async MDN of inbound message `id` of `scope` again and returns the URL it
    /// goes to. A `Conflict` names why not: an outbound message, one that asked for no async
    /// MDN, one without a stored MDN, or one whose async MDN was never queued (its request
    /// was not authenticated, so its URL is not trusted).
    pub fn resend_async_mdn(&self, scope: Scope, id: MessageId) -> StoreResult<String> {
        let message = self.get(scope, id)?;
        if message.direction != Direction::Inbound {
            return Err(StoreError::Conflict(
                "only the MDN of a message we received can be sent again; this one is outbound"
                    .into(),
            ));
        }
        if message.mdn_mode != MdnMode::Async {
            return Err(StoreError::Conflict(format!(
                "the partner asked for a {} MDN, not an asynchronous one; only an asynchronous MDN is sent again",
                message.mdn_mode
            )));
        }
        if self.mdn_raw(scope, id)?.is_none() {
            return Err(StoreError::Conflict(
                "no MDN is stored for this message yet".into(),
            ));
        }
        let url = self
            .events(scope, id)?
            .into_iter()
            .rev()
            .find(|e| e.event_type == QUEUED_EVENT)
            .and_then(|e| e.detail)
            .ok_or_else(|| {
                StoreError::Conflict(
                    "its asynchronous MDN was never queued: the request that asked for it was not authenticated, so its URL is not trusted"
                        .into(),
                )
            })?;
        let job = SendMdn {
            message: MessageRef::new(scope, id),
            url: url.clone(),
        };
        self.store.transaction(|tx| {
            tx.jobs().remove_ready(&job)?;
            tx.jobs()
                .enqueue(&job, crate::time::now(), SendMdn::RETRY.max_attempts)?;
            tx.messages().add_event(scope, id, RESEND_EVENT, Some(&url))
        })?;
        Ok(url)
    }
}
