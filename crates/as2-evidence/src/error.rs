//! The one error type of the crate: every way a request, a response or a token can fail.

use crate::status::{FailureInfo, PkiStatus};

/// Every failure of time-stamping and of token verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not valid DER (or BER) for the expected structure.
    #[error("malformed DER: {0}")]
    MalformedDer(String),
    /// Well-formed CMS, but not an RFC 3161 time-stamp token.
    #[error("not an RFC 3161 time-stamp token: {0}")]
    NotATimeStampToken(String),
    /// The TSA answered without granting a token.
    #[error("the TSA did not grant a time-stamp ({status}{}): {text}", fmt_failures(.failures))]
    Rejected {
        /// The PKIStatus of the response.
        status: PkiStatus,
        /// The failInfo bits that were set.
        failures: Vec<FailureInfo>,
        /// The statusString texts, joined (may be empty).
        text: String,
    },
    /// The token time-stamps another hash than the one expected.
    #[error("message imprint mismatch: the token time-stamps another hash")]
    ImprintMismatch,
    /// The messageDigest signed attribute is not the digest of the encapsulated TSTInfo.
    #[error("messageDigest attribute does not match the encapsulated TSTInfo")]
    MessageDigestMismatch,
    /// The nonce of the token is not the one of the request.
    #[error("nonce mismatch: the token does not answer this request")]
    NonceMismatch,
    /// The signature value does not verify under the TSA certificate.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// No trusted certificate is the signer of the token.
    #[error("the token is not signed by a trusted TSA certificate")]
    UntrustedSigner,
    /// The signingCertificate(V2) attribute names another certificate than the signer's.
    #[error("signingCertificate attribute does not identify the signer certificate")]
    SigningCertificateMismatch,
    /// The signer certificate may not issue time-stamps (EKU, validity).
    #[error("TSA certificate unsuitable: {0}")]
    BadTsaCertificate(String),
    /// An argument the caller passed is unusable (a subject name, a validity period).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A hash or signature algorithm this crate does not handle.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// A failure in the codec (signing, certificate handling).
    #[error(transparent)]
    Core(#[from] as2_core::Error),
}

fn fmt_failures(failures: &[FailureInfo]) -> String {
    failures.iter().map(|f| format!(", {f}")).collect()
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Self::MalformedDer(e.to_string())
    }
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
