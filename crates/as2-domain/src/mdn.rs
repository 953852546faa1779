//! Receipts (MDNs) as recorded on a message: disposition, MIC and signature outcome.

use chrono::{DateTime, Utc};

use crate::id::MessageId;

/// What an MDN said and what we found when we checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdnRecord {
    /// The message the MDN answers.
    pub message_id: MessageId,
    /// The disposition line, e.g. `automatic-action/MDN-sent-automatically; processed`.
    pub disposition: String,
    /// Whether the disposition is `processed` without an error modifier.
    pub positive: bool,
    /// `Received-Content-MIC` as given (`base64, sha-256`).
    pub mic: Option<String>,
    /// Whether the MIC matched the one we computed (`None`: nothing to compare).
    pub mic_matched: Option<bool>,
    /// Whether the MDN was signed.
    pub signed: bool,
    /// Whether its signature verified.
    pub verified: bool,
    /// `Original-Message-ID` as given.
    pub original_message_id: Option<String>,
    /// The raw MDN in the payload store.
    pub raw_key: Option<String>,
    /// When it was received or sent.
    pub created_at: DateTime<Utc>,
}
