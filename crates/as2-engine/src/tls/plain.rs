//! Whether a listener may speak plain HTTP: on loopback always (development, `cargo xtask
//! up`), elsewhere only when the operator says so (`AS2_ALLOW_PLAIN_HTTP=true`, for a
//! TLS-terminating proxy on a private network).

use std::net::SocketAddr;

/// A listener that would serve plain HTTP off loopback without the operator's consent.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error(
    "{what} would serve plain HTTP on {addr}, which is not loopback: set {cert_var} and {key_var} \
     (a PEM certificate chain and key), or AS2_ALLOW_PLAIN_HTTP=true when a TLS proxy in front \
     terminates HTTPS"
)]
pub struct PlainHttpRefused {
    /// The listener (`AS2 endpoint`, `API`).
    pub what: &'static str,
    /// Where it would listen.
    pub addr: SocketAddr,
    /// The variable of the certificate chain.
    pub cert_var: &'static str,
    /// The variable of the key.
    pub key_var: &'static str,
}

/// Whether plain HTTP may be served on `addr`: on a loopback address, or when `allowed`.
pub fn plain_http_allowed(addr: SocketAddr, allowed: bool) -> bool {
    allowed || addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_unless_allowed() {
        assert!(plain_http_allowed("127.0.0.1:8080".parse().unwrap(), false));
        assert!(plain_http_allowed("[::1]:8080".parse().unwrap(), false));
        assert!(!plain_http_allowed("0.0.0.0:8080".parse().unwrap(), false));
        assert!(!plain_http_allowed("10.1.2.3:8080".parse().unwrap(), false));
        assert!(!plain_http_allowed("[::]:8080".parse().unwrap(), false));
        assert!(plain_http_allowed("0.0.0.0:8080".parse().unwrap(), true));
    }
}
