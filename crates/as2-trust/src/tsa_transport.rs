//! How a time-stamp query reaches a remote TSA: a trait object the binary passes in (the
//! platform's outbound HTTP client, in as2-engine), so this crate names no HTTP client and
//! every request the platform makes on its own goes through one client and one destination
//! policy.

use std::future::Future;
use std::pin::Pin;

/// Why a query got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Not sent: the destination policy refuses the address, or the TSA redirected (the
    /// sentence says which and why). No retry changes that; the operator's settings can.
    #[error("{0}")]
    Refused(String),
    /// No usable answer: connection failed, timed out, or an HTTP error status.
    #[error("{0}")]
    Unreachable(String),
}

/// The boxed future of a query.
pub type Query<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, TransportError>> + Send + 'a>>;

/// Posts an RFC 3161 `TimeStampReq` (`application/timestamp-query`) to a TSA and returns the
/// body of its `2xx` answer (the `TimeStampResp`).
pub trait TsaTransport: Send + Sync + std::fmt::Debug {
    /// Posts `request` to `url`.
    fn query<'a>(&'a self, url: &'a str, request: Vec<u8>) -> Query<'a>;
}
