//! The verdict after the last byte: the detached signature verified against the digests
//! taken as the signed entity passed, the policy applied, and the MIC chosen and taken
//! as the whole-buffer parser does (RFC 4130 §7.3.1).

use super::stage::Ctx;
use super::{Envelope, mic_algorithm};
use crate::cms::{self, VerifiedSignature};
use crate::crypto::ContentEncryption;
use crate::error::{Error, IntegrityError, Result};
use crate::message::Mic;
use crate::mime::Headers;

/// Everything known of an inbound message once its last byte was decoded: all of
/// [`crate::message::InboundMessage`] but the payload, which was handed out in chunks.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InboundVerdict {
    /// AS2 envelope (names, Message-ID, MDN request).
    pub envelope: Envelope,
    /// The payload entity's headers (empty for a bare payload).
    pub payload_headers: Headers,
    /// The content encryption used, if encrypted.
    pub encryption: Option<ContentEncryption>,
    /// The verified signature, if signed.
    pub signature: Option<VerifiedSignature>,
    /// Whether any layer was compressed.
    pub compressed: bool,
    /// The MIC to return in the MDN.
    pub mic: Mic,
}

impl InboundVerdict {
    /// The payload's file name, if any (unsanitised: never use it as a path as-is).
    #[must_use]
    pub fn filename(&self) -> Option<String> {
        crate::mime::filename_of(&self.payload_headers)
    }

    /// The payload's file name made safe for use on disk (see [`crate::mime::sanitize_filename`]).
    #[must_use]
    pub fn safe_filename(&self) -> Option<String> {
        self.filename()
            .and_then(|f| crate::mime::sanitize_filename(&f))
    }

    /// The payload's content type (`text/plain` when its headers name none, RFC 2045).
    #[must_use]
    pub fn content_type(&self) -> crate::mime::ContentType {
        self.payload_headers.content_type()
    }
}

fn missing(what: &str) -> Error {
    Error::Mime(format!("incomplete message: no {what}"))
}

pub(super) fn verdict(cx: Ctx<'_>) -> Result<InboundVerdict> {
    let cfg = cx.cfg;
    let signature = if cx.signed {
        let sig = cx
            .signature
            .as_deref()
            .ok_or_else(|| missing("signature"))?;
        let digests = cx
            .signed_digests
            .as_deref()
            .ok_or_else(|| missing("signed entity"))?;
        Some(cms::verify_detached_digests(
            cfg.provider,
            sig,
            digests,
            cfg.trusted_signers,
        )?)
    } else {
        None
    };
    if cfg.require_signature && signature.is_none() {
        return Err(Error::InsufficientSecurity("message is not signed".into()));
    }
    if cfg.require_encryption && cx.encryption.is_none() {
        return Err(Error::InsufficientSecurity(
            "message is not encrypted".into(),
        ));
    }
    let mic_alg = mic_algorithm(&cfg, &cx.envelope, signature.as_ref().map(|s| s.digest))?;
    let value = match &signature {
        // the signature's messageDigest is the digest of exactly the signed bytes
        Some(v) if v.digest == mic_alg && v.content_digest.is_some() => {
            v.content_digest.clone().unwrap_or_default()
        }
        Some(v) => cx
            .signed_digests
            .as_deref()
            .and_then(|d| d.iter().find(|(a, _)| *a == mic_alg))
            .and_then(|(_, values)| values.get(v.content_index))
            .cloned()
            .ok_or(Error::Integrity(IntegrityError::ContentDigestMismatch))?,
        None if cx.unsigned_slot != 0 => cx.unsigned_digest.ok_or_else(|| missing("MIC"))?,
        None => cx.plain_digest.ok_or_else(|| missing("body"))?,
    };
    Ok(InboundVerdict {
        envelope: cx.envelope,
        payload_headers: cx.payload_headers.unwrap_or_default(),
        encryption: cx.encryption,
        signature,
        compressed: cx.compressed,
        mic: Mic {
            algorithm: mic_alg,
            value,
        },
    })
}
