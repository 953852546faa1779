//! Idempotency keys: their format, the request fingerprint, and what a replay returns.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// How long a key and its stored response are kept.
pub const RETENTION: Duration = Duration::hours(24);

/// Whether `key` is a UUID version 4 in its canonical text form (any case).
pub fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
        && bytes[14] == b'4'
        && matches!(bytes[19].to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b')
}

/// The fingerprint of a request: the same key with another fingerprint is refused.
pub fn request_fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// A stored idempotency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The client's key.
    pub key: String,
    /// Fingerprint of the first request.
    pub fingerprint: String,
    /// The response, once the first request finished (`None` while it runs).
    pub response: Option<StoredResponse>,
    /// When the key was first seen.
    pub created_at: DateTime<Utc>,
}

/// A response kept for replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Body bytes (JSON).
    pub body: Vec<u8>,
}

/// What to do with a request that carries a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Return the stored response.
    Stored(StoredResponse),
    /// Another request with this key is still running: 409.
    InProgress,
    /// The key was used with another request: 422.
    Mismatch,
}

impl IdempotencyRecord {
    /// Decides how to answer a request with this record's key and `fingerprint`.
    pub fn replay(&self, fingerprint: &str) -> Replay {
        if self.fingerprint != fingerprint {
            return Replay::Mismatch;
        }
        match &self.response {
            Some(response) => Replay::Stored(response.clone()),
            None => Replay::InProgress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_uuid_v4() {
        assert!(is_valid_key("550e8400-e29b-41d4-a716-446655440000"));
        assert!(is_valid_key("550E8400-E29B-41D4-A716-446655440000"));
        assert!(!is_valid_key("550e8400-e29b-11d4-a716-446655440000"));
        assert!(!is_valid_key("550e8400-e29b-41d4-c716-446655440000"));
        assert!(!is_valid_key("not-a-uuid"));
        assert!(!is_valid_key("550e8400e29b41d4a716446655440000"));
    }

    #[test]
    fn replay_decisions() {
        let fp = request_fingerprint("POST", "/v1/partners", b"{}");
        let mut record = IdempotencyRecord {
            key: "k".into(),
            fingerprint: fp.clone(),
            response: None,
            created_at: Utc::now(),
        };
        assert_eq!(record.replay(&fp), Replay::InProgress);
        assert_eq!(
            record.replay(&request_fingerprint("POST", "/v1/partners", b"{ }")),
            Replay::Mismatch
        );
        record.response = Some(StoredResponse {
            status: 201,
            body: b"{}".to_vec(),
        });
        assert!(matches!(record.replay(&fp), Replay::Stored(r) if r.status == 201));
    }
}
