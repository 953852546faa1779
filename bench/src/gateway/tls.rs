//! The gateway's TLS material for an HTTPS case (a test CA's server certificate) and the
//! load generator's client trusting it, with or without session resumption.

use std::sync::Arc;

use anyhow::Result;

/// The gateway's TLS material for an HTTPS run: the CA's certificate and the files.
pub(crate) struct Tls {
    ca_pem: String,
    pub(crate) cert: std::path::PathBuf,
    pub(crate) key: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tls {
    pub(crate) fn new() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let ca = as2_test_support::tls::TestCa::new("bench CA");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        ca.server("127.0.0.1").write(&cert, &key)?;
        Ok(Self {
            ca_pem: ca.cert_pem,
            cert,
            key,
            _dir: dir,
        })
    }

    /// A client trusting the CA; with `resume` off, every request opens a new connection
    /// with a full handshake.
    pub(crate) fn client(&self, resume: bool) -> Result<reqwest::blocking::Client> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots.add(cert?)?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut builder = reqwest::blocking::Client::builder();
        if !resume {
            config.resumption = rustls::client::Resumption::disabled();
            builder = builder.pool_max_idle_per_host(0);
        }
        Ok(builder.tls_backend_preconfigured(config).build()?)
    }
}
