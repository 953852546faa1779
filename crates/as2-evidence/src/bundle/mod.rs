//! Evidence of delivery for one AS2 message (issue 15): a zip an auditor can check without
//! our software. It holds the signed MDN exactly as received or sent (`mdn.eml`), the
//! certificate its signature verifies under (`signer-chain.pem`), the message's timeline
//! (`timeline.json`), a manifest naming the message, the MICs and the SHA-256 of each of
//! those files (`manifest.json`), an RFC 3161 TimeStampResp over the SHA-256 of the manifest
//! (`timestamp.tsr`) and the time-stamping authority's certificate (`tsa-chain.pem`).
//!
//! [`Files`] is the bundle in memory, [`Files::to_zip`] and [`Files::from_zip`] its container
//! (deflate, fixed file times, so the same files give the same bytes), [`verify`] the offline
//! checks. Sans-IO like the rest of the crate: bytes in, bytes out.

mod check;
mod manifest;
mod zip_io;

pub use check::{Check, Report, mdn_parts, verify};
pub use manifest::{Manifest, ManifestMdn, ManifestMessage, ManifestMic, ManifestSigner, digests};

/// `manifest.json`.
pub const MANIFEST: &str = "manifest.json";
/// `mdn.eml`: the MDN's headers, a blank line and its body, byte for byte.
pub const MDN: &str = "mdn.eml";
/// `signer-chain.pem`.
pub const SIGNER_CHAIN: &str = "signer-chain.pem";
/// `timeline.json`.
pub const TIMELINE: &str = "timeline.json";
/// `timestamp.tsr`.
pub const TIMESTAMP: &str = "timestamp.tsr";
/// `tsa-chain.pem`.
pub const TSA_CHAIN: &str = "tsa-chain.pem";
/// The `format` of the manifests written here.
pub const FORMAT: &str = "as2-evidence/1";

/// The files of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// `manifest.json`.
    pub manifest: Vec<u8>,
    /// `mdn.eml`.
    pub mdn: Vec<u8>,
    /// `signer-chain.pem`.
    pub signer_chain: Vec<u8>,
    /// `timeline.json`.
    pub timeline: Vec<u8>,
    /// `timestamp.tsr`.
    pub timestamp: Vec<u8>,
    /// `tsa-chain.pem`.
    pub tsa_chain: Vec<u8>,
}

/// Why a bundle could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not a zip, or a damaged one.
    #[error("not a readable zip: {0}")]
    Zip(String),
    /// A file the bundle must hold is absent.
    #[error("the bundle has no {0}")]
    Missing(&'static str),
    /// A file is larger than a bundle's file may be.
    #[error("{0} is larger than {max} bytes", max = zip_io::MAX_FILE_BYTES)]
    TooLarge(String),
}

/// A granted TimeStampResp carrying `token` (what `openssl ts -verify -in` reads without
/// `-token_in`).
#[must_use]
pub fn response_with_token(token: &[u8]) -> Vec<u8> {
    crate::authority::granted_response(token)
}
