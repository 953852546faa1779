//! `manifest.json`: what the bundle is evidence of (the message, its MDN, the MICs, the
//! signer) and the SHA-256 of every other file but the time-stamp, which covers the
//! manifest itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MDN, SIGNER_CHAIN, TIMELINE};

/// The manifest of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `as2-evidence/1`.
    pub format: String,
    /// The message.
    pub message: ManifestMessage,
    /// Its MDN.
    pub mdn: ManifestMdn,
    /// The MIC we computed and the one the MDN returned.
    pub mic: ManifestMic,
    /// The certificate the MDN's signature verified under when the bundle was made.
    pub signer: ManifestSigner,
    /// The SHA-256 (lowercase hex) of `mdn.eml`, `signer-chain.pem` and `timeline.json`.
    pub files: BTreeMap<String, String>,
    /// When the bundle was made (RFC 3339, UTC).
    pub made_at: String,
}

/// The message a bundle is evidence of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMessage {
    /// `msg_…`.
    pub id: String,
    /// The AS2 `Message-ID`, with its angle brackets.
    pub as2_message_id: String,
    /// `outbound` (the partner's MDN, received) or `inbound` (our MDN, sent).
    pub direction: String,
    /// The partner's AS2 ID.
    pub partner_as2_id: String,
    /// Our station's AS2 ID.
    pub station_as2_id: String,
    /// `sync` or `async`.
    pub mdn_mode: String,
    /// The payload's SHA-256 (hex).
    pub payload_sha256: String,
    /// The payload's size in bytes.
    pub payload_bytes: i64,
}

/// The MDN, as recorded when it was received or sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMdn {
    /// `received` (the partner's) or `sent` (ours).
    pub direction: String,
    /// Its `Original-Message-ID`.
    pub original_message_id: String,
    /// Its disposition line.
    pub disposition: String,
    /// When it was received or sent (RFC 3339, UTC).
    pub recorded_at: String,
}

/// The MICs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMic {
    /// The MIC we computed over the message (`base64, algorithm`).
    pub computed: Option<String>,
    /// The MDN's `Received-Content-MIC`.
    pub returned: Option<String>,
    /// The algorithm (`sha-256`, ...).
    pub algorithm: Option<String>,
    /// Whether they match.
    pub matched: bool,
}

/// The MDN's signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSigner {
    /// Subject (RFC 4514).
    pub subject: String,
    /// Issuer (RFC 4514).
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// SHA-256 of the certificate's DER, hex.
    pub sha256: String,
}

/// The `files` of a manifest over these three files.
#[must_use]
pub fn digests(mdn: &[u8], signer_chain: &[u8], timeline: &[u8]) -> BTreeMap<String, String> {
    [
        (MDN, mdn),
        (SIGNER_CHAIN, signer_chain),
        (TIMELINE, timeline),
    ]
    .into_iter()
    .map(|(name, bytes)| (name.to_owned(), hex(&crate::sha256(bytes))))
    .collect()
}

/// Lowercase hex.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Manifest {
    /// The manifest as written into a bundle (pretty JSON, keys in a fixed order).
    ///
    /// # Errors
    /// Serialisation failed (it does not for these types).
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
