//! Parsing an inbound AS2 message: decrypt, decompress and verify in whatever nesting the
//! sender chose, then compute the MIC to return (RFC 4130 §7.3.1, RFC 5402 §4).

use super::{DecoderEvent, Envelope, InboundDecoder, InboundLimits, Mic, UnsignedMic};
use crate::cert::Certificate;
use crate::cms::{DecryptionKey, VerifiedSignature};
use crate::crypto::{ContentEncryption, CryptoProvider};
use crate::error::Result;
use crate::mime::{ContentType, Entity, Headers, MimeLimits};
#[cfg(test)]
use crate::{cms, error::Error, mime::canonicalize_headers};

/// Our keys, the partner's certificates and the policy: [`InboundConfig::new`], then the
/// `with_*` setters.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct InboundConfig<'a> {
    /// Randomness (RSA blinding, the RFC 3218 substitute key).
    pub provider: &'a CryptoProvider,
    /// Our decryption keys (current and next).
    pub decryption_keys: &'a [DecryptionKey<'a>],
    /// The partner's signing certificates (current and next).
    pub trusted_signers: &'a [Certificate],
    /// Refuse unsigned messages.
    pub require_signature: bool,
    /// Refuse unencrypted messages.
    pub require_encryption: bool,
    /// What the message may cost before its signature is checked: the total bytes
    /// decompressed over all its layers, and the bounds of its MIME entities.
    pub limits: InboundLimits,
    /// Which digest the MIC of a signed message uses.
    pub mic_choice: MicChoice,
    /// What the MIC of a plain message (not signed, encrypted or compressed) covers.
    pub unsigned_mic: UnsignedMic,
}

/// How the MIC algorithm of a signed message is chosen (unsigned messages always use the
/// first requested algorithm we support). Implementations differ here (../AS2.md): the MDN
/// always names the algorithm it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MicChoice {
    /// The signature's digest when the partner's `signed-receipt-micalg` lists it, else the
    /// first listed algorithm we support.
    #[default]
    Negotiated,
    /// Always the signature's digest: what partners that compare the MIC value only, without
    /// its algorithm (pyas2lib, among others), can check.
    SignatureDigest,
}

impl<'a> InboundConfig<'a> {
    /// Decrypt with `decryption_keys`, trust signatures by `trusted_signers`; neither
    /// signature nor encryption required, the default [`InboundLimits`] and
    /// [`MicChoice`].
    #[must_use]
    pub fn new(
        provider: &'a CryptoProvider,
        decryption_keys: &'a [DecryptionKey<'a>],
        trusted_signers: &'a [Certificate],
    ) -> Self {
        Self {
            provider,
            decryption_keys,
            trusted_signers,
            require_signature: false,
            require_encryption: false,
            limits: InboundLimits::default(),
            mic_choice: MicChoice::Negotiated,
            unsigned_mic: UnsignedMic::ContentOnly,
        }
    }

    /// Refuse unsigned messages, or not.
    #[must_use]
    pub fn with_require_signature(mut self, require: bool) -> Self {
        self.require_signature = require;
        self
    }

    /// Refuse unencrypted messages, or not.
    #[must_use]
    pub fn with_require_encryption(mut self, require: bool) -> Self {
        self.require_encryption = require;
        self
    }

    /// Within `limits`.
    #[must_use]
    pub fn with_limits(mut self, limits: InboundLimits) -> Self {
        self.limits = limits;
        self
    }

    /// With `mic_choice`.
    #[must_use]
    pub fn with_mic_choice(mut self, mic_choice: MicChoice) -> Self {
        self.mic_choice = mic_choice;
        self
    }

    /// With `unsigned_mic`.
    #[must_use]
    pub fn with_unsigned_mic(mut self, unsigned_mic: UnsignedMic) -> Self {
        self.unsigned_mic = unsigned_mic;
        self
    }
}

/// A processed inbound message.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    /// AS2 envelope (names, Message-ID, MDN request).
    pub envelope: Envelope,
    /// The payload entity (headers and raw body).
    pub payload_entity: Entity,
    /// The payload with its transfer encoding removed: a view of the payload entity's
    /// buffer when that encoding is the identity (binary), so not a second copy. Reads as
    /// `&[u8]`; `Vec::from(payload)` for an owned `Vec<u8>` (no copy when nothing else
    /// shares the buffer).
    pub payload: bytes::Bytes,
    /// The content encryption used, if encrypted.
    pub encryption: Option<ContentEncryption>,
    /// The verified signature, if signed.
    pub signature: Option<VerifiedSignature>,
    /// Whether any layer was compressed.
    pub compressed: bool,
    /// The MIC to return in the MDN.
    pub mic: Mic,
}

impl InboundMessage {
    /// The payload's content type.
    #[must_use]
    pub fn content_type(&self) -> ContentType {
        self.payload_entity.content_type()
    }

    /// The payload's file name, if any (unsanitised: never use it as a path as-is).
    #[must_use]
    pub fn filename(&self) -> Option<String> {
        self.payload_entity.filename()
    }

    /// The payload's file name made safe for use on disk (see [`crate::mime::sanitize_filename`]).
    #[must_use]
    pub fn safe_filename(&self) -> Option<String> {
        self.filename()
            .and_then(|f| crate::mime::sanitize_filename(&f))
    }
}

/// Process an inbound message from its HTTP headers and body: the streaming
/// [`InboundDecoder`] fed the whole body at once (one code path), without its 64 KiB
/// window (the whole body is held anyway), so that its payload queue ends up holding the
/// whole payload, which is taken over instead of gathered.
///
/// The MIC: signed → over the signed entity's bytes as verified, with the algorithm
/// chosen from the request (the signature's digest when requested); compressed and
/// unsigned → over the uncompressed entity as received; encrypted only → over the
/// decrypted entity, canonical; plain → over the body alone.
///
/// Nothing a sender controls costs more than `cfg.limits` allow: every CompressedData layer
/// inflates from one shared budget, and every MIME entity is parsed within the MIME limits
/// (`max_buffered` does not apply: the whole body is held anyway).
///
/// # Errors
/// Any [`Error`]; `MdnDisposition::from(&error)` is what the MDN reports. Address an error MDN
/// with [`Envelope::from_headers`].
pub fn parse_inbound(
    headers: &Headers,
    body: &[u8],
    cfg: &InboundConfig<'_>,
) -> Result<InboundMessage> {
    let mut decoder = InboundDecoder::whole(headers, cfg)?;
    // the whole decoder's one push takes the whole body
    let taken = decoder.push(body)?;
    debug_assert_eq!(taken, body.len());
    decoder.end_input();
    while let Some(event) = decoder.next_event()? {
        if let DecoderEvent::PayloadHeaders(_) = event {
            break;
        }
    }
    let payload = decoder.take_payload()?;
    let parts = std::mem::take(decoder.payload_raw());
    let verdict = decoder.finish()?;
    let limits = &cfg.limits.mime;
    let headers = verdict.payload_headers.clone();
    let (buf, start) = payload.into_parts();
    let (entity, payload) = if parts.identity {
        let entity = identity_entity(buf, start, parts.head, headers, limits);
        let payload = entity.body_shared();
        (entity, payload)
    } else {
        let mut raw = parts.head;
        let body_start = raw.len();
        raw.extend_from_slice(&parts.body);
        let entity = Entity::from_head_and_body(raw, body_start, headers, limits);
        (entity, bytes::Bytes::from(buf).slice(start..))
    };
    Ok(InboundMessage {
        envelope: verdict.envelope,
        payload_entity: entity,
        payload,
        encryption: verdict.encryption,
        signature: verdict.signature,
        compressed: verdict.compressed,
        mic: verdict.mic,
    })
}

/// The payload entity of an identity-encoded payload whose bytes are `buf[start..]`: a
/// view of that buffer when the entity's raw header block is still right before them
/// (the stages handed the decrypted buffer on, only consuming the header block), else the
/// header block and the payload copied into a buffer of their own.
fn identity_entity(
    buf: Vec<u8>,
    start: usize,
    head: Vec<u8>,
    headers: Headers,
    limits: &MimeLimits,
) -> Entity {
    let head_start = start
        .checked_sub(head.len())
        .filter(|h| buf[*h..start] == head[..]);
    if let Some(head_start) = head_start {
        let end = buf.len();
        let buf = bytes::Bytes::from(buf);
        return Entity::from_shared(buf, head_start..end, start, headers, limits);
    }
    let body_start = head.len();
    let mut raw = head;
    raw.extend_from_slice(&buf[start..]);
    Entity::from_head_and_body(raw, body_start, headers, limits)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
#[path = "inbound_tests.rs"]
mod tests;

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
#[path = "inbound_limits_tests.rs"]
mod limits_tests;
