//! Async MDNs we owe partners: queued as `send_mdn` jobs when a message asks for one, and
//! read back from the payload store (exactly as built) when the worker posts them.

use as2_domain::id::MessageId;
use as2_domain::job::JobKind;
use as2_store::payload::PayloadStore;
use as2_store::{Scope, Store, StoreError};

use crate::error::EngineError;
use crate::job_payload::MessageJob;
use crate::stored_mdn;

/// Attempts to post one async MDN before giving up (backoff doubles from a minute).
pub const MDN_ATTEMPTS: i32 = 12;

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

/// Queues the async MDN of `message` for `url`.
pub fn enqueue(
    store: &Store,
    scope: Scope,
    message: MessageId,
    url: &str,
) -> Result<(), StoreError> {
    let job = MessageJob::new(scope, message, Some(url));
    store.jobs().enqueue(
        JobKind::SendMdn,
        &job.to_json(),
        chrono::Utc::now(),
        MDN_ATTEMPTS,
    )?;
    store
        .messages()
        .add_event(scope, message, QUEUED_EVENT, Some(url))?;
    Ok(())
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
    job: &MessageJob,
) -> Result<Option<MdnPost>, EngineError> {
    let scope = job.scope()?;
    let Some(url) = job.url.as_deref().filter(|u| is_postable(u)) else {
        return Ok(None);
    };
    let Some((headers, body)) = stored_mdn::load(store, payloads, scope, job.message())? else {
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
