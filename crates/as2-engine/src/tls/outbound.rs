//! The TLS of a request to one partner: the roots it is verified against (the platform's
//! public roots, a private CA bundle beside them, or the bundle alone), an optional pin of the
//! server's key (SHA-256 of its SubjectPublicKeyInfo, as HPKP and `curl --pinnedpubkey`
//! compute it) and an optional client certificate for mutual TLS. TLS 1.2 minimum;
//! certificate verification is never switched off: a pin is checked after the chain and the
//! name are verified, not instead.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine as _;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest as _, Sha256};

use super::{TlsError, crypto_provider};

/// The roots a partner's server certificate is verified against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Roots {
    /// The platform's public roots (the operating system's).
    #[default]
    Public,
    /// A private CA bundle (PEM) beside the public roots.
    PublicAnd(String),
    /// A private CA bundle (PEM) instead of the public roots.
    Only(String),
}

/// A pinned server key: the SHA-256 of its DER SubjectPublicKeyInfo. Written as 64 hex digits
/// or as standard base64 (44 characters, `sha256/` prefix optional, as curl and HPKP print it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SpkiPin(pub [u8; 32]);

/// A pin that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a server key pin is the SHA-256 of the key's SubjectPublicKeyInfo, as 64 hex digits or 44 base64 characters"
)]
pub struct SpkiPinParseError;

/// A client certificate chain and its private key, for mutual TLS (the key is never printed).
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// A partner's outbound TLS settings.
#[derive(Debug, Default)]
pub struct PartnerTls {
    /// What the server's certificate is verified against.
    pub roots: Roots,
    /// The server key it must have, if pinned.
    pub pin: Option<SpkiPin>,
    /// Keys accepted beside the pin (the next server key during a CEM `tlsServer` rollover);
    /// ignored without a pin.
    pub also_pins: Vec<SpkiPin>,
    /// The client certificate presented when the server asks for one.
    pub client: Option<ClientIdentity>,
}

impl SpkiPin {
    /// The pin of `spki_der` (a DER SubjectPublicKeyInfo).
    pub fn of_spki(spki_der: &[u8]) -> Self {
        Self(Sha256::digest(spki_der).into())
    }

    /// The pin of the key in `cert_der`.
    ///
    /// # Errors
    /// The certificate does not parse.
    pub fn of_certificate(cert_der: &CertificateDer<'_>) -> Result<Self, rustls::Error> {
        let parsed = ParsedCertificate::try_from(cert_der)?;
        Ok(Self::of_spki(parsed.subject_public_key_info().as_ref()))
    }
}

impl fmt::Display for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sha256/{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }
}

impl fmt::Debug for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpkiPin({self})")
    }
}

impl FromStr for SpkiPin {
    type Err = SpkiPinParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let s = s.strip_prefix("sha256/").unwrap_or(s);
        let bytes = if s.len() == 64 {
            hex::decode(s).map_err(|_| SpkiPinParseError)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| SpkiPinParseError)?
        };
        bytes.try_into().map(Self).map_err(|_| SpkiPinParseError)
    }
}

impl ClientIdentity {
    /// The chain (PEM, leaf first) and private key (PEM) of a key pair from the certificate
    /// store.
    ///
    /// # Errors
    /// No certificate, no key, or a key that is not the certificate's.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        let pem_error = |reason: &str| TlsError::Pem {
            path: "client certificate".into(),
            reason: reason.into(),
        };
        let chain = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| pem_error("not a PEM certificate chain"))?;
        if chain.is_empty() {
            return Err(pem_error("holds no CERTIFICATE block"));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| pem_error("not a PEM private key"))?;
        // the same check the server side makes: the key is the leaf's
        rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &crypto_provider())?;
        Ok(Self { chain, key })
    }
}

impl ClientIdentity {
    /// A certificate (DER) and its private key as the certificate store keeps it (PKCS#8,
    /// PKCS#1 or SEC1, DER or PEM).
    ///
    /// # Errors
    /// The key does not parse or is not the certificate's.
    pub fn from_der(cert_der: Vec<u8>, key: Vec<u8>) -> Result<Self, TlsError> {
        let key = if key.starts_with(b"-----") {
            PrivateKeyDer::from_pem_slice(&key).map_err(|_| TlsError::Pem {
                path: "client certificate".into(),
                reason: "not a PEM private key".into(),
            })?
        } else {
            PrivateKeyDer::try_from(key).map_err(|reason| TlsError::Pem {
                path: "client certificate".into(),
                reason: reason.into(),
            })?
        };
        let chain = vec![CertificateDer::from(cert_der)];
        rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &crypto_provider())?;
        Ok(Self { chain, key })
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// The rustls client configuration of `tls`: TLS 1.3 and 1.2, ALPN `http/1.1`.
///
/// # Errors
/// The CA bundle holds no certificate or one rustls cannot use, or the client key is refused.
pub fn client_config(tls: &PartnerTls) -> Result<ClientConfig, TlsError> {
    let provider = Arc::new(crypto_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match &tls.roots {
        Roots::Public => Arc::new(rustls_platform_verifier::Verifier::new(provider.clone())?),
        Roots::PublicAnd(pem) => {
            Arc::new(rustls_platform_verifier::Verifier::new_with_extra_roots(
                bundle(pem)?,
                provider.clone(),
            )?)
        }
        Roots::Only(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in bundle(pem)? {
                roots.add(cert)?;
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsError::Pem {
                    path: "CA bundle".into(),
                    reason: e.to_string(),
                })?
        }
    };
    let verifier: Arc<dyn ServerCertVerifier> = match tls.pin {
        Some(pin) => Arc::new(PinnedVerifier {
            inner: verifier,
            pin,
            also: tls.also_pins.clone(),
        }),
        None => verifier,
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match &tls.client {
        Some(identity) => {
            builder.with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn bundle(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: "CA bundle".into(),
            reason: format!("not PEM certificates ({e})"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            path: "CA bundle".into(),
            reason: "holds no CERTIFICATE block".into(),
        });
    }
    Ok(certs)
}

/// The usual verification, then the pin.
#[derive(Debug)]
struct PinnedVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    pin: SpkiPin,
    also: Vec<SpkiPin>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let presented = SpkiPin::of_certificate(end_entity)?;
        if presented != self.pin && !self.also.contains(&presented) {
            return Err(rustls::Error::General(format!(
                "the server's key {presented} is not the pinned key {}",
                self.pin
            )));
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_as_hex_or_base64_and_print_as_base64() {
        let pin = SpkiPin([0xab; 32]);
        let hex = "ab".repeat(32);
        let b64 = base64::engine::general_purpose::STANDARD.encode([0xab; 32]);
        assert_eq!(hex.parse::<SpkiPin>(), Ok(pin));
        assert_eq!(b64.parse::<SpkiPin>(), Ok(pin));
        assert_eq!(format!("sha256/{b64}").parse::<SpkiPin>(), Ok(pin));
        assert_eq!(pin.to_string(), format!("sha256/{b64}"));
        assert!("abcd".parse::<SpkiPin>().is_err());
        assert!("zz".repeat(32).parse::<SpkiPin>().is_err());
    }
}
