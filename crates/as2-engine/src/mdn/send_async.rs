//! Async MDNs we owe partners: queued as `send_mdn` jobs when a message asks for one, and
//! read back from the payload store (exactly as built) when the worker posts them.

use as2_domain::id::MessageId;
use as2_store::jobs::{JobInput, MessageRef, SendMdn};
use as2_store::payload::PayloadStore;
use as2_store::{Scope, Store, StoreError};

use crate::error::EngineError;
use crate::mdn::stored;

/// An async MDN ready to post.
#[derive(Debug, Clone)]
pub struct MdnPost {
    /// Where (the message's `Receipt-Delivery-Option`).
    pub url: String,
    /// The MDN's headers.
    pub headers: Vec<(String, String)>,
    /// The MDN's body.
    pub body: Vec<u8>,
}

/// The message event that says its async MDN was queued.
pub const QUEUED_EVENT: &str = "mdn_async_queued";

/// Queues the async MDN of `message` for `url`, with the timeline entry that says so, in
/// one transaction.
pub fn enqueue(
    store: &Store,
    scope: Scope,
    message: MessageId,
    url: &str,
) -> Result<(), StoreError> {
    let job = SendMdn {
        message: MessageRef::new(scope, message),
        url: url.to_owned(),
    };
    store.transaction(|tx| {
        tx.jobs()
            .enqueue(&job, chrono::Utc::now(), SendMdn::RETRY.max_attempts)?;
        tx.messages()
            .add_event(scope, message, QUEUED_EVENT, Some(url))
    })
}

/// Whether `url` is one we post MDNs to: http or https, nothing else.
pub fn is_postable(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")) && lower.len() > 8
}

/// The stored MDN of the job's message, with its URL; `None` when the job has no usable URL
/// or the message has no MDN (nothing to post).
pub fn prepare(
    store: &Store,
    payloads: &PayloadStore,
    job: &SendMdn,
) -> Result<Option<MdnPost>, EngineError> {
    let scope = job.message.scope()?;
    let url = job.url.as_str();
    if !is_postable(url) {
        return Ok(None);
    }
    let Some((headers, body)) = stored::load(store, payloads, scope, job.message.message())? else {
        return Ok(None);
    };
    Ok(Some(MdnPost {
        url: url.trim().to_owned(),
        headers,
        body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_posted_to() {
        assert!(is_postable("http://127.0.0.1:9/mdn"));
        assert!(is_postable(" HTTPS://partner.example/as2 "));
        assert!(!is_postable("mailto:as2@partner.example"));
        assert!(!is_postable("file:///etc/passwd"));
        assert!(!is_postable("http://"));
        assert!(!is_postable(""));
    }
}
