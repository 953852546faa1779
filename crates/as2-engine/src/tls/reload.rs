//! A listener's certificate that changes without a restart. [`ReloadingCertificate`] is the
//! rustls certificate resolver: every handshake takes the current chain and key (an `Arc`
//! swapped under a lock), so connections already open keep the session they made and new ones
//! get the new certificate. [`ReloadingCertificate::watch`] looks at the files every interval
//! and on SIGHUP; a file that changed is loaded, and a bad one (unreadable, not PEM, a key that
//! is not the certificate's, half written) is logged and the old certificate keeps serving.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest as _, Sha256};

use super::TlsError;
use super::certificate::{certified_key, read};

/// The certificate chain and key of a listener, reloaded from their files.
pub struct ReloadingCertificate {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// The SHA-256 of the two files last looked at (loaded or refused): a file is loaded again
    /// only when it changed, and a bad one is reported once.
    seen: Mutex<[u8; 32]>,
}

/// What [`ReloadingCertificate::reload`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reloaded {
    /// The files are what is serving already.
    Unchanged,
    /// The new chain and key serve new connections.
    Replaced,
}

impl ReloadingCertificate {
    /// Loads the chain in `cert_path` and the key in `key_path`.
    ///
    /// # Errors
    /// As [`super::load_certified_key`].
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Arc<Self>, TlsError> {
        let (cert_pem, key_pem) = (read(cert_path)?, read(key_path)?);
        let key = certified_key(cert_path, &cert_pem, key_path, &key_pem)?;
        Ok(Arc::new(Self {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            current: RwLock::new(Arc::new(key)),
            seen: Mutex::new(digest(&cert_pem, &key_pem)),
        }))
    }

    /// The chain and key serving new connections.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the files again and, when they changed and are good, serves them.
    ///
    /// # Errors
    /// The changed files cannot be used (the old certificate keeps serving). Files that were
    /// refused once are not reported again until they change.
    pub fn reload(&self) -> Result<Reloaded, TlsError> {
        let files = read(&self.cert_path).and_then(|cert| Ok((cert, read(&self.key_path)?)));
        let (cert_pem, key_pem) = match files {
            Ok(files) => files,
            // a missing or unreadable file is reported once, like a bad one
            Err(e) => {
                return if self.first_look(digest(e.to_string().as_bytes(), b"unreadable")) {
                    Err(e)
                } else {
                    Ok(Reloaded::Unchanged)
                };
            }
        };
        if !self.first_look(digest(&cert_pem, &key_pem)) {
            return Ok(Reloaded::Unchanged);
        }
        let key = certified_key(&self.cert_path, &cert_pem, &self.key_path, &key_pem)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
        Ok(Reloaded::Replaced)
    }

    /// Records `now` as the files last looked at; whether they differ from the previous look.
    fn first_look(&self, now: [u8; 32]) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = *seen != now;
        *seen = now;
        changed
    }

    /// Reloads every `interval` and on SIGHUP until `stop` completes, logging what happened
    /// (`listener` names it in the log).
    pub async fn watch(
        self: Arc<Self>,
        listener: &'static str,
        interval: Duration,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let mut hangup = Hangup::new();
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = tick.tick() => {}
                () = hangup.recv() => tracing::info!(listener, "SIGHUP: reloading the TLS certificate"),
            }
            match self.reload() {
                Ok(Reloaded::Unchanged) => {}
                Ok(Reloaded::Replaced) => {
                    tracing::info!(listener, cert = %self.cert_path.display(), "TLS certificate reloaded");
                }
                Err(e) => tracing::error!(
                    listener,
                    error = %e,
                    "the new TLS certificate or key cannot be used; the previous one keeps serving"
                ),
            }
        }
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl fmt::Debug for ReloadingCertificate {
    // paths only: never the key
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCertificate")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

fn digest(cert_pem: &[u8], key_pem: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(
        u64::try_from(cert_pem.len())
            .unwrap_or(u64::MAX)
            .to_be_bytes(),
    );
    hash.update(cert_pem);
    hash.update(key_pem);
    hash.finalize().into()
}

/// SIGHUP where there is one.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Self {
        Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .map_err(
                    |e| tracing::warn!(error = %e, "no SIGHUP handler; reloading on change only"),
                )
                .ok(),
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
            self.signal = None;
        }
        std::future::pending::<()>().await;
    }
}
