//! RFC 3161 time-stamping for the evidence of trust-lifecycle events: build a request for
//! the SHA-256 of some data, answer requests as a time-stamping authority (TSA), and verify
//! tokens and responses against pinned TSA certificates.
//!
//! Sans-IO like as2-core: bytes in, bytes out. No HTTP (RFC 3161 §3.4 transport is the
//! caller's), no files, no clock (`now` is passed in) and no serial-number store (the
//! caller supplies unique serials). Tokens are CMS SignedData over a TSTInfo, signed with
//! RSA PKCS#1 v1.5 and SHA-256 through as2-core's `PrivateKeyOps`; they verify with
//! `openssl ts -verify`.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use as2_evidence::{authority, request, sha256, verify};
//! use as2_evidence::ObjectIdentifier;
//!
//! # fn main() -> as2_evidence::Result<()> {
//! let key = as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)?;
//! let now = SystemTime::now();
//! let cert = authority::generate_tsa_certificate(&key, "CN=Acme TSA", now, Duration::from_secs(86_400))?;
//! let policy = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");
//! let tsa = authority::TimeStampAuthority::new(cert.clone(), Box::new(key), policy);
//!
//! let hash = sha256(b"certificate 42 activated");
//! let req = request::TimeStampRequest::new(&hash, Some(7)).to_der()?;
//! let resp = tsa.respond(&req, now, 1);
//! let info = verify::verify_response(&resp, &hash, Some(7), &[cert])?;
//! assert_eq!(info.serial_u128(), Some(1));
//! assert_eq!(info.policy, policy);
//! # Ok(())
//! # }
//! ```

pub mod asn1;
pub mod authority;
pub mod bundle;
pub mod error;
mod int;
pub mod oids;
mod policy_id;
pub mod request;
mod sign;
pub mod status;
#[cfg(test)]
mod testutil;
pub mod verify;

pub use der::asn1::ObjectIdentifier;
pub use error::{Error, Result};
pub use policy_id::{InvalidPolicyId, PolicyId};

/// SHA-256 of `data`: the hash requests and tokens carry.
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}
