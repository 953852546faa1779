//! Verifying time-stamp tokens and responses against pinned TSA certificates: the token is
//! a SignedData over a TSTInfo, its imprint is the expected SHA-256, its signed attributes
//! bind it to the TSTInfo and to the signer certificate, the signature verifies under a
//! trusted certificate, and that certificate carries the critical id-kp-timeStamping EKU.
//! No chain is built: `trusted` holds the TSA certificates themselves.

mod response;
mod signer;
mod token;

use std::time::{Duration, SystemTime};

use as2_core::cert::Certificate;
use as2_core::crypto::oids::SHA256;

pub use self::response::{token_from_response, verify_response};
pub(crate) use self::signer::check_tsa_certificate;
use crate::PolicyId;
use crate::error::{Error, Result};
use crate::int::{u64_from_be, u128_from_be};

/// What a verified token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// When the TSA time-stamped the hash.
    pub gen_time: SystemTime,
    /// How far `gen_time` may be from UTC, when the TSA said.
    pub accuracy: Option<Duration>,
    /// The token's serial number (big-endian magnitude bytes).
    pub serial: Vec<u8>,
    /// The TSA policy of the token.
    pub policy: PolicyId,
    /// The nonce echoed from the request (big-endian magnitude bytes).
    pub nonce: Option<Vec<u8>>,
    /// The subject of the TSA certificate that signed it (RFC 4514).
    pub tsa_subject: String,
    /// The TSA certificate that signed it (one of the trusted ones).
    pub tsa_certificate: Certificate,
}

impl TokenInfo {
    /// The serial number as a `u128`, when it fits.
    #[must_use]
    pub fn serial_u128(&self) -> Option<u128> {
        u128_from_be(&self.serial)
    }

    /// The nonce as a `u64`, when present and small enough.
    #[must_use]
    pub fn nonce_u64(&self) -> Option<u64> {
        self.nonce.as_deref().and_then(u64_from_be)
    }
}

/// Verify a DER (or BER) time-stamp token over the SHA-256 hash `expected_sha256`, signed
/// by one of the `trusted` TSA certificates.
///
/// # Errors
/// [`Error::MalformedDer`], [`Error::NotATimeStampToken`], [`Error::ImprintMismatch`],
/// [`Error::MessageDigestMismatch`], [`Error::UntrustedSigner`],
/// [`Error::SigningCertificateMismatch`], [`Error::BadSignature`],
/// [`Error::BadTsaCertificate`] or [`Error::UnsupportedAlgorithm`].
pub fn verify_token(
    token_der: &[u8],
    expected_sha256: &[u8; 32],
    trusted: &[Certificate],
) -> Result<TokenInfo> {
    let token = token::parse_token(token_der)?;
    let tst = &token.tst_info;
    let imprint = &tst.message_imprint;
    if imprint.hash_algorithm.oid != SHA256 {
        return Err(Error::UnsupportedAlgorithm(format!(
            "message imprint hash {} (expected SHA-256)",
            imprint.hash_algorithm.oid
        )));
    }
    if imprint.hashed_message.as_bytes() != expected_sha256 {
        return Err(Error::ImprintMismatch);
    }
    let signer = signer::verify_signer(token_der, &token, trusted)?;
    check_tsa_certificate(signer, tst.gen_time.0)?;
    Ok(TokenInfo {
        gen_time: tst.gen_time.0,
        accuracy: tst.accuracy.map(crate::asn1::Accuracy::to_duration),
        serial: tst.serial_number.as_bytes().to_vec(),
        policy: tst.policy.clone(),
        nonce: tst.nonce.as_ref().map(|n| n.as_bytes().to_vec()),
        tsa_subject: signer.subject(),
        tsa_certificate: signer.clone(),
    })
}

#[cfg(test)]
mod tests;
