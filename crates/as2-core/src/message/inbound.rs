//! Parsing an inbound AS2 message: decrypt, decompress and verify in whatever nesting the
//! sender chose, then compute the MIC to return (RFC 4130 §7.3.1, RFC 5402 §4).

use super::{Envelope, InboundLimits, Mic};
use crate::cert::Certificate;
use crate::cms::{self, DecompressionBudget, DecryptionKey, VerifiedSignature};
use crate::crypto::{ContentEncryption, CryptoProvider, oids};
use crate::error::{Error, Result};
use crate::mime::encoding::decode_cow;
use crate::mime::{ContentType, Entity, Headers, canonicalize_crlf, canonicalize_headers};

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

enum Layer {
    Enveloped,
    Compressed,
    Signed,
    Payload,
}

fn classify(entity: &Entity) -> Result<Layer> {
    classify_parts(entity.headers(), entity.body())
}

/// [`classify`] on headers and a (transfer-encoded) body.
fn classify_parts(headers: &Headers, body: &[u8]) -> Result<Layer> {
    let ct = headers.content_type();
    if ct.is("multipart/signed") {
        return Ok(Layer::Signed);
    }
    if !ct.is_pkcs7_mime() {
        return Ok(Layer::Payload);
    }
    let smime = ct.param("smime-type").map(str::to_ascii_lowercase);
    match smime.as_deref() {
        Some("enveloped-data" | "authenveloped-data") => Ok(Layer::Enveloped),
        Some("compressed-data") => Ok(Layer::Compressed),
        _ => {
            let body = decode_cow(headers.get("content-transfer-encoding"), body)?;
            let oid = cms::content_type_of(&body)?;
            if oid == oids::ENVELOPED_DATA || oid == oids::AUTH_ENVELOPED_DATA {
                Ok(Layer::Enveloped)
            } else if oid == oids::COMPRESSED_DATA {
                Ok(Layer::Compressed)
            } else {
                Err(Error::UnsupportedFormat(format!(
                    "application/pkcs7-mime with content type {oid}"
                )))
            }
        }
    }
}

/// The bytes the MIC of a signed message is computed over.
enum SignedSource {
    /// The signed entity's exact bytes.
    Raw(Entity),
    /// A canonical form of them, which verified where the exact bytes did not.
    Canonical(Vec<u8>),
}

/// Process an inbound message from its HTTP headers and body.
///
/// The MIC: signed → over the signed entity's bytes as verified, with the algorithm
/// chosen from the request (the signature's digest when requested); compressed and
/// unsigned → over the uncompressed entity as received; encrypted only → over the
/// decrypted entity, canonical; plain → over the body alone.
///
/// Nothing a sender controls costs more than `cfg.limits` allow: every CompressedData layer
/// inflates from one shared budget, and every MIME entity is parsed within the MIME limits.
///
/// # Errors
/// Any [`Error`]; `MdnDisposition::from(&error)` is what the MDN reports. Address an error MDN
/// with [`Envelope::from_headers`].
pub fn parse_inbound(
    headers: &Headers,
    body: &[u8],
    cfg: &InboundConfig<'_>,
) -> Result<InboundMessage> {
    let envelope = Envelope::from_headers(headers)?;
    let mime_limits = &cfg.limits.mime;
    let mut inflate_budget = DecompressionBudget::new(cfg.limits.max_decompressed_total);
    let mut encryption = None;
    let mut signature: Option<VerifiedSignature> = None;
    let mut signed_source: Option<SignedSource> = None;
    let mut compressed = false;
    // The entity whose bytes are the MIC of an unsigned message, and whether its header
    // block is to be canonicalised (decrypted) or not (decompressed). Computed at the end,
    // and only when no signature was found.
    let mut unsigned_mic_source: Option<(Entity, bool)> = None;
    // An encrypted message (the common case) is decrypted straight from the HTTP body,
    // without first copying it into an entity.
    let outer = classify_parts(headers, body)?;
    // Encryption is the outer layer of every standard nesting (RFC 4130 §2.4.2): an
    // unencrypted compressed or plain message is refused before anything is inflated.
    if cfg.require_encryption && matches!(outer, Layer::Compressed | Layer::Payload) {
        return Err(Error::InsufficientSecurity(
            "message is not encrypted".into(),
        ));
    }
    let mut entity = if matches!(outer, Layer::Enveloped) {
        let data = decode_cow(headers.get("content-transfer-encoding"), body)?;
        let d = cms::decrypt(cfg.provider, &data, cfg.decryption_keys)?;
        encryption = Some(d.algorithm);
        let e = Entity::parse_or_body_vec(d.content, mime_limits);
        unsigned_mic_source = Some((e.clone(), true));
        e
    } else {
        Entity::from_parts(headers.clone(), body).with_limits(mime_limits)
    };
    // at most 8 layers, the decryption above included
    let rounds = if encryption.is_some() { 7 } else { 8 };
    for _ in 0..rounds {
        match classify(&entity)? {
            Layer::Payload => break,
            Layer::Enveloped => {
                if encryption.is_some() {
                    return Err(Error::UnsupportedFormat("nested encryption".into()));
                }
                let d = cms::decrypt(
                    cfg.provider,
                    &entity.decoded_body_cow()?,
                    cfg.decryption_keys,
                )?;
                encryption = Some(d.algorithm);
                entity = Entity::parse_or_body_vec(d.content, mime_limits);
                if unsigned_mic_source.is_none() && signature.is_none() {
                    unsigned_mic_source = Some((entity.clone(), true));
                }
            }
            Layer::Compressed => {
                let data = entity.decoded_body_cow()?;
                let inflated = cms::decompress_within(&data, &mut inflate_budget)?;
                compressed = true;
                entity = Entity::parse_or_body_vec(inflated, mime_limits);
                if signature.is_none() {
                    unsigned_mic_source = Some((entity.clone(), false));
                }
            }
            Layer::Signed => {
                if signature.is_some() {
                    return Err(Error::UnsupportedFormat("nested signatures".into()));
                }
                let (signed, sig_part) = entity.split_signed()?;
                let sig = sig_part.decoded_body_cow()?;
                let raw = signed.raw();
                // The exact bytes first: the common case needs no canonical copies.
                let (v, source) = match cms::verify_detached(&sig, &[raw], cfg.trusted_signers) {
                    Ok(v) => (v, SignedSource::Raw(signed.clone())),
                    Err(_) => {
                        let mut candidates = vec![raw.to_vec()];
                        for c in [canonicalize_headers(raw), canonicalize_crlf(raw)] {
                            if !candidates.contains(&c) {
                                candidates.push(c);
                            }
                        }
                        let refs: Vec<&[u8]> = candidates.iter().map(Vec::as_slice).collect();
                        let v = cms::verify_detached(&sig, &refs, cfg.trusted_signers)?;
                        let index = v.content_index;
                        let bytes = candidates.swap_remove(index);
                        let source = if index == 0 {
                            SignedSource::Raw(signed.clone())
                        } else {
                            SignedSource::Canonical(bytes)
                        };
                        (v, source)
                    }
                };
                signed_source = Some(source);
                signature = Some(v);
                entity = signed;
            }
        }
    }
    if cfg.require_signature && signature.is_none() {
        return Err(Error::InsufficientSecurity("message is not signed".into()));
    }
    if cfg.require_encryption && encryption.is_none() {
        return Err(Error::InsufficientSecurity(
            "message is not encrypted".into(),
        ));
    }
    let signature_digest = signature
        .as_ref()
        .map(|s| s.digest)
        .filter(|_| cfg.mic_choice == MicChoice::SignatureDigest);
    let mic_alg = if let Some(digest) = signature_digest {
        Ok(digest)
    } else {
        envelope.mdn.as_ref().map_or_else(
            || {
                Ok(signature
                    .as_ref()
                    .map_or(crate::crypto::DigestAlgorithm::Sha256, |s| s.digest))
            },
            |m| m.options.choose_mic(signature.as_ref().map(|s| s.digest)),
        )
    }?;
    let mic_alg = if mic_alg.can_sign() {
        mic_alg
    } else {
        crate::crypto::DigestAlgorithm::Sha256
    };
    let mic = match (&signed_source, &signature, &unsigned_mic_source) {
        // the signature's messageDigest is the digest of exactly the signed bytes
        (Some(_), Some(v), _) if v.digest == mic_alg && v.content_digest.is_some() => Mic {
            algorithm: mic_alg,
            value: v.content_digest.clone().unwrap_or_default(),
        },
        (Some(SignedSource::Raw(e)), _, _) => Mic::compute(mic_alg, e.raw()),
        (Some(SignedSource::Canonical(b)), _, _) => Mic::compute(mic_alg, b),
        (None, _, Some((e, canonical))) => {
            if *canonical && !e.headers().is_empty() {
                // canonicalise the header block only; the body is hashed as it is
                let head = canonicalize_headers(e.raw_headers());
                Mic {
                    algorithm: mic_alg,
                    value: mic_alg.digest_parts(&[&head, e.body()]),
                }
            } else {
                Mic::compute(mic_alg, e.raw())
            }
        }
        (None, _, None) => Mic::compute(mic_alg, body),
    };
    let payload = entity.decoded_body_shared()?;
    Ok(InboundMessage {
        envelope,
        payload_entity: entity,
        payload,
        encryption,
        signature,
        compressed,
        mic,
    })
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
