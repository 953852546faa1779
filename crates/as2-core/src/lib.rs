//! A sans-IO AS2 (RFC 4130) and S/MIME codec: MIME, CMS, MIC and MDNs.
//!
//! # Sans-IO
//!
//! Nothing in this crate opens a socket, touches a file or spawns a task. Every function
//! takes bytes (HTTP headers as `(name, value)` pairs and the body) and returns bytes, so
//! the same codec serves an HTTP server, a client, a queue worker or a fuzzer:
//!
//! * sending: [`message::build_outbound`] turns a payload and options (compress before
//!   or after signing, sign, encrypt, MDN request) into HTTP headers, a body, and the
//!   [`message::Mic`] the partner's MDN must return;
//! * receiving: [`message::Envelope::from_headers`] reads who sent what (enough to address
//!   an error MDN), then [`message::parse_inbound`] decrypts, decompresses and verifies in
//!   whatever nesting the sender chose and computes the MIC to return; any failure is an
//!   [`Error`], and `MdnDisposition::from(&error)` is the [`MdnDisposition`] to report (the
//!   one place that picks an RFC 4130 [`Modifier`]);
//! * receipts: [`mdn::build_mdn`] builds a (signed) MDN, [`mdn::parse_mdn`] parses and
//!   verifies one, and [`mdn::ParsedMdn::check`] matches it against the message sent;
//! * certificate exchange: [`cem`] builds and validates CEM requests and responses, the
//!   payloads partners use to roll over certificates.
//!
//! Nor does it read a clock or draw randomness of its own: the caller passes the time
//! ([`cms::SignOptions::new`], [`cert::generate_self_signed`]) and a [`CryptoProvider`]
//! (randomness and the private-key implementation, the rustls shape) to every operation that
//! needs one. [`crypto::rust_crypto::DEFAULT_PROVIDER`] is the built-in RustCrypto provider;
//! `as2_crypto_aws_lc::DEFAULT_PROVIDER` the faster one the platform's binaries choose. There
//! is no process-wide default. `clippy.toml` turns this rule into a lint.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use as2_core::{cert, cms, keys, mdn, message};
//! use as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
//! use as2_core::mime::Headers;
//!
//! # fn main() -> as2_core::Result<()> {
//! // the caller chooses the crypto provider and says what time it is
//! let provider = &DEFAULT_PROVIDER;
//! let now = SystemTime::now();
//! // one key pair plays both partners here
//! let key = keys::generate_rsa_key(provider, 2048)?;
//! let cert = cert::generate_self_signed(provider, &key, "CN=acme", now, Duration::from_secs(86_400))?;
//!
//! // send: sign with SHA-256, encrypt with AES-256-CBC, ask for a signed receipt
//! let mut out = message::OutboundMessage::new(provider, "acme", "partner", b"UNB+...", "application/edifact");
//! out.signer = Some(message::Signer::new(&cert, &key, cms::SignOptions::new(now)));
//! out.encryption = Some(message::Encryption::new(vec![&cert], cms::EncryptOptions::default()));
//! out.mdn_to = Some("as2@acme.example".into());
//! out.mdn_options = Some(message::NotificationOptions::signed(&[as2_core::crypto::DigestAlgorithm::Sha256]));
//! let built = message::build_outbound(&out)?;
//!
//! // receive
//! let headers = Headers::from_pairs(built.headers.clone());
//! let keys = [cms::DecryptionKey { certificate: &cert, key: &key }];
//! let trusted = [cert.clone()];
//! let cfg = message::InboundConfig::new(provider, &keys, &trusted);
//! let inbound = message::parse_inbound(&headers, &built.body, &cfg)?;
//! assert_eq!(&inbound.payload[..], b"UNB+...");
//!
//! // answer with a signed MDN, and check it on the sending side
//! let mut params = mdn::MdnParams::new(provider, "partner", "acme", &built.message_id, mdn::MdnDisposition::Processed);
//! params.mic = Some(inbound.mic.clone());
//! params.signer = Some(message::Signer::new(&cert, &key, cms::SignOptions::new(now)));
//! let receipt = mdn::build_mdn(&params)?;
//! let parsed = mdn::parse_mdn(&Headers::from_pairs(receipt.headers), &receipt.body, &trusted)?;
//! parsed.check(&built.message_id, Some(&built.mic), true)?;
//! # Ok(())
//! # }
//! ```
//!
//! Nothing a stranger sends costs more than [`message::InboundLimits`] allow: one
//! decompression budget for all the layers of a message, and [`mime::MimeLimits`] on
//! header lines, header bytes and parts; beyond them the error is [`Error::LimitExceeded`].
//!
//! Keys and certificates come in as values ([`keys`], [`cert`]): PEM (read leniently), DER,
//! PKCS#8 (encrypted too), PKCS#1 and PKCS#12. Partner input is parsed as BER: Java-based
//! products send CMS with indefinite lengths. The exact bytes of every MIME part are kept,
//! because signatures and MICs are computed over raw bytes, not over a re-serialisation.
//!
//! # RSA and timing
//!
//! RSA is done by the pure-Rust `rsa` 0.10 crate. Its private-key operations (signing and
//! key-transport decryption) run on `crypto-bigint` constant-time arithmetic with blinding,
//! and PKCS#1 v1.5 decryption uses implicit rejection: an invalid padding yields a
//! pseudo-random key instead of an early error, so neither timing nor the error reveals a
//! padding failure (the Marvin attack, RUSTSEC-2023-0071, that affects `rsa` 0.9). On top
//! of that, [`cms::decrypt`] follows RFC 3218: when unwrapping the content key fails it
//! continues with a random key, and every decryption failure is the same
//! [`Error::Decryption`]. The crate guarantees no more than `rsa` 0.10 does; public-key
//! operations (verification, encryption) handle public data and are not constant time.
//! `rsa` 0.10 is several times slower than OpenSSL or aws-lc-rs for private-key operations.
#![warn(missing_docs)]

// Modules: public where they group what an embedder uses together, private otherwise.
pub mod cem;
pub mod cert;
pub mod cms;
pub mod crypto;
mod error;
pub mod keys;
pub mod mdn;
pub mod message;
pub mod mime;
pub mod pem;
#[cfg(test)]
mod testutil;

// The public interface is:
pub use crate::crypto::CryptoProvider;
pub use crate::error::{Error, IntegrityError, Limit, Result};
pub use crate::mdn::{MdnDisposition, Modifier};

// Foreign crates whose types appear in the public interface, re-exported on purpose so an
// embedder names the same versions (listed in Cargo.toml,
// `[package.metadata.cargo_check_external_types]`, and checked by `tests/it/public_api.rs`):
// `bytes::Bytes` (payloads), `rsa::{PrivateKey, PublicKey}` (keys), `x509_cert::Certificate`
// (`cert::Certificate::x509`), `der` and `spki` (OIDs, algorithm identifiers, ASN.1 errors),
// `zeroize::Zeroizing` (unwrapped content keys) and the `cms` ASN.1 types
// (`cms::parse_content_info`), here as `cms_asn1` beside our own `cms` module.
pub use ::cms as cms_asn1;
pub use {bytes, der, rsa, spki, x509_cert, zeroize};
