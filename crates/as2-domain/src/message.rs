//! Messages: direction, the status machine, and the error a person can act on.

use chrono::{DateTime, Utc};

use crate::algorithms::MdnMode;
use crate::id::{MessageId, PartnerId, StationId, TenantId};
use crate::mode::Mode;
use crate::named_enum;

named_enum!(
    /// Which way a message travels.
    Direction, "direction" {
        /// From a partner to us.
        Inbound => "inbound",
        /// From us to a partner.
        Outbound => "outbound",
    }
);

named_enum!(
    /// Where a message is in its life.
    ///
    /// Outbound: `queued → processing → sent → delivered | failed` (`sent`: out, an async MDN
    /// is awaited); a transport failure goes back to `queued` for a retry, and the API's
    /// retry endpoint re-queues a `failed` one. Inbound: `received` or `failed`.
    MessageStatus, "status" {
        /// Waiting for a worker.
        Queued => "queued",
        /// A worker is building or posting it.
        Processing => "processing",
        /// Posted; the async MDN is awaited.
        Sent => "sent",
        /// A positive MDN came back (or none was asked and the POST succeeded).
        Delivered => "delivered",
        /// Final failure, with a reason.
        Failed => "failed",
        /// Inbound message processed and stored.
        Received => "received",
    }
);

/// A status change that the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an {direction} message cannot go from {from} to {to}")]
pub struct InvalidTransition {
    /// The message's direction.
    pub direction: Direction,
    /// Current status.
    pub from: MessageStatus,
    /// Requested status.
    pub to: MessageStatus,
}

impl MessageStatus {
    /// The status a new message of `direction` starts in (inbound failures start `Failed`).
    pub fn initial(direction: Direction) -> Self {
        match direction {
            Direction::Outbound => Self::Queued,
            Direction::Inbound => Self::Received,
        }
    }

    /// Whether nothing more will happen without an operator.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Failed | Self::Received)
    }

    /// Checks a transition for a message of `direction`.
    pub fn transition(self, direction: Direction, to: Self) -> Result<Self, InvalidTransition> {
        use MessageStatus::{Delivered, Failed, Processing, Queued, Received, Sent};
        let allowed = match direction {
            Direction::Outbound => matches!(
                (self, to),
                (Queued, Processing | Failed)
                    | (Processing, Queued | Sent | Delivered | Failed)
                    | (Sent, Delivered | Failed)
                    | (Failed, Queued)
            ),
            Direction::Inbound => matches!((self, to), (Failed, Received) | (Received, Failed)),
        };
        if allowed {
            Ok(to)
        } else {
            Err(InvalidTransition {
                direction,
                from: self,
                to,
            })
        }
    }
}

named_enum!(
    /// Why a message failed: one kind per thing an operator does differently.
    ErrorKind, "error type" {
        /// The partner could not be reached or answered with an HTTP error.
        Transport => "transport_error",
        /// The partner answered with a negative MDN.
        NegativeMdn => "negative_mdn",
        /// The MDN's signature did not verify.
        MdnSignature => "mdn_signature_invalid",
        /// The MIC in the MDN does not match what we sent.
        MicMismatch => "mic_mismatch",
        /// The async MDN did not arrive in time.
        MdnTimeout => "mdn_timeout",
        /// The partner or station is missing a certificate or setting.
        Configuration => "configuration_error",
        /// Inbound: we could not decrypt.
        DecryptionFailed => "decryption_failed",
        /// Inbound: the signature did not verify.
        AuthenticationFailed => "authentication_failed",
        /// Inbound: the content does not match its digest.
        IntegrityCheckFailed => "integrity_check_failed",
        /// Inbound: the message was not signed or encrypted as the partner's settings require.
        InsufficientSecurity => "insufficient_message_security",
        /// Inbound: the message is malformed.
        MalformedMessage => "malformed_message",
        /// Anything else.
        Unexpected => "unexpected_processing_error",
        /// Outbound: cancelled through the API while it was still queued.
        Cancelled => "cancelled",
    }
);

/// A failure as shown on a message: its kind and a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What happened and what to do.
    pub sentence: String,
}

/// Where a message's payload is: an object of the payload store, or (small payloads, at most
/// `AS2_INLINE_PAYLOAD_BYTES`) the bytes themselves, kept in the message's row.
#[derive(Clone, PartialEq, Eq)]
pub enum PayloadRef {
    /// The payload store's key (`messages.payload_key`).
    Object(String),
    /// The payload itself (`messages.payload_inline`).
    Inline(Vec<u8>),
}

impl PayloadRef {
    /// The payload store's key, when the payload is an object of the store.
    pub fn object_key(&self) -> Option<&str> {
        match self {
            Self::Object(key) => Some(key),
            Self::Inline(_) => None,
        }
    }

    /// The bytes, when the payload is kept inline.
    pub fn inline_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Object(_) => None,
            Self::Inline(bytes) => Some(bytes),
        }
    }
}

impl std::fmt::Debug for PayloadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Object(key) => f.debug_tuple("Object").field(key).finish(),
            Self::Inline(bytes) => write!(f, "Inline({} bytes)", bytes.len()),
        }
    }
}

/// A stored message (its payload in the payload store or in its row: [`PayloadRef`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `msg_…`.
    pub id: MessageId,
    /// Owner.
    pub tenant_id: TenantId,
    /// Test or live.
    pub mode: Mode,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The partner on the other side.
    pub partner_id: PartnerId,
    /// Our station.
    pub station_id: StationId,
    /// The AS2 `Message-ID`, with its angle brackets.
    pub as2_message_id: String,
    /// Subject header.
    pub subject: Option<String>,
    /// File name of the payload.
    pub filename: Option<String>,
    /// MIME type of the payload.
    pub content_type: String,
    /// Payload size.
    pub bytes: i64,
    /// Payload SHA-256, hex.
    pub sha256: String,
    /// Where the payload is (none for a message that failed on arrival).
    pub payload: Option<PayloadRef>,
    /// Receipt mode asked for.
    pub mdn_mode: MdnMode,
    /// Current status.
    pub status: MessageStatus,
    /// Transmission attempts so far.
    pub attempts: i32,
    /// The failure, when failed (or the last transport error while retrying).
    pub error: Option<MessageError>,
    /// The MIC we expect back (outbound) or computed (inbound), `base64, algorithm`.
    pub mic: Option<String>,
    /// Where an outbound message goes when not to its partner's AS2 URL (a certificate
    /// exchange response goes to the request's `ResponseURL`).
    pub destination_url: Option<String>,
    /// The message this one is a resend of (sent again as a new message), if any.
    pub resent_from: Option<MessageId>,
    /// When retention deleted the payload (and raw MDN); the row stays until its own time.
    pub payload_purged_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Makes an AS2 `Message-ID` (`<uuid@host>`): unique, with angle brackets as on the wire.
pub fn new_as2_message_id(host: &str, unique: &str) -> String {
    format!("<{unique}@{host}>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::*;

    #[test]
    fn outbound_path_and_retries() {
        let d = Direction::Outbound;
        assert_eq!(MessageStatus::initial(d), Queued);
        assert_eq!(Queued.transition(d, Processing), Ok(Processing));
        assert_eq!(Processing.transition(d, Sent), Ok(Sent));
        assert_eq!(Sent.transition(d, Delivered), Ok(Delivered));
        assert_eq!(Processing.transition(d, Queued), Ok(Queued));
        assert_eq!(Failed.transition(d, Queued), Ok(Queued));
    }

    #[test]
    fn forbidden_transitions_are_refused() {
        let d = Direction::Outbound;
        for (from, to) in [
            (Delivered, Queued),
            (Queued, Delivered),
            (Sent, Queued),
            (Queued, Received),
        ] {
            assert!(from.transition(d, to).is_err(), "{from} -> {to}");
        }
        assert!(Received.transition(Direction::Inbound, Queued).is_err());
        let err = Delivered.transition(d, Failed).unwrap_err();
        assert_eq!(
            err.to_string(),
            "an outbound message cannot go from delivered to failed"
        );
    }
}
