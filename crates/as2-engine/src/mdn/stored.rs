//! The stored form of an MDN: its HTTP headers, a blank line, its body; kept in the MDN's
//! row (our own MDNs) or in the payload store (a partner's MDN, and rows written before
//! MDNs were kept inline). Kept so a duplicate gets the very MDN the partner got the first
//! time, and so an async MDN can be posted (and re-posted) by a worker.

use as2_domain::id::MessageId;
use as2_store::payload::PayloadStore;
use as2_store::{Scope, Store};

/// Why a stored MDN could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] as2_store::StoreError),
    /// The payload store failed.
    #[error(transparent)]
    Payload(#[from] std::io::Error),
}

/// An MDN as stored: its HTTP headers and its body.
pub type StoredMdn = (Vec<(String, String)>, Vec<u8>);

/// The MDN stored for message `id`: headers and body, if one is stored.
///
/// # Errors
/// The database or the payload store failed.
pub fn load(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    id: MessageId,
) -> Result<Option<StoredMdn>, LoadError> {
    if let Some(raw) = store.messages().mdn_raw(scope, id)? {
        return Ok(Some(deserialize(&raw)));
    }
    let Some(key) = store.messages().mdn(scope, id)?.and_then(|m| m.raw_key) else {
        return Ok(None);
    };
    Ok(Some(deserialize(&payloads.read(&key)?)))
}

/// Serialises headers and body as stored.
pub fn serialize(headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(body.len() + 512);
    for (name, value) in headers {
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);
    raw
}

/// Splits a stored MDN back into headers and body.
pub fn deserialize(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let headers = String::from_utf8_lossy(&raw[..split])
        .split("\r\n")
        .filter_map(|line| {
            line.split_once(": ")
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        })
        .collect();
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    (headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_headers_and_a_binary_body() {
        let headers = vec![
            (
                "Content-Type".to_owned(),
                "multipart/signed; a=b".to_owned(),
            ),
            ("AS2-From".to_owned(), "\"us here\"".to_owned()),
        ];
        let body = b"\r\n\r\nbinary\0\xff".to_vec();
        let (h, b) = deserialize(&serialize(&headers, &body));
        assert_eq!(h, headers);
        assert_eq!(b, body);
    }

    #[test]
    fn a_truncated_record_gives_an_empty_body_not_a_panic() {
        let (h, b) = deserialize(b"Content-Type: text/plain");
        assert_eq!(h.len(), 1);
        assert!(b.is_empty());
    }
}
