//! A partner's outbound TLS settings: a private CA bundle trusted beside the public roots or
//! instead of them, a pinned server key (SPKI SHA-256) and our client certificate for mutual
//! TLS. Verification is never switched off: these only narrow or extend what is trusted.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

use crate::id::CertificateId;
use crate::validation::ValidationErrors;

/// Largest CA bundle a partner can be given (PEM text).
pub const MAX_CA_BUNDLE_BYTES: usize = 256 * 1024;

/// The PEM marker every certificate of a bundle starts with.
const BEGIN_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";

/// How the partner's server is verified and what we present to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PartnerTls {
    /// PEM certificates of a private CA, trusted beside the public roots (or instead of them,
    /// with `ca_only`).
    pub ca_bundle: Option<String>,
    /// The bundle replaces the public roots instead of adding to them.
    pub ca_only: bool,
    /// The server key the partner must present.
    pub pin_sha256: Option<TlsPin>,
    /// Our key pair presented when the partner asks for a client certificate.
    pub client_certificate_id: Option<CertificateId>,
}

/// A pinned server key: the SHA-256 of its DER SubjectPublicKeyInfo. Written as 64 hex digits
/// or as standard base64 (44 characters, `sha256/` prefix optional, as curl and HPKP print it);
/// shown as `sha256/<base64>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TlsPin(pub [u8; 32]);

/// A pin that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "The TLS pin must be the SHA-256 of the server key's SubjectPublicKeyInfo, as 64 hex digits or 44 base64 characters (sha256/ prefix optional)"
)]
pub struct TlsPinParseError;

impl FromStr for TlsPin {
    type Err = TlsPinParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let s = s.strip_prefix("sha256/").unwrap_or(s);
        let bytes = if s.len() == 64 {
            hex::decode(s).map_err(|_| TlsPinParseError)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| TlsPinParseError)?
        };
        bytes.try_into().map(Self).map_err(|_| TlsPinParseError)
    }
}

impl fmt::Display for TlsPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sha256/{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }
}

impl fmt::Debug for TlsPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TlsPin({self})")
    }
}

impl PartnerTls {
    /// Whether anything differs from the platform's default TLS (public roots, no pin, no
    /// client certificate).
    pub fn is_custom(&self) -> bool {
        *self != Self::default()
    }

    /// The shape rules (the certificates of the bundle are parsed where X.509 is known, in
    /// the API; the client certificate is looked up there too), each under its API field.
    pub fn validate(&self, errors: &mut ValidationErrors) {
        if let Some(bundle) = &self.ca_bundle {
            if bundle.len() > MAX_CA_BUNDLE_BYTES {
                errors.add(
                    "tls_ca_bundle",
                    format!("The TLS CA bundle must be at most {MAX_CA_BUNDLE_BYTES} bytes"),
                );
            } else if bundle.contains("PRIVATE KEY-----") {
                errors.add(
                    "tls_ca_bundle",
                    "The TLS CA bundle must hold certificates only, never a private key",
                );
            } else if !bundle.contains(BEGIN_CERTIFICATE) {
                errors.add(
                    "tls_ca_bundle",
                    "The TLS CA bundle must contain at least one PEM certificate",
                );
            }
        }
        if self.ca_only && self.ca_bundle.is_none() {
            errors.add(
                "tls_ca_only",
                "Trusting only the TLS CA bundle needs tls_ca_bundle",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN_B64: &str = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const PIN_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn a_pin_is_read_in_hex_and_base64_and_shown_in_base64() {
        let b64: TlsPin = PIN_B64.parse().unwrap();
        let bare: TlsPin = PIN_B64.trim_start_matches("sha256/").parse().unwrap();
        let hex: TlsPin = PIN_HEX.parse().unwrap();
        assert_eq!(b64, hex);
        assert_eq!(bare, hex);
        assert_eq!(hex.to_string(), PIN_B64);
        for bad in ["", "sha256/", "abc", &PIN_HEX[2..], "sha256/AAAA"] {
            assert_eq!(bad.parse::<TlsPin>(), Err(TlsPinParseError), "{bad}");
        }
    }

    #[test]
    fn the_bundle_rules_name_their_fields() {
        let mut errors = ValidationErrors::new();
        PartnerTls {
            ca_only: true,
            ..PartnerTls::default()
        }
        .validate(&mut errors);
        assert!(errors.has("tls_ca_only"), "{errors}");

        for bundle in [
            "not pem",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let mut errors = ValidationErrors::new();
            PartnerTls {
                ca_bundle: Some(bundle.into()),
                ..PartnerTls::default()
            }
            .validate(&mut errors);
            assert!(errors.has("tls_ca_bundle"), "{bundle}: {errors}");
        }

        let mut errors = ValidationErrors::new();
        let tls = PartnerTls {
            ca_bundle: Some(format!(
                "{BEGIN_CERTIFICATE}\nAAAA\n-----END CERTIFICATE-----\n"
            )),
            ca_only: true,
            ..PartnerTls::default()
        };
        tls.validate(&mut errors);
        assert!(errors.is_empty(), "{errors}");
        assert!(tls.is_custom());
        assert!(!PartnerTls::default().is_custom());
    }
}
