//! Client certificates on the AS2 listener (mutual TLS per partner): the listener asks every
//! client for a certificate but does not require one, and accepts whatever is presented
//! once its handshake signature proves the client holds the key. Whether it is the right one
//! is decided per partner at admission, by comparing it with the certificate the partner's
//! record names ([`PeerCertificate`]), so a partner without the setting is unaffected.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use tokio_rustls::TlsAcceptor;

use super::{ReloadingCertificate, TlsError, crypto_provider};

/// The leaf certificate (DER) a client presented in its TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub Arc<[u8]>);

/// Asks for a client certificate, accepts any the client proves it holds the key of.
#[derive(Debug)]
struct Requested {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ClientCertVerifier for Requested {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // judged at admission against the partner's record: an exact match or a refusal
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The acceptor of a listener serving `certificate` that asks clients for a certificate (TLS
/// 1.3 and 1.2, ALPN `http/1.1`, as [`super::acceptor`]).
///
/// # Errors
/// rustls refuses the protocol versions with the provider (it does not with aws-lc-rs).
pub fn requesting_acceptor(
    certificate: Arc<ReloadingCertificate>,
) -> Result<TlsAcceptor, TlsError> {
    let provider = Arc::new(crypto_provider());
    let mut config = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(Arc::new(Requested { provider }))
        .with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
