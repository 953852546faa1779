//! The trust lifecycle of partners and stations.
//!
//! A partner's certificate (or a station's key pair) is replaced in three steps, each an
//! operation here and an event on the subject's hash-chained timeline:
//!
//! 1. [`lifecycle::schedule`]: the next certificate and the window (`activate_at`,
//!    `retire_at`); from now on inbound traffic may use either certificate;
//! 2. [`lifecycle::activate`]: the next certificate becomes current (outbound work uses it),
//!    the old one is still accepted;
//! 3. [`lifecycle::retire`]: the old certificate is no longer accepted.
//!
//! The API calls them for an operator; [`scheduler::run_due`] calls them at the scheduled
//! times, exactly once even with several gateways (each write is a compare-and-swap on the
//! record's version). Every event is time-stamped (RFC 3161) over its chain hash by a
//! [`stamper::Stamper`]: the built-in authority or a configured TSA over HTTP;
//! [`verify::verify_timeline`] re-checks the chain and every token. [`expiry`] announces
//! certificates that are about to expire and [`cem`] carries rollovers to and from partners
//! as Certificate Exchange Messages; [`tls`] gives a partner's TLS certificates the same
//! lifecycle.
//!
//! Store calls are blocking (diesel); callers on an async runtime run them on the blocking
//! pool. Only time-stamping is async, because a TSA may be a remote HTTP service.

pub mod cem;
pub mod certificate;
pub mod error;
pub mod expiry;
pub mod lifecycle;
pub mod message_evidence;
pub mod scheduler;
pub mod stamper;
pub mod tls;
pub mod tsa_transport;
pub mod verify;

pub use error::TrustOpError;
