//! The streaming, sans-IO outbound encoder: an AS2 message built from a payload pushed in
//! pieces, its body handed back in pieces, in the shape of rustls's `Connection` (the
//! caller pushes bytes in and takes bytes out; no IO, no async, no clock).
//!
//! The layers, from the inside out: the payload entity (binary transfer encoding), then
//! compression (before or after signing), multipart/signed (the signed entity hashed as it
//! passes, the detached SignedData written at the end), and encryption (EnvelopedData with
//! CBC, the padded block at the end; AuthEnvelopedData with GCM, the tag at the end). Each
//! layer holds at most a block of its input between calls (the encoder works through the
//! input [`CHUNK_LEN`] bytes at a time), so memory does not grow with the payload —
//! except when signing without signed attributes, where the key needs the whole entity.
//!
//! With a known payload length and no compression, every length is known up front (an
//! RSA signature is as long as the modulus; the CBC ciphertext is the padded length), the
//! body is DER and [`OutboundEncoder::content_length`] says how long it will be. With
//! compression it is `None`: the CompressedData, and the layers around it, use BER
//! indefinite lengths, and a caller that needs `Content-Length` spools the body first.
//!
//! ```
//! use as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
//! use as2_core::message::{OutboundEncoder, OutboundMessage};
//!
//! let payload = b"ISA*00*...~\r\n".repeat(1000);
//! // `message.payload` is not read by the encoder: the payload is pushed
//! let message = OutboundMessage::new(&DEFAULT_PROVIDER, "US", "PARTNER", &[], "application/edi-x12");
//! let mut encoder = OutboundEncoder::new(&message, Some(payload.len() as u64))?;
//! let declared = encoder.content_length();
//! let mut body = Vec::new();
//! for piece in payload.chunks(4096) {
//!     encoder.push(piece, &mut body)?; // send `body` on, then clear it
//! }
//! let tail = encoder.finish(&mut body)?;
//! assert_eq!(declared, Some(body.len() as u64));
//! assert!(tail.message_id.ends_with("@as2>"));
//! # Ok::<(), as2_core::Error>(())
//! ```

mod compress;
mod sign;

use self::compress::CompressLayer;
use self::sign::SignLayer;
use super::outbound::{Compression, OutboundMessage};
use super::unsigned_mic::{UnsignedMic, entity_head};
use super::{AS2_VERSION, Mic, format_as2_name, generate_message_id};
use crate::cms::EnvelopeWriter;
use crate::crypto::{CryptoProvider, DigestAlgorithm, Hasher};
use crate::error::{Error, Result};
use crate::mime::{EntityBuilder, Headers, quote};

/// The most payload bytes taken through the layers at once, however much is pushed.
pub const CHUNK_LEN: usize = 64 * 1024;

/// What the encoder holds at most, [`OutboundEncoder::buffered_len`], whatever the payload
/// size (signing without signed attributes aside).
pub const BUFFER_BUDGET: usize = 1024 * 1024;

/// What [`OutboundEncoder::finish`] gives besides the last bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuiltTail {
    /// The Message-ID.
    pub message_id: String,
    /// The MIC the MDN must return (RFC 4130 §7.3.1 / RFC 5402).
    pub mic: Mic,
}

/// One layer around the payload entity.
#[derive(Debug)]
enum Layer<'a> {
    Compress(CompressLayer),
    Sign(Box<SignLayer<'a>>),
    Encrypt(Box<EnvelopeWriter>),
}

/// A layer and the buffer its output passes through on the way to the next one.
#[derive(Debug)]
struct Stage<'a> {
    layer: Layer<'a>,
    scratch: Vec<u8>,
}

impl Stage<'_> {
    fn write(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        match &mut self.layer {
            Layer::Compress(c) => c.write(data, out),
            Layer::Encrypt(e) => e.write(data, out),
            Layer::Sign(s) => {
                s.observe(data);
                out.extend_from_slice(data);
                Ok(())
            }
        }
    }

    fn buffered_len(&self) -> usize {
        self.scratch.capacity()
            + match &self.layer {
                Layer::Compress(c) => c.buffered_len(),
                Layer::Encrypt(e) => e.buffered_len(),
                Layer::Sign(s) => s.buffered_len(),
            }
    }
}

/// Write `data` through `stages` (innermost first) onto `out`.
fn pass(stages: &mut [Stage<'_>], data: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let Some((stage, outer)) = stages.split_first_mut() else {
        out.extend_from_slice(data);
        return Ok(());
    };
    if let Layer::Sign(s) = &mut stage.layer {
        // the signed entity goes on unchanged
        s.observe(data);
        return pass(outer, data, out);
    }
    if outer.is_empty() {
        return stage.write(data, out);
    }
    let mut scratch = std::mem::take(&mut stage.scratch);
    scratch.clear();
    let written = stage
        .write(data, &mut scratch)
        .and_then(|()| pass(outer, &scratch, out));
    stage.scratch = scratch;
    written
}

/// How the MIC is computed.
#[derive(Debug)]
enum MicState {
    /// By the signing layer: the signed entity's digest.
    Signed,
    /// Unsigned: over the payload entity (its headers included when compressed or
    /// encrypted) or the payload alone.
    Unsigned(DigestAlgorithm, Box<Hasher>),
}

/// An outbound AS2 message being encoded: [`Self::new`], [`Self::headers`] and
/// [`Self::content_length`] for the request, then [`Self::push`] the payload and
/// [`Self::finish`], sending the body bytes each call appends. See the module docs.
#[derive(Debug)]
pub struct OutboundEncoder<'a> {
    provider: &'a CryptoProvider,
    headers: Vec<(String, String)>,
    message_id: String,
    content_length: Option<u64>,
    payload_len: Option<u64>,
    pushed: u64,
    /// The payload entity's header block, written before the payload when it is wrapped.
    payload_head: Vec<u8>,
    /// The layers, innermost first.
    stages: Vec<Stage<'a>>,
    mic: MicState,
    started: bool,
}

impl<'a> OutboundEncoder<'a> {
    /// An encoder for `message` (whose `payload` field is not read: the payload is pushed),
    /// with `payload_len` bytes of payload when known. The Message-ID, boundary and
    /// content-encryption key are drawn from `message.provider` here; the signature at
    /// [`Self::finish`].
    ///
    /// # Errors
    /// An invalid AS2 name, a failing random generator, or an encryption setup failure
    /// (no recipient, a non-RSA certificate).
    pub fn new(message: &OutboundMessage<'a>, payload_len: Option<u64>) -> Result<Self> {
        let from = format_as2_name(&message.as2_from)?;
        let to = format_as2_name(&message.as2_to)?;
        let message_id = match &message.message_id {
            Some(id) => id.clone(),
            None => generate_message_id(message.provider, &message.message_id_domain)?,
        };
        let mut payload = EntityBuilder::new(message.content_type.clone())
            .header("Content-Transfer-Encoding", "binary");
        if let Some(f) = &message.filename {
            payload = payload.header(
                "Content-Disposition",
                format!("attachment; filename={}", quote(f)),
            );
        }
        let payload_headers = payload.headers().clone();
        let payload_head = payload.build();

        let compress_first = match message.compression {
            Compression::None => false,
            Compression::BeforeSigning => true,
            Compression::AfterSigning => message.signer.is_none(),
        };
        let compress_after =
            message.compression == Compression::AfterSigning && message.signer.is_some();
        let mut layers = Vec::new();
        // (layer, entity headers, the layer's body length for a known inner entity)
        if compress_first {
            layers.push(Layer::Compress(CompressLayer::new()));
        }
        if let Some(signer) = &message.signer {
            layers.push(Layer::Sign(Box::new(SignLayer::new(
                message.provider,
                signer,
                message.micalg_style,
            )?)));
        }
        if compress_after {
            layers.push(Layer::Compress(CompressLayer::new()));
        }
        // lengths from the inside out: each entity as written into the next layer
        let mut entity_len = payload_len.map(|n| payload_head.len() as u64 + n);
        let mut body_len = payload_len;
        for layer in &layers {
            let head_len = layer_headers(layer).to_bytes().len() as u64 + 2;
            body_len = match layer {
                Layer::Sign(s) => entity_len.map(|n| s.body_len(n)),
                _ => None,
            };
            entity_len = body_len.map(|n| head_len + n);
        }
        if let Some(enc) = &message.encryption {
            let writer =
                EnvelopeWriter::new(message.provider, &enc.recipients, enc.options, entity_len)?;
            body_len = writer.encoded_len()?;
            layers.push(Layer::Encrypt(Box::new(writer)));
        }
        // a plain message's MIC covers its content, or its entity for a partner that hashes
        // the headers too
        let plain_head = (layers.is_empty() && message.unsigned_mic == UnsignedMic::WithHeaders)
            .then(|| entity_head(&payload_headers));
        let content_headers = match layers.last() {
            Some(layer) => layer_headers(layer),
            None => payload_headers,
        };

        let mic = if message.signer.is_some() {
            MicState::Signed
        } else {
            let algorithm = message
                .mdn_options
                .as_ref()
                .and_then(|o| o.mic_algorithms().first().copied())
                .unwrap_or(DigestAlgorithm::Sha256);
            let mut hasher = Hasher::new(algorithm);
            if let Some(head) = &plain_head {
                hasher.update(head);
            }
            MicState::Unsigned(algorithm, Box::new(hasher))
        };
        let mut headers: Vec<(String, String)> = vec![
            ("AS2-Version".into(), AS2_VERSION.into()),
            ("AS2-From".into(), from),
            ("AS2-To".into(), to),
            ("Message-ID".into(), message_id.clone()),
            ("Subject".into(), message.subject.clone()),
            ("MIME-Version".into(), "1.0".into()),
        ];
        if !message.ediint_features.is_empty() {
            headers.push(("EDIINT-Features".into(), message.ediint_features.join(", ")));
        }
        if let Some(to) = &message.mdn_to {
            headers.push(("Disposition-Notification-To".into(), to.clone()));
            if let Some(o) = &message.mdn_options {
                headers.push((
                    "Disposition-Notification-Options".into(),
                    o.to_header_value(),
                ));
            }
            if let Some(url) = &message.receipt_delivery_option {
                headers.push(("Receipt-Delivery-Option".into(), url.clone()));
            }
        }
        headers.extend(content_headers.into_pairs());
        Ok(Self {
            provider: message.provider,
            headers,
            message_id,
            content_length: body_len,
            payload_len,
            pushed: 0,
            payload_head,
            stages: layers
                .into_iter()
                .map(|layer| Stage {
                    layer,
                    scratch: Vec::new(),
                })
                .collect(),
            mic,
            started: false,
        })
    }

    /// The HTTP headers (never folded): the AS2 headers and the outermost entity's.
    /// `Content-Length` is not among them: it is [`Self::content_length`].
    #[must_use]
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body's length, when it is known before the payload is pushed: a known payload
    /// length and no compression. `None` otherwise (encode into a spool to learn it).
    #[must_use]
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The Message-ID.
    #[must_use]
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The bytes the encoder holds in its buffers between calls: at most
    /// [`BUFFER_BUDGET`] whatever the payload (signing without signed attributes aside).
    #[must_use]
    pub fn buffered_len(&self) -> usize {
        self.stages.iter().map(Stage::buffered_len).sum()
    }

    /// Write the layers' openings (outermost first) and the payload entity's headers.
    fn start(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.started = true;
        let last = self.stages.len();
        for i in (0..last).rev() {
            let (inner, outer) = self.stages.split_at_mut(i + 1);
            let layer = &inner[i].layer;
            let mut prefix = if i + 1 < last {
                let mut head = layer_headers(layer).to_bytes();
                head.extend_from_slice(b"\r\n");
                head
            } else {
                Vec::new()
            };
            match layer {
                Layer::Compress(_) => prefix.extend_from_slice(&CompressLayer::body_prefix()?),
                Layer::Sign(s) => prefix.extend_from_slice(&s.body_prefix()),
                Layer::Encrypt(e) => prefix.extend_from_slice(&e.head()?),
            }
            pass(outer, &prefix, out)?;
        }
        if !self.stages.is_empty() {
            let head = std::mem::take(&mut self.payload_head);
            if let MicState::Unsigned(_, hasher) = &mut self.mic {
                hasher.update(&head);
            }
            pass(&mut self.stages, &head, out)?;
        }
        Ok(())
    }

    /// Encode the next piece of the payload, appending the body bytes ready to `out`.
    ///
    /// # Errors
    /// More payload than announced, or a layer failure.
    pub fn push(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if !self.started {
            self.start(out)?;
        }
        self.pushed += payload.len() as u64;
        if self.payload_len.is_some_and(|len| self.pushed > len) {
            return Err(Error::Crypto(format!(
                "more payload than the {} bytes announced",
                self.payload_len.unwrap_or_default()
            )));
        }
        for piece in payload.chunks(CHUNK_LEN) {
            if let MicState::Unsigned(_, hasher) = &mut self.mic {
                hasher.update(piece);
            }
            pass(&mut self.stages, piece, out)?;
        }
        Ok(())
    }

    /// Close every layer (signing here), appending the last body bytes to `out`.
    ///
    /// # Errors
    /// Less payload than announced, or a signing or encoding failure.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<BuiltTail> {
        if !self.started {
            self.start(out)?;
        }
        if self.payload_len.is_some_and(|len| self.pushed != len) {
            return Err(Error::Crypto(format!(
                "{} bytes of payload pushed, {} announced",
                self.pushed,
                self.payload_len.unwrap_or_default()
            )));
        }
        let mut mic = match self.mic {
            MicState::Unsigned(algorithm, hasher) => Some(Mic {
                algorithm,
                value: hasher.finalize(),
            }),
            MicState::Signed => None,
        };
        let mut stages = std::mem::take(&mut self.stages);
        while !stages.is_empty() {
            let stage = stages.remove(0);
            let mut tail = Vec::new();
            let sink = if stages.is_empty() {
                &mut *out
            } else {
                &mut tail
            };
            match stage.layer {
                Layer::Compress(c) => c.finish(sink)?,
                Layer::Encrypt(e) => (*e).finish(sink)?,
                Layer::Sign(s) => {
                    let (suffix, signed_mic) = (*s).finish(self.provider)?;
                    sink.extend_from_slice(&suffix);
                    mic = Some(signed_mic);
                }
            }
            pass(&mut stages, &tail, out)?;
        }
        let mic = mic.ok_or_else(|| Error::Crypto("no MIC computed".into()))?;
        Ok(BuiltTail {
            message_id: self.message_id,
            mic,
        })
    }
}

/// The entity headers of a layer.
fn layer_headers(layer: &Layer<'_>) -> Headers {
    match layer {
        Layer::Compress(c) => c.headers.clone(),
        Layer::Sign(s) => s.headers.clone(),
        Layer::Encrypt(e) => {
            let smime_type = if e.is_aead() {
                "authEnveloped-data"
            } else {
                "enveloped-data"
            };
            let mut h = Headers::new();
            h.push(
                "Content-Type",
                format!("application/pkcs7-mime; smime-type={smime_type}; name=\"smime.p7m\""),
            );
            h.push("Content-Transfer-Encoding", "binary");
            h.push("Content-Disposition", "attachment; filename=\"smime.p7m\"");
            h
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests;
