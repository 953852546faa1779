//! Time-stamp requests: building one for a SHA-256 hash, and reading one (what a TSA needs
//! to decide and to answer).

use as2_core::crypto::oids::SHA256;
use der::Encode as _;
use der::asn1::{ObjectIdentifier, OctetString};
use spki::AlgorithmIdentifierOwned;

use crate::PolicyId;
use crate::asn1::{MessageImprint, TimeStampReq, decode_lenient};
use crate::error::{Error, Result};
use crate::int::{u64_from_be, uint_from_u128};

/// A request to time-stamp a SHA-256 hash (certReq is true: the token carries the TSA
/// certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampRequest {
    sha256: [u8; 32],
    nonce: Option<u64>,
    policy: Option<PolicyId>,
    cert_req: bool,
}

impl TimeStampRequest {
    /// A request for `sha256`, the SHA-256 of the data, with an optional nonce the token
    /// must echo.
    #[must_use]
    pub fn new(sha256: &[u8; 32], nonce: Option<u64>) -> Self {
        Self {
            sha256: *sha256,
            nonce,
            policy: None,
            cert_req: true,
        }
    }

    /// Ask for a TSA policy.
    #[must_use]
    pub fn with_policy(mut self, policy: impl Into<PolicyId>) -> Self {
        self.policy = Some(policy.into());
        self
    }

    /// Whether to ask for the TSA certificate in the token (default true).
    #[must_use]
    pub fn with_cert_req(mut self, cert_req: bool) -> Self {
        self.cert_req = cert_req;
        self
    }

    /// The DER TimeStampReq (what `openssl ts -query` writes to a `.tsq` file).
    ///
    /// # Errors
    /// An encoding failure (none in practice).
    pub fn to_der(&self) -> Result<Vec<u8>> {
        let req = TimeStampReq {
            version: 1,
            message_imprint: sha256_imprint(&self.sha256)?,
            req_policy: self.policy.clone(),
            nonce: self.nonce.map(|n| uint_from_u128(n.into())).transpose()?,
            cert_req: self.cert_req,
            extensions: None,
        };
        Ok(req.to_der()?)
    }
}

/// The MessageImprint of a SHA-256 hash (the algorithm without parameters, as OpenSSL
/// writes it).
pub(crate) fn sha256_imprint(sha256: &[u8; 32]) -> Result<MessageImprint> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: SHA256,
            parameters: None,
        },
        hashed_message: OctetString::new(sha256.to_vec())?,
    })
}

/// What a time-stamp request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    /// The hash algorithm of the message imprint.
    pub hash_algorithm: ObjectIdentifier,
    /// The hash to time-stamp.
    pub hashed_message: Vec<u8>,
    /// The nonce (big-endian magnitude bytes), to echo in the token.
    pub nonce: Option<Vec<u8>>,
    /// Whether the token must carry the TSA certificate.
    pub cert_req: bool,
    /// The requested TSA policy.
    pub policy: Option<PolicyId>,
    /// Whether the request carries extensions.
    pub has_extensions: bool,
}

impl ParsedRequest {
    /// The nonce as a `u64`, when present and small enough.
    #[must_use]
    pub fn nonce_u64(&self) -> Option<u64> {
        self.nonce.as_deref().and_then(u64_from_be)
    }
}

/// Parse a DER (or BER) TimeStampReq.
///
/// # Errors
/// [`Error::MalformedDer`] for bytes that are not a version 1 TimeStampReq.
pub fn parse_request(der: &[u8]) -> Result<ParsedRequest> {
    let req: TimeStampReq = decode_lenient(der)?;
    if req.version != 1 {
        return Err(Error::MalformedDer(format!(
            "TimeStampReq version {}, expected 1",
            req.version
        )));
    }
    Ok(ParsedRequest {
        hash_algorithm: req.message_imprint.hash_algorithm.oid,
        hashed_message: req.message_imprint.hashed_message.as_bytes().to_vec(),
        nonce: req.nonce.map(|n| n.as_bytes().to_vec()),
        cert_req: req.cert_req,
        policy: req.req_policy,
        has_extensions: req.extensions.is_some_and(|e| !e.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_parse() {
        let hash = crate::sha256(b"evidence");
        let policy = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");
        let der = TimeStampRequest::new(&hash, Some(u64::MAX))
            .with_policy(policy)
            .to_der()
            .unwrap();
        let parsed = parse_request(&der).unwrap();
        assert_eq!(parsed.hash_algorithm, SHA256);
        assert_eq!(parsed.hashed_message, hash);
        assert_eq!(parsed.nonce_u64(), Some(u64::MAX));
        assert!(parsed.cert_req);
        assert_eq!(parsed.policy, Some(policy.into()));
        assert!(!parsed.has_extensions);

        let plain = TimeStampRequest::new(&hash, None)
            .with_cert_req(false)
            .to_der()
            .unwrap();
        let parsed = parse_request(&plain).unwrap();
        assert_eq!(parsed.nonce, None);
        assert!(!parsed.cert_req);
        assert_eq!(parsed.policy, None);
    }

    #[test]
    fn garbage_is_an_error() {
        let good = TimeStampRequest::new(&[7; 32], Some(9)).to_der().unwrap();
        for cut in 0..good.len() {
            assert!(parse_request(&good[..cut]).is_err());
        }
        assert!(matches!(
            parse_request(b"\x30\x03\x02\x01\x02"),
            Err(Error::MalformedDer(_))
        ));
    }
}
