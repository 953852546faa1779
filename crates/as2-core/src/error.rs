//! The codec's error type, and how each error maps to an MDN disposition modifier.

/// The disposition modifier an MDN reports for a failure (RFC 4130 §7.4.3, RFC 5402).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Disposition {
    /// `processed/error: decryption-failed`
    DecryptionFailed,
    /// `processed/error: authentication-failed`
    AuthenticationFailed,
    /// `processed/error: integrity-check-failed`
    IntegrityCheckFailed,
    /// `processed/error: unexpected-processing-error`
    UnexpectedProcessingError,
    /// `processed/error: insufficient-message-security`
    InsufficientMessageSecurity,
    /// `processed/error: decompression-failed` (RFC 5402)
    DecompressionFailed,
    /// `failed/Failure: unsupported format`
    UnsupportedFormat,
    /// `failed/Failure: unsupported MIC-algorithms`
    UnsupportedMicAlgorithms,
}

impl Disposition {
    /// The modifier text as it appears after `processed/error: ` or `failed/Failure: `.
    #[must_use]
    pub fn modifier(self) -> &'static str {
        match self {
            Self::DecryptionFailed => "decryption-failed",
            Self::AuthenticationFailed => "authentication-failed",
            Self::IntegrityCheckFailed => "integrity-check-failed",
            Self::UnexpectedProcessingError => "unexpected-processing-error",
            Self::InsufficientMessageSecurity => "insufficient-message-security",
            Self::DecompressionFailed => "decompression-failed",
            Self::UnsupportedFormat => "unsupported format",
            Self::UnsupportedMicAlgorithms => "unsupported MIC-algorithms",
        }
    }

    /// Whether this is a `failed/Failure` (the MDN request itself cannot be met)
    /// rather than a `processed/error`.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Self::UnsupportedFormat | Self::UnsupportedMicAlgorithms
        )
    }

    /// The full disposition field value, e.g.
    /// `automatic-action/MDN-sent-automatically; processed/error: decryption-failed`.
    #[must_use]
    pub fn disposition_field(self) -> String {
        if self.is_failure() {
            format!(
                "automatic-action/MDN-sent-automatically; failed/Failure: {}",
                self.modifier()
            )
        } else {
            format!(
                "automatic-action/MDN-sent-automatically; processed/error: {}",
                self.modifier()
            )
        }
    }
}

/// A resource limit that input from a partner can run into: exceeding one is refused before
/// the work (or the memory) it would take is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Bytes inflated from every CompressedData layer of one message together.
    DecompressedBytes,
    /// Lines in the header block of one MIME entity.
    MimeHeaderLines,
    /// Bytes in the header block of one MIME entity.
    MimeHeaderBytes,
    /// Parts in one multipart body.
    MultipartParts,
    /// Recipients of one EnvelopedData or AuthEnvelopedData.
    CmsRecipients,
    /// Signers of one SignedData.
    CmsSigners,
}

impl Limit {
    /// What is counted, for error messages.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::DecompressedBytes => "decompressed bytes",
            Self::MimeHeaderLines => "MIME header lines",
            Self::MimeHeaderBytes => "MIME header block bytes",
            Self::MultipartParts => "multipart parts",
            Self::CmsRecipients => "CMS recipients",
            Self::CmsSigners => "CMS signers",
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

/// Every failure of the codec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The MIME structure could not be parsed.
    #[error("malformed MIME: {0}")]
    Mime(String),
    /// A required header is missing.
    #[error("missing header: {0}")]
    MissingHeader(&'static str),
    /// A header has an invalid value.
    #[error("invalid header {name}: {reason}")]
    InvalidHeader {
        /// header name
        name: &'static str,
        /// what is wrong
        reason: String,
    },
    /// A content-transfer-encoding could not be decoded.
    #[error("content-transfer-encoding {0} could not be decoded")]
    TransferEncoding(String),
    /// The content type, smime-type or structure is not one we handle.
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    /// An algorithm (digest, cipher, key transport, signature) is unsupported.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// No requested MIC algorithm is supported and one was required.
    #[error("unsupported MIC algorithms: {0}")]
    UnsupportedMicAlgorithm(String),
    /// ASN.1 / CMS structure could not be decoded or encoded.
    #[error("ASN.1 error: {0}")]
    Asn1(String),
    /// Decryption failed. Deliberately carries no detail (RFC 3218): a bad key
    /// and bad content produce the same error.
    #[error("decryption failed")]
    Decryption,
    /// Signature verification failed.
    #[error("signature verification failed: {0}")]
    Signature(String),
    /// The signer's certificate is not among the trusted certificates.
    #[error("signer certificate unknown")]
    UnknownSigner,
    /// The message digest or MIC does not match.
    #[error("integrity check failed: {0}")]
    Integrity(String),
    /// Decompression failed.
    #[error("decompression failed: {0}")]
    Decompression(String),
    /// The message is less protected than required (e.g. unsigned when a signature is required).
    #[error("insufficient message security: {0}")]
    InsufficientSecurity(String),
    /// A key or certificate could not be loaded or used.
    #[error("key or certificate error: {0}")]
    Key(String),
    /// A cryptographic operation failed (signing, encryption, key generation).
    #[error("crypto error: {0}")]
    Crypto(String),
    /// The MDN could not be parsed or does not match.
    #[error("MDN error: {0}")]
    Mdn(String),
    /// A Certificate Exchange Messaging (CEM) request or response is malformed or does not
    /// validate; the text names the element.
    #[error("CEM: {0}")]
    Cem(String),
    /// The input exceeds a resource limit; nothing more of it was processed.
    #[error("more {limit} than the limit of {max}")]
    LimitExceeded {
        /// Which limit.
        limit: Limit,
        /// Its value.
        max: u64,
    },
}

impl Error {
    /// The MDN disposition modifier to report for this error.
    #[must_use]
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Decryption => Disposition::DecryptionFailed,
            Self::Signature(_) | Self::UnknownSigner => Disposition::AuthenticationFailed,
            Self::Integrity(_) => Disposition::IntegrityCheckFailed,
            Self::Decompression(_) => Disposition::DecompressionFailed,
            Self::InsufficientSecurity(_) => Disposition::InsufficientMessageSecurity,
            Self::UnsupportedFormat(_) => Disposition::UnsupportedFormat,
            Self::UnsupportedMicAlgorithm(_) => Disposition::UnsupportedMicAlgorithms,
            Self::LimitExceeded { limit, .. } => match limit {
                Limit::DecompressedBytes => Disposition::DecompressionFailed,
                Limit::MimeHeaderLines
                | Limit::MimeHeaderBytes
                | Limit::MultipartParts
                | Limit::CmsRecipients
                | Limit::CmsSigners => Disposition::UnsupportedFormat,
            },
            Self::Mime(_)
            | Self::MissingHeader(_)
            | Self::InvalidHeader { .. }
            | Self::TransferEncoding(_)
            | Self::UnsupportedAlgorithm(_)
            | Self::Asn1(_)
            | Self::Key(_)
            | Self::Crypto(_)
            | Self::Mdn(_)
            | Self::Cem(_) => Disposition::UnexpectedProcessingError,
        }
    }
}

impl Error {
    /// [`Error::LimitExceeded`] for `limit`, whose value is `max`.
    pub(crate) fn limit(limit: Limit, max: impl TryInto<u64>) -> Self {
        Self::LimitExceeded {
            limit,
            max: max.try_into().unwrap_or(u64::MAX),
        }
    }
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Self::Asn1(e.to_string())
    }
}

/// Result alias for the codec.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    #[test]
    fn dispositions() {
        assert_eq!(
            Error::Decryption.disposition().modifier(),
            "decryption-failed"
        );
        assert_eq!(
            Error::Signature("x".into()).disposition(),
            Disposition::AuthenticationFailed
        );
        assert!(
            Error::UnsupportedMicAlgorithm("md2".into())
                .disposition()
                .disposition_field()
                .contains("failed/Failure")
        );
        assert_eq!(
            Error::Cem("x".into()).disposition(),
            Disposition::UnexpectedProcessingError
        );
        let inflated = Error::limit(Limit::DecompressedBytes, 10u64);
        assert_eq!(inflated.disposition(), Disposition::DecompressionFailed);
        assert_eq!(
            inflated.to_string(),
            "more decompressed bytes than the limit of 10"
        );
        for limit in [
            Limit::MimeHeaderLines,
            Limit::MimeHeaderBytes,
            Limit::MultipartParts,
            Limit::CmsRecipients,
            Limit::CmsSigners,
        ] {
            assert_eq!(
                Error::limit(limit, 1usize).disposition(),
                Disposition::UnsupportedFormat
            );
        }
    }
}
