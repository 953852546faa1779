//! Building MIME entities and multipart bodies with CRLF line ends.

use super::headers::Headers;
use super::{encoding, quote};
use crate::crypto::CryptoProvider;
use crate::error::Result;

/// Builds a MIME entity: headers, blank line, body.
#[derive(Debug, Clone, Default)]
pub struct EntityBuilder {
    headers: Headers,
    body: Vec<u8>,
}

impl EntityBuilder {
    /// A builder with the given content type.
    #[must_use]
    pub fn new(content_type: impl Into<String>) -> Self {
        let mut headers = Headers::new();
        headers.push("Content-Type", content_type);
        Self {
            headers,
            body: Vec::new(),
        }
    }

    /// Add a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// Set the body as-is (the caller sets any Content-Transfer-Encoding).
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Set the body base64-encoded, with `Content-Transfer-Encoding: base64`.
    #[must_use]
    pub fn body_base64(mut self, body: &[u8]) -> Self {
        self.headers.set("Content-Transfer-Encoding", "base64");
        self.body = encoding::encode_base64_lines(body);
        self
    }

    /// The headers so far.
    #[must_use]
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Split into (headers, body) for a top-level HTTP entity.
    #[must_use]
    pub fn into_parts(self) -> (Headers, Vec<u8>) {
        (self.headers, self.body)
    }

    /// The full entity bytes.
    #[must_use]
    pub fn build(self) -> Vec<u8> {
        let mut out = self.headers.to_bytes();
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// A random boundary (from `provider`), safe to use quoted or unquoted.
///
/// # Errors
/// The random generator failed.
pub fn generate_boundary(provider: &CryptoProvider) -> Result<String> {
    let mut bytes = [0u8; 16];
    provider.fill_random(&mut bytes)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("----=_Part_{hex}"))
}

/// A multipart body from raw part entities; returns (content-type value, body).
/// `content_type` is e.g. `multipart/signed; protocol="application/pkcs7-signature"`;
/// the (quoted) boundary parameter is appended.
#[must_use]
pub fn build_multipart(content_type: &str, boundary: &str, parts: &[&[u8]]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(part);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    (
        format!("{content_type}; boundary={}", quote(boundary)),
        body,
    )
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;
    use crate::mime::Entity;

    #[test]
    fn multipart_round_trip() {
        let a = EntityBuilder::new("text/plain").body("one\r\n").build();
        let b = EntityBuilder::new("application/octet-stream")
            .body_base64(&[0, 1, 2])
            .build();
        let boundary = generate_boundary(crate::testutil::P).unwrap();
        let (ct, body) = build_multipart("multipart/mixed", &boundary, &[&a, &b]);
        let e = Entity::from_parts(Headers::from_pairs([("Content-Type", ct)]), &body);
        let parts = e.parts().unwrap();
        assert_eq!(parts[0].raw(), a.as_slice());
        assert_eq!(parts[1].raw(), b.as_slice());
        assert_eq!(parts[1].decoded_body().unwrap(), vec![0, 1, 2]);
    }
}
