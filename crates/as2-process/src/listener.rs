//! What a listener speaks, from the environment: TLS from a PEM chain and key (the variables
//! are the listener's own: `AS2_API_TLS_CERT`/`AS2_API_TLS_KEY`,
//! `AS2_GATEWAY_TLS_CERT`/`AS2_GATEWAY_TLS_KEY`), reloaded every `AS2_TLS_RELOAD_SECS` (30) and
//! on SIGHUP; plain HTTP only on loopback unless `AS2_ALLOW_PLAIN_HTTP=true`; and the proxies
//! whose forwarding headers are believed, `AS2_TRUSTED_PROXIES` (CIDRs, default none).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use as2_domain::forwarded::TrustedProxies;
use as2_domain::network::NetworkParseError;
use as2_engine::serve::Transport;
use as2_engine::tls::{PlainHttpRefused, ReloadingCertificate, TlsError, plain_http_allowed};

use crate::env::{EnvError, number, var};

/// The variable allowing plain HTTP off loopback.
pub const ALLOW_PLAIN_HTTP_VAR: &str = "AS2_ALLOW_PLAIN_HTTP";
/// The variable of the trusted proxies.
pub const TRUSTED_PROXIES_VAR: &str = "AS2_TRUSTED_PROXIES";
/// The variable of the certificate reload interval.
pub const TLS_RELOAD_VAR: &str = "AS2_TLS_RELOAD_SECS";

/// A listener's settings that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    /// A variable is not what it must be.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// One of the certificate and the key is set, not the other.
    #[error("{set} is set but {missing} is not: a listener's TLS needs both")]
    HalfPair {
        /// The one set.
        set: &'static str,
        /// The one missing.
        missing: &'static str,
    },
    /// `AS2_TRUSTED_PROXIES` has an entry that is not a network.
    #[error("AS2_TRUSTED_PROXIES must be comma-separated CIDRs: {0}")]
    Proxies(#[from] NetworkParseError),
    /// The certificate or key cannot be used.
    #[error("{cert_var}/{key_var}: {source}")]
    Tls {
        /// The certificate's variable.
        cert_var: &'static str,
        /// The key's variable.
        key_var: &'static str,
        /// Why.
        source: TlsError,
    },
    /// Plain HTTP off loopback without the operator's consent.
    #[error(transparent)]
    PlainHttp(#[from] PlainHttpRefused),
}

/// A listener's TLS and proxy settings.
#[derive(Debug, Clone)]
pub struct ListenerSettings {
    what: &'static str,
    cert_var: &'static str,
    key_var: &'static str,
    /// The certificate chain and key files, when TLS is configured.
    pub tls_files: Option<(PathBuf, PathBuf)>,
    /// `AS2_ALLOW_PLAIN_HTTP`.
    pub allow_plain_http: bool,
    /// `AS2_TRUSTED_PROXIES`.
    pub trusted_proxies: TrustedProxies,
    /// `AS2_TLS_RELOAD_SECS`.
    pub reload_interval: Duration,
    /// Ask clients for a TLS client certificate (not required): the AS2 listener, where a
    /// partner may have to present one (`tls_inbound_client_certificate_id`).
    pub request_client_certificates: bool,
}

/// A listener ready to serve: its transport, and the certificate to watch when it has TLS.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What the server loop serves with.
    pub transport: Transport,
    /// The certificate to reload ([`ReloadingCertificate::watch`]).
    pub certificate: Option<Arc<ReloadingCertificate>>,
}

impl Prepared {
    /// `https` or `http`, for the address a binary prints.
    pub fn scheme(&self) -> &'static str {
        if self.transport.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

impl ListenerSettings {
    /// The settings of the listener `what` (a name for messages) whose certificate chain and
    /// key are in `cert_var` and `key_var`.
    ///
    /// # Errors
    /// A variable is not what it must be.
    pub fn from_env(
        what: &'static str,
        cert_var: &'static str,
        key_var: &'static str,
    ) -> Result<Self, ListenerError> {
        let tls_files = match (var(cert_var), var(key_var)) {
            (Some(cert), Some(key)) => Some((PathBuf::from(cert), PathBuf::from(key))),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ListenerError::HalfPair {
                    set: cert_var,
                    missing: key_var,
                });
            }
            (None, Some(_)) => {
                return Err(ListenerError::HalfPair {
                    set: key_var,
                    missing: cert_var,
                });
            }
        };
        let reload_secs: u64 = number(TLS_RELOAD_VAR, 30)?;
        if reload_secs == 0 {
            return Err(EnvError {
                name: TLS_RELOAD_VAR.into(),
                expected: "at least 1",
                value: "0".into(),
            }
            .into());
        }
        Ok(Self {
            what,
            cert_var,
            key_var,
            tls_files,
            allow_plain_http: flag(ALLOW_PLAIN_HTTP_VAR)?,
            trusted_proxies: TrustedProxies::parse(&var(TRUSTED_PROXIES_VAR).unwrap_or_default())?,
            reload_interval: Duration::from_secs(reload_secs),
            request_client_certificates: false,
        })
    }

    /// These settings, asking clients for a TLS client certificate (not requiring one).
    #[must_use]
    pub fn requesting_client_certificates(mut self) -> Self {
        self.request_client_certificates = true;
        self
    }

    /// Loads the certificate (when TLS is configured) for a listener on `addr`.
    ///
    /// # Errors
    /// The certificate or key cannot be used, or plain HTTP would be served off loopback
    /// without `AS2_ALLOW_PLAIN_HTTP=true`.
    pub fn prepare(&self, addr: SocketAddr) -> Result<Prepared, ListenerError> {
        let tls_error = |source| ListenerError::Tls {
            cert_var: self.cert_var,
            key_var: self.key_var,
            source,
        };
        let certificate = match &self.tls_files {
            Some((cert, key)) => Some(ReloadingCertificate::load(cert, key).map_err(tls_error)?),
            None if plain_http_allowed(addr, self.allow_plain_http) => None,
            None => {
                return Err(PlainHttpRefused {
                    what: self.what,
                    addr,
                    cert_var: self.cert_var,
                    key_var: self.key_var,
                }
                .into());
            }
        };
        let tls = certificate
            .clone()
            .map(|certificate| {
                if self.request_client_certificates {
                    as2_engine::tls::requesting_acceptor(certificate)
                } else {
                    as2_engine::tls::acceptor(certificate)
                }
            })
            .transpose()
            .map_err(tls_error)?;
        Ok(Prepared {
            transport: Transport {
                tls,
                trusted_proxies: self.trusted_proxies.clone(),
            },
            certificate,
        })
    }
}

/// `true` or `false` (also `1`/`0`, `yes`/`no`) in `name`; unset or blank is `false`.
fn flag(name: &str) -> Result<bool, EnvError> {
    match var(name).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(EnvError {
            name: name.into(),
            expected: "true or false",
            value: other.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(tls_files: Option<(PathBuf, PathBuf)>, allow: bool) -> ListenerSettings {
        ListenerSettings {
            what: "API",
            cert_var: "AS2_API_TLS_CERT",
            key_var: "AS2_API_TLS_KEY",
            tls_files,
            allow_plain_http: allow,
            trusted_proxies: TrustedProxies::default(),
            reload_interval: Duration::from_secs(30),
            request_client_certificates: false,
        }
    }

    #[test]
    fn plain_http_off_loopback_needs_the_operators_consent() {
        let loopback = settings(None, false).prepare("127.0.0.1:8080".parse().unwrap());
        assert_eq!(loopback.unwrap().scheme(), "http");
        let error = settings(None, false)
            .prepare("0.0.0.0:8080".parse().unwrap())
            .unwrap_err();
        assert!(
            error.to_string().contains("AS2_ALLOW_PLAIN_HTTP=true"),
            "{error}"
        );
        assert!(error.to_string().contains("AS2_API_TLS_CERT"), "{error}");
        let allowed = settings(None, true).prepare("0.0.0.0:8080".parse().unwrap());
        assert_eq!(allowed.unwrap().scheme(), "http");
    }

    #[test]
    fn a_missing_certificate_file_is_named() {
        let error = settings(
            Some((
                "/nonexistent/cert.pem".into(),
                "/nonexistent/key.pem".into(),
            )),
            false,
        )
        .prepare("127.0.0.1:8080".parse().unwrap())
        .unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/cert.pem"),
            "{error}"
        );
    }
}
