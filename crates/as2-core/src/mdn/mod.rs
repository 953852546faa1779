//! Message Disposition Notifications (RFC 3798/8098 as profiled by RFC 4130 §7.4):
//! building (optionally signed) and parsing/verifying them.

mod build;
mod parse;

pub use build::{BuiltMdn, MdnParams, build_mdn};
pub use parse::{ParsedMdn, parse_mdn, parse_mdn_with_limits};

use crate::error::{Disposition, Error};

/// The disposition an MDN reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MdnDisposition {
    /// `processed`: delivered.
    Processed,
    /// `processed/warning: <text>`: delivered, with a warning (e.g. `duplicate-document`).
    Warning(String),
    /// `processed/error: <modifier>`: not delivered.
    Error(String),
    /// `failed/Failure: <text>`: the MDN request could not be met.
    Failed(String),
}

impl MdnDisposition {
    /// The disposition for a processing error.
    #[must_use]
    pub fn from_error(e: &Error) -> Self {
        Self::from_disposition(e.disposition())
    }

    /// From a disposition modifier.
    #[must_use]
    pub fn from_disposition(d: Disposition) -> Self {
        if d.is_failure() {
            Self::Failed(d.modifier().to_owned())
        } else {
            Self::Error(d.modifier().to_owned())
        }
    }

    /// Whether the document counts as delivered.
    #[must_use]
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Processed | Self::Warning(_))
    }

    /// The `Disposition:` field value.
    #[must_use]
    pub fn to_field(&self) -> String {
        let tail = match self {
            Self::Processed => "processed".to_owned(),
            Self::Warning(t) => format!("processed/warning: {t}"),
            Self::Error(t) => format!("processed/error: {t}"),
            Self::Failed(t) => format!("failed/Failure: {t}"),
        };
        format!("automatic-action/MDN-sent-automatically; {tail}")
    }

    /// Parse a `Disposition:` field value case-insensitively; unknown modifiers are kept
    /// verbatim.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        let tail = value.split_once(';').map_or(value, |(_, t)| t).trim();
        let (kind, modifier) = match tail.split_once(':') {
            Some((k, m)) => (k.trim().to_ascii_lowercase(), m.trim().to_owned()),
            None => (tail.to_ascii_lowercase(), String::new()),
        };
        let kind = kind.replace(' ', "");
        if kind.starts_with("failed") {
            Self::Failed(modifier)
        } else if kind == "processed/warning" {
            Self::Warning(modifier)
        } else if kind == "processed" && modifier.is_empty() {
            Self::Processed
        } else if kind == "processed" {
            // `processed: text` is unusual; keep the text as a warning
            Self::Warning(modifier)
        } else {
            Self::Error(if modifier.is_empty() { kind } else { modifier })
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
            MdnDisposition::Error("decryption-failed".into()),
            MdnDisposition::Failed("unsupported MIC-algorithms".into()),
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
            MdnDisposition::Error("authentication-failed".into())
        );
        assert_eq!(
            MdnDisposition::from_error(&Error::Decryption).to_field(),
            "automatic-action/MDN-sent-automatically; processed/error: decryption-failed"
        );
    }
}
