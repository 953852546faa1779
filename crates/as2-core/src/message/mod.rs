//! AS2 messages: building outbound messages (sign, compress, encrypt, MIC to expect) and
//! parsing inbound ones (decrypt, decompress, verify, MIC to return), plus the MDN request.

pub(crate) mod decoder;
mod encoder;
mod inbound;
mod limits;
mod options;
mod outbound;
mod unsigned_mic;

pub use decoder::{DecoderEvent, InboundDecoder, InboundVerdict};
pub use encoder::{BUFFER_BUDGET, BuiltTail, CHUNK_LEN, OutboundEncoder};
pub use inbound::{InboundConfig, InboundMessage, MicChoice, parse_inbound};
pub use limits::{DEFAULT_MAX_BUFFERED, InboundLimits};
pub use options::{Importance, MdnRequest, NotificationOptions, OptionParam};
pub use outbound::{
    BuiltMessage, Compression, Encryption, OutboundMessage, Signer, build_outbound,
};
pub use unsigned_mic::UnsignedMic;

use crate::crypto::{CryptoProvider, DigestAlgorithm, MicAlgStyle};
use crate::error::{Error, Result};
use crate::mime::{Headers, quote, unquote};

/// The AS2 version we speak.
pub const AS2_VERSION: &str = "1.2";

/// A message integrity check: digest algorithm and value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mic {
    /// The algorithm.
    pub algorithm: DigestAlgorithm,
    /// The digest value.
    pub value: Vec<u8>,
}

impl Mic {
    /// Compute over data.
    #[must_use]
    pub fn compute(algorithm: DigestAlgorithm, data: &[u8]) -> Self {
        Self {
            algorithm,
            value: algorithm.digest(data),
        }
    }

    /// The base64 value.
    #[must_use]
    pub fn base64(&self) -> String {
        crate::mime::encoding::encode_base64(&self.value)
    }

    /// `Received-Content-MIC` value: `<base64>, sha-256`.
    #[must_use]
    pub fn to_header_value(&self, style: MicAlgStyle) -> String {
        format!("{}, {}", self.base64(), self.algorithm.name(style))
    }

    /// Parse `<base64>, <alg>`.
    ///
    /// # Errors
    /// Malformed value or unknown algorithm.
    pub fn parse(value: &str) -> Result<Self> {
        let (b64, alg) = value
            .split_once(',')
            .ok_or_else(|| Error::Mdn(format!("malformed MIC {value:?}")))?;
        let algorithm = DigestAlgorithm::from_name(alg)
            .ok_or_else(|| Error::UnsupportedAlgorithm(format!("MIC algorithm {}", alg.trim())))?;
        let value = crate::mime::encoding::decode_base64(b64.trim().as_bytes())?;
        Ok(Self { algorithm, value })
    }

    /// Compare with constant-time value comparison; algorithm names are normalised.
    #[must_use]
    pub fn matches(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.algorithm == other.algorithm && bool::from(self.value.ct_eq(&other.value))
    }
}

/// Validate an AS2 name (1-128 printable ASCII) and quote it when needed.
///
/// # Errors
/// Empty, too long or non-printable.
pub fn format_as2_name(name: &str) -> Result<String> {
    validate_as2_name(name)?;
    let needs = name
        .chars()
        .any(|c| c == ' ' || "()<>@,;:\\\"/[]?={}".contains(c));
    Ok(if needs { quote(name) } else { name.to_owned() })
}

/// Parse an AS2-From/AS2-To value: unquote and validate.
///
/// # Errors
/// Empty, too long or non-printable.
pub fn parse_as2_name(value: &str) -> Result<String> {
    let name = unquote(value);
    validate_as2_name(&name)?;
    Ok(name)
}

fn validate_as2_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 128
        && name.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidHeader {
            name: "AS2-From/AS2-To",
            reason: format!("{name:?} is not 1-128 printable ASCII characters"),
        })
    }
}

/// The AS2 envelope of an inbound message: who, which message, and what receipt.
/// Parsed separately from the body so that an error MDN can still be addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `AS2-From` (unquoted).
    pub as2_from: String,
    /// `AS2-To` (unquoted).
    pub as2_to: String,
    /// `Message-ID` as sent (with angle brackets), if any.
    pub message_id: Option<String>,
    /// `AS2-Version`, if any (absent = baseline).
    pub as2_version: Option<String>,
    /// `Subject`, if any.
    pub subject: Option<String>,
    /// The MDN request, if any.
    pub mdn: Option<MdnRequest>,
}

impl Envelope {
    /// From the top-level headers.
    ///
    /// # Errors
    /// Missing or invalid AS2-From / AS2-To.
    pub fn from_headers(headers: &Headers) -> Result<Self> {
        let as2_from = parse_as2_name(
            headers
                .get("as2-from")
                .ok_or(Error::MissingHeader("AS2-From"))?,
        )?;
        let as2_to = parse_as2_name(
            headers
                .get("as2-to")
                .ok_or(Error::MissingHeader("AS2-To"))?,
        )?;
        Ok(Self {
            as2_from,
            as2_to,
            message_id: headers.get("message-id").map(str::to_owned),
            as2_version: headers.get("as2-version").map(str::to_owned),
            subject: headers.get("subject").map(str::to_owned),
            mdn: MdnRequest::from_headers(headers),
        })
    }
}

/// A new Message-ID `<random@domain>`, random from `provider`.
///
/// # Errors
/// The random generator failed.
pub fn generate_message_id(provider: &CryptoProvider, domain: &str) -> Result<String> {
    let rnd: String = provider
        .random_bytes(16)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let domain: String = domain
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    let domain = if domain.is_empty() {
        "as2".to_owned()
    } else {
        domain
    };
    Ok(format!("<{rnd}@{domain}>"))
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
    fn names_and_mic() {
        assert_eq!(format_as2_name("acme").unwrap(), "acme");
        assert_eq!(format_as2_name("ac me").unwrap(), "\"ac me\"");
        assert_eq!(parse_as2_name("\"a \\\"b\\\"\"").unwrap(), "a \"b\"");
        assert!(format_as2_name("").is_err());
        assert!(format_as2_name(&"x".repeat(129)).is_err());
        let m = Mic::compute(DigestAlgorithm::Sha256, b"x");
        let p = Mic::parse(&m.to_header_value(MicAlgStyle::Rfc3851)).unwrap();
        assert!(m.matches(&p));
        assert!(
            generate_message_id(crate::testutil::P, "ex ample.com")
                .unwrap()
                .ends_with("@example.com>")
        );
    }
}
