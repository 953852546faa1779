//! Message Disposition Notifications (RFC 3798/8098 as profiled by RFC 4130 §7.4):
//! building (optionally signed) and parsing/verifying them.

mod build;
mod parse;

pub use build::{BuiltMdn, MdnParams, build_mdn};
pub use parse::{ParsedMdn, parse_mdn, parse_mdn_with_limits};

#[cfg(test)]
#[path = "disposition_tests.rs"]
mod disposition_tests;

use crate::error::{Error, Limit};

/// The disposition an MDN reports (RFC 4130 §7.4.3, RFC 5402): the one model of a
/// disposition in the codec, built, parsed and matched alike. A processing failure becomes
/// one through `MdnDisposition::from(&error)`, the only place that picks a modifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MdnDisposition {
    /// `processed`: delivered.
    Processed,
    /// `processed/warning: <text>`: delivered, with a warning (e.g. `duplicate-document`).
    Warning(String),
    /// `processed/error: <modifier>`: not delivered.
    Error(Modifier),
    /// `failed/Failure: <modifier>`: the MDN request itself could not be met.
    Failed(Modifier),
}

/// The modifier of an error or failure disposition (after `processed/error: ` or
/// `failed/Failure: `).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Modifier {
    /// `decryption-failed`
    DecryptionFailed,
    /// `authentication-failed`
    AuthenticationFailed,
    /// `integrity-check-failed`
    IntegrityCheckFailed,
    /// `unexpected-processing-error`
    UnexpectedProcessingError,
    /// `insufficient-message-security`
    InsufficientMessageSecurity,
    /// `decompression-failed` (RFC 5402)
    DecompressionFailed,
    /// `unsupported format` (with `failed/Failure`)
    UnsupportedFormat,
    /// `unsupported MIC-algorithms` (with `failed/Failure`)
    UnsupportedMicAlgorithms,
    /// Any other text a partner's MDN carries, verbatim.
    Other(String),
}

impl Modifier {
    /// Every modifier the codec knows (all but [`Modifier::Other`]).
    pub const KNOWN: [Self; 8] = [
        Self::DecryptionFailed,
        Self::AuthenticationFailed,
        Self::IntegrityCheckFailed,
        Self::UnexpectedProcessingError,
        Self::InsufficientMessageSecurity,
        Self::DecompressionFailed,
        Self::UnsupportedFormat,
        Self::UnsupportedMicAlgorithms,
    ];

    /// The text as it appears on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::DecryptionFailed => "decryption-failed",
            Self::AuthenticationFailed => "authentication-failed",
            Self::IntegrityCheckFailed => "integrity-check-failed",
            Self::UnexpectedProcessingError => "unexpected-processing-error",
            Self::InsufficientMessageSecurity => "insufficient-message-security",
            Self::DecompressionFailed => "decompression-failed",
            Self::UnsupportedFormat => "unsupported format",
            Self::UnsupportedMicAlgorithms => "unsupported MIC-algorithms",
            Self::Other(text) => text,
        }
    }

    /// A known modifier whatever its case, else [`Modifier::Other`] with the text.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        Self::KNOWN
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text))
            .unwrap_or_else(|| Self::Other(text.to_owned()))
    }
}

impl From<&str> for Modifier {
    /// [`Modifier::parse`].
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

impl std::fmt::Display for Modifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The disposition an MDN reports for a processing failure: the one mapping from an error
/// to an RFC 4130 modifier.
impl From<&Error> for MdnDisposition {
    fn from(e: &Error) -> Self {
        match e {
            Error::Decryption => Self::Error(Modifier::DecryptionFailed),
            Error::Signature(_) | Error::UnknownSigner => {
                Self::Error(Modifier::AuthenticationFailed)
            }
            Error::Integrity(_) => Self::Error(Modifier::IntegrityCheckFailed),
            Error::Decompression(_) => Self::Error(Modifier::DecompressionFailed),
            Error::InsufficientSecurity(_) => Self::Error(Modifier::InsufficientMessageSecurity),
            Error::UnsupportedFormat(_) => Self::Failed(Modifier::UnsupportedFormat),
            Error::UnsupportedMicAlgorithm(_) => Self::Failed(Modifier::UnsupportedMicAlgorithms),
            Error::LimitExceeded { limit, .. } => match limit {
                Limit::DecompressedBytes => Self::Error(Modifier::DecompressionFailed),
                Limit::MimeHeaderLines
                | Limit::MimeHeaderBytes
                | Limit::MultipartParts
                | Limit::CmsRecipients
                | Limit::CmsSigners
                | Limit::BufferedBytes => Self::Failed(Modifier::UnsupportedFormat),
            },
            Error::Mime(_)
            | Error::MissingHeader(_)
            | Error::InvalidHeader { .. }
            | Error::TransferEncoding(_)
            | Error::UnsupportedAlgorithm(_)
            | Error::Asn1(_)
            | Error::Key(_)
            | Error::Crypto(_)
            | Error::Mdn(_)
            | Error::Cem(_) => Self::Error(Modifier::UnexpectedProcessingError),
        }
    }
}

impl MdnDisposition {
    /// Whether the document counts as delivered.
    #[must_use]
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Processed | Self::Warning(_))
    }

    /// The modifier of an error or failure disposition.
    #[must_use]
    pub fn modifier(&self) -> Option<&Modifier> {
        match self {
            Self::Error(m) | Self::Failed(m) => Some(m),
            Self::Processed | Self::Warning(_) => None,
        }
    }

    /// The `Disposition:` field value, e.g.
    /// `automatic-action/MDN-sent-automatically; processed/error: decryption-failed`.
    #[must_use]
    pub fn to_field(&self) -> String {
        let tail = match self {
            Self::Processed => "processed".to_owned(),
            Self::Warning(t) => format!("processed/warning: {t}"),
            Self::Error(m) => format!("processed/error: {m}"),
            Self::Failed(m) => format!("failed/Failure: {m}"),
        };
        format!("automatic-action/MDN-sent-automatically; {tail}")
    }

    /// Parse a `Disposition:` field value case-insensitively; unknown modifiers are kept
    /// verbatim ([`Modifier::Other`]).
    #[must_use]
    pub fn parse(value: &str) -> Self {
        let tail = value.split_once(';').map_or(value, |(_, t)| t).trim();
        let (kind, modifier) = match tail.split_once(':') {
            Some((k, m)) => (k.trim().to_ascii_lowercase(), m.trim().to_owned()),
            None => (tail.to_ascii_lowercase(), String::new()),
        };
        let kind = kind.replace(' ', "");
        if kind.starts_with("failed") {
            Self::Failed(Modifier::parse(&modifier))
        } else if kind == "processed/warning" {
            Self::Warning(modifier)
        } else if kind == "processed" && modifier.is_empty() {
            Self::Processed
        } else if kind == "processed" {
            // `processed: text` is unusual; keep the text as a warning
            Self::Warning(modifier)
        } else {
            Self::Error(Modifier::parse(if modifier.is_empty() {
                &kind
            } else {
                &modifier
            }))
        }
    }
}

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
        for d in [
            MdnDisposition::Processed,
            MdnDisposition::Warning("duplicate-document".into()),
            MdnDisposition::Error(Modifier::DecryptionFailed),
            MdnDisposition::Failed(Modifier::UnsupportedMicAlgorithms),
            MdnDisposition::Error(Modifier::Other("vendor-specific".into())),
        ] {
            assert_eq!(MdnDisposition::parse(&d.to_field()), d);
        }
        assert_eq!(
            MdnDisposition::parse("Automatic-action/mdn-sent-automatically;processed"),
            MdnDisposition::Processed
        );
        assert_eq!(
            MdnDisposition::parse(
                "automatic-action/MDN-sent-automatically; processed/Error: authentication-failed"
            ),
            MdnDisposition::Error(Modifier::AuthenticationFailed)
        );
        assert_eq!(
            MdnDisposition::from(&Error::Decryption).to_field(),
            "automatic-action/MDN-sent-automatically; processed/error: decryption-failed"
        );
    }
}
