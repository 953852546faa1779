//! The gateway's TLS material for an HTTPS case (a test CA's server certificate), the load
//! generator's client trusting it, with or without session resumption, and the HTTPS sender.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use as2_core::message::BuiltMessage;

use super::Wire;

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

/// Sends every message over HTTPS with reqwest's blocking client, [`super::connections`] threads at
/// once, and returns each one's latency; fails if any got no MDN.
pub(crate) fn send_all(
    url: &str,
    tls: &Tls,
    wire: Wire,
    messages: &[BuiltMessage],
) -> Result<Vec<Duration>> {
    let clients = (0..super::connections())
        .map(|_| tls.client(wire == Wire::HttpsKeepAlive))
        .collect::<Result<Vec<_>>>()?;
    let next = Mutex::new(0usize);
    let latencies = Mutex::new(Vec::with_capacity(messages.len()));
    let failures = Mutex::new(0usize);
    std::thread::scope(|s| {
        for client in &clients {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().expect("lock");
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(m) = messages.get(i) else { return };
                    let mut request = client.post(url).body(m.body.clone());
                    for (name, value) in &m.headers {
                        request = request.header(name.as_str(), value.as_str());
                    }
                    let sent = Instant::now();
                    let ok = request
                        .send()
                        .ok()
                        .filter(|r| r.status().is_success())
                        .and_then(|r| r.bytes().ok())
                        .is_some_and(|b| !b.is_empty());
                    latencies.lock().expect("lock").push(sent.elapsed());
                    if !ok {
                        *failures.lock().expect("lock") += 1;
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    if failures > 0 {
        bail!("{failures} of {} messages got no MDN", messages.len());
    }
    Ok(latencies.into_inner().expect("lock"))
}
