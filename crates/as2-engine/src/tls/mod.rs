//! TLS of the listeners (the API and the AS2 endpoint): rustls with TLS 1.2 and 1.3 only and
//! rustls's default (AEAD, forward-secret) suites on aws-lc-rs, ALPN `http/1.1`, and a
//! certificate that is reloaded from its PEM files without a restart ([`ReloadingCertificate`]:
//! a changed file or SIGHUP; a bad new file keeps the old certificate serving). Plain HTTP is
//! refused off loopback unless the operator allows it ([`plain_http_allowed`]). Requests to a
//! partner get their own client configuration ([`outbound`]: a private CA, a pinned key, a
//! client certificate).

mod certificate;
mod client_auth;
pub mod outbound;
mod plain;
mod reload;
mod server;

pub use certificate::load_certified_key;
pub use client_auth::{PeerCertificate, requesting_acceptor};
pub use plain::{PlainHttpRefused, plain_http_allowed};
pub use reload::{Reloaded, ReloadingCertificate};
pub use server::{acceptor, crypto_provider, server_config};
pub use tokio_rustls::TlsAcceptor;

use std::path::PathBuf;

/// A certificate chain and key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not the PEM it should be.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refuses the key or the configuration (a key of a kind it cannot use, a key that
    /// is not the certificate's).
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
}
