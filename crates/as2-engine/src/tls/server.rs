//! The rustls server configuration of a listener: TLS 1.3 and 1.2 only, the crypto provider's
//! default suites (ECDHE with AES-GCM or ChaCha20-Poly1305; no CBC, no RSA key exchange), ALPN
//! `http/1.1` (AS2 is HTTP/1.1; the API is served by the same loop), the certificate from a
//! [`ReloadingCertificate`], and no client certificate asked for.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use tokio_rustls::TlsAcceptor;

use super::{ReloadingCertificate, TlsError};

/// The crypto provider of the listeners: aws-lc-rs with its default, safe suites.
pub fn crypto_provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// The server configuration serving `certificate`.
///
/// # Errors
/// rustls refuses the protocol versions with the provider (it does not with aws-lc-rs).
pub fn server_config(certificate: Arc<ReloadingCertificate>) -> Result<ServerConfig, TlsError> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The acceptor of a listener serving `certificate`.
///
/// # Errors
/// As [`server_config`].
pub fn acceptor(certificate: Arc<ReloadingCertificate>) -> Result<TlsAcceptor, TlsError> {
    Ok(TlsAcceptor::from(Arc::new(server_config(certificate)?)))
}
