//! The codec's error type. How each error maps to an MDN disposition is
//! `From<&Error> for MdnDisposition`, in [`crate::mdn`].

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
    /// Bytes the streaming inbound decoder holds at once (`InboundLimits::max_buffered`):
    /// a CMS field, a signature part or content it must read whole.
    BufferedBytes,
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
            Self::BufferedBytes => "bytes held at once",
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

/// Which integrity check failed: what a caller branches on (a MIC mismatch in a partner's
/// MDN is not a missing MIC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// The MDN's Received-Content-MIC is not the MIC of what was sent.
    #[error("Received-Content-MIC does not match")]
    MicMismatch,
    /// A positive MDN without the Received-Content-MIC that was expected.
    #[error("MDN has no Received-Content-MIC")]
    MicMissing,
    /// The content's digest is not the signed messageDigest.
    #[error("content digest does not match the signature")]
    ContentDigestMismatch,
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
    Integrity(IntegrityError),
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
mod tests {
    use super::*;

    #[test]
    fn limit_text() {
        assert_eq!(
            Error::limit(Limit::DecompressedBytes, 10u64).to_string(),
            "more decompressed bytes than the limit of 10"
        );
        assert_eq!(
            Error::Integrity(IntegrityError::MicMismatch).to_string(),
            "integrity check failed: Received-Content-MIC does not match"
        );
    }
}
