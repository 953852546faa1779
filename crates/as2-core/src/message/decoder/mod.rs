//! The streaming inbound decoder: an AS2 message decrypted, decompressed and verified as
//! its body arrives, in a fixed amount of memory whatever its size. Sans-IO, in the shape
//! of rustls's `Connection`: the caller pushes body bytes in, pulls events (the payload's
//! headers, then the payload in chunks) out, and asks for the verdict after the last byte.
//!
//! See [`InboundDecoder`] for an example.
//!
//! **Nothing is released by the decoder.** Payload chunks come out before the signature,
//! the MIC and the AES-GCM tag are checked (they are checked at the end, in
//! [`InboundDecoder::finish`]): the caller spools them and commits the payload only when
//! `finish` returns the verdict, and discards the spool on any error.
//!
//! Memory: every queue between the stages holds at most 64 KiB; a header block is bounded by
//! the MIME limits; a CMS field (the recipients), a signature part or a content that must
//! be read whole is bounded by [`InboundLimits::max_buffered`](super::InboundLimits)
//! (beyond it: [`Error::LimitExceeded`] with [`Limit::BufferedBytes`](crate::Limit)).
//! Inflation is driven by the reader: it never produces more than the room left.
//!
//! Results are those of [`super::parse_inbound`], which is this decoder fed the whole body.
//! Errors are reported in the order the bytes reveal them, so a message with two faults
//! (say a bad signature and a corrupt inner layer) may name the other one first. Two
//! limits of the streaming form: a signed entity is hashed with the algorithms its
//! `micalg` (and the MDN request) name, so a signature with another digest fails as a
//! content digest mismatch; and AuthEnvelopedData with authenticated attributes (which
//! come after the ciphertext, no AS2 product sends them) is refused as unsupported.

pub(crate) mod buf;
mod entity;
mod hash;
mod layers;
mod multipart;
mod signed_hash;
mod stage;
mod verdict;

use buf::Buf;
use entity::EntityStage;
use stage::{CHUNK, Ctx, Stage};

pub use verdict::InboundVerdict;

use super::{Envelope, InboundConfig, MicChoice};
use crate::crypto::DigestAlgorithm;
use crate::error::{Error, Result};
use crate::mime::Headers;

/// What the decoder hands out, in order: the payload's headers once, then its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecoderEvent<'d> {
    /// The payload entity's headers (content type, file name); empty for a bare payload.
    PayloadHeaders(&'d Headers),
    /// Payload bytes, transfer encoding removed, at most 64 KiB at a time.
    Payload(&'d [u8]),
}

/// The streaming decoder of one inbound message: push body bytes, read events, then
/// [`Self::finish`] for the verdict. Nothing it hands out is authentic before the verdict.
///
/// ```
/// use as2_core::message::{
///     DecoderEvent, InboundConfig, InboundDecoder, OutboundMessage, build_outbound,
/// };
/// use as2_core::mime::Headers;
///
/// let provider = &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
/// let built = build_outbound(&OutboundMessage::new(provider, "a", "b", b"hello", "text/plain"))?;
/// let headers = Headers::from_pairs(built.headers);
/// let cfg = InboundConfig::new(provider, &[], &[]);
/// let mut decoder = InboundDecoder::new(&headers, &cfg)?;
/// let mut payload = Vec::new(); // a spool file in a gateway
/// let mut body: &[u8] = &built.body;
/// loop {
///     while let Some(event) = decoder.next_event()? {
///         if let DecoderEvent::Payload(chunk) = event {
///             payload.extend_from_slice(chunk);
///         }
///     }
///     if body.is_empty() {
///         break;
///     }
///     let taken = decoder.push(&body[..body.len().min(1000)])?;
///     body = &body[taken..];
/// }
/// decoder.end_input();
/// while let Some(event) = decoder.next_event()? {
///     if let DecoderEvent::Payload(chunk) = event {
///         payload.extend_from_slice(chunk);
///     }
/// }
/// // only now is anything known to be authentic: commit the spool, or discard it
/// let verdict = decoder.finish()?;
/// assert_eq!(payload, b"hello");
/// assert_eq!(verdict.envelope.as2_from, "a");
/// # Ok::<(), as2_core::Error>(())
/// ```
pub struct InboundDecoder<'a> {
    cx: Ctx<'a>,
    stages: Vec<Box<dyn Stage>>,
    /// `bufs[0]` is the input; `bufs[i + 1]` the output of stage `i`.
    bufs: Vec<Buf>,
    closed: Vec<bool>,
    done: Vec<bool>,
    /// The most bytes a queue takes before the stage after it reads them: [`CHUNK`] for a
    /// streaming caller; unbounded for `parse_inbound`, which holds the whole body anyway,
    /// so that each stage takes its input over whole instead of copying it piece by piece.
    window: usize,
    input_ended: bool,
    /// Payload bytes handed out by the last event, dropped at the next call.
    handed_out: usize,
    failed: bool,
}

impl std::fmt::Debug for InboundDecoder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundDecoder")
            .field("stages", &self.stages.len())
            .field("input_ended", &self.input_ended)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

/// The MIC algorithm of an unsigned message (the whole-buffer rule with no signature).
fn unsigned_mic_algorithm(envelope: &Envelope) -> DigestAlgorithm {
    let alg = envelope
        .mdn
        .as_ref()
        .map_or(Ok(DigestAlgorithm::Sha256), |m| m.options.choose_mic(None))
        .unwrap_or(DigestAlgorithm::Sha256);
    if alg.can_sign() {
        alg
    } else {
        DigestAlgorithm::Sha256
    }
}

impl<'a> InboundDecoder<'a> {
    /// A decoder for a message with these HTTP headers: the envelope is read and, when
    /// encryption is required, an outer layer that is certainly not encrypted refused.
    ///
    /// # Errors
    /// Missing or invalid AS2 headers; [`Error::InsufficientSecurity`].
    pub fn new(headers: &Headers, cfg: &InboundConfig<'a>) -> Result<Self> {
        let max = cfg.limits.max_buffered;
        Self::with_window(headers, cfg, max, CHUNK)
    }

    /// The decoder of `parse_inbound`, which has the whole body: no budget and no window
    /// (one push takes the whole body, every stage passes its whole input on at once,
    /// and the payload queue ends up holding the whole payload, see
    /// [`Self::take_payload`]), the payload's raw body kept for its `payload_entity`.
    pub(crate) fn whole(headers: &Headers, cfg: &InboundConfig<'a>) -> Result<Self> {
        let mut decoder = Self::with_window(headers, cfg, usize::MAX, usize::MAX)?;
        decoder.cx.keep_raw_body = true;
        Ok(decoder)
    }

    /// [`Self::new`] holding up to `max_buffered` bytes, its queues taking up to `window`
    /// bytes.
    fn with_window(
        headers: &Headers,
        cfg: &InboundConfig<'a>,
        max_buffered: usize,
        window: usize,
    ) -> Result<Self> {
        let envelope = Envelope::from_headers(headers)?;
        // Encryption is the outer layer of every standard nesting (RFC 4130 §2.4.2): an
        // unencrypted compressed or plain message is refused before anything is inflated.
        if cfg.require_encryption && entity::outer_is_unencrypted(headers) {
            return Err(Error::InsufficientSecurity(
                "message is not encrypted".into(),
            ));
        }
        let unsigned_alg = unsigned_mic_algorithm(&envelope);
        let cx = Ctx::new(*cfg, envelope, max_buffered, unsigned_alg);
        let outer: Box<dyn Stage> = Box::new(EntityStage::outer(headers.clone()));
        Ok(Self {
            cx,
            stages: vec![outer],
            bufs: vec![Buf::default(), Buf::default()],
            closed: vec![false],
            done: vec![false],
            window,
            input_ended: false,
            handed_out: 0,
            failed: false,
        })
    }

    /// Whether [`Self::push`] would take bytes now (else read events first).
    #[must_use]
    pub fn wants_input(&self) -> bool {
        !self.failed && !self.input_ended && self.bufs[0].len() < self.window
    }

    /// Push body bytes; returns how many were taken (0 when the decoder is full: read
    /// events, then push the rest).
    ///
    /// # Errors
    /// The message is malformed or fails a check that the bytes so far decide; the
    /// decoder is then unusable.
    pub fn push(&mut self, input: &[u8]) -> Result<usize> {
        self.check()?;
        if self.input_ended {
            return Err(Error::Mime("body bytes after the end of the input".into()));
        }
        let n = input
            .len()
            .min(self.window.saturating_sub(self.bufs[0].len()));
        self.bufs[0].extend(&input[..n]);
        self.pump()?;
        Ok(n)
    }

    /// The body is complete.
    pub fn end_input(&mut self) {
        self.input_ended = true;
    }

    /// The next event, or `None` when the decoder needs more input (or, after
    /// [`Self::end_input`], when everything was handed out: call [`Self::finish`]).
    ///
    /// # Errors
    /// As [`Self::push`].
    pub fn next_event(&mut self) -> Result<Option<DecoderEvent<'_>>> {
        self.check()?;
        let last = self.bufs.len() - 1;
        self.bufs[last].consume(std::mem::take(&mut self.handed_out));
        if !self.cx.headers_event_due && self.bufs[last].is_empty() {
            self.pump()?;
        }
        let last = self.bufs.len() - 1;
        if self.cx.headers_event_due {
            self.cx.headers_event_due = false;
            if let Some(h) = &self.cx.payload_headers {
                return Ok(Some(DecoderEvent::PayloadHeaders(h)));
            }
        }
        if self.cx.payload_headers.is_some() && !self.bufs[last].is_empty() {
            let chunk = &self.bufs[last].as_slice()[..self.bufs[last].len().min(CHUNK)];
            self.handed_out = chunk.len();
            return Ok(Some(DecoderEvent::Payload(chunk)));
        }
        Ok(None)
    }

    /// The verdict, after the last event: the signature, MIC and AES-GCM tag checked, the
    /// policy applied.
    ///
    /// # Errors
    /// Any [`Error`] of [`super::parse_inbound`]; `MdnDisposition::from(&error)` is what
    /// the MDN reports.
    pub fn finish(mut self) -> Result<InboundVerdict> {
        self.check()?;
        self.input_ended = true;
        let last = self.bufs.len() - 1;
        self.bufs[last].consume(std::mem::take(&mut self.handed_out));
        self.pump()?;
        let unread = !self.bufs[self.bufs.len() - 1].is_empty() || self.cx.headers_event_due;
        if unread || !self.done.iter().all(|d| *d) {
            return Err(Error::Mime(
                "the decoder was finished before its payload was read".into(),
            ));
        }
        verdict::verdict(self.cx)
    }

    /// The bytes the decoder holds now (its queues and the stages' own buffers): bounded
    /// by a fixed budget, whatever the message size.
    #[must_use]
    pub fn buffered_len(&self) -> usize {
        self.bufs.iter().map(Buf::capacity).sum::<usize>()
            + self.stages.iter().map(|s| s.held()).sum::<usize>()
            + self.cx.payload_raw.body.capacity()
    }

    /// The rest of the payload, for `parse_inbound` after the headers event: the stages
    /// are run to the end of the input and the payload queue is taken over whole (with
    /// the window of [`Self::whole`] it holds all of the payload, else what is unread).
    ///
    /// # Errors
    /// As [`Self::next_event`].
    pub(crate) fn take_payload(&mut self) -> Result<Buf> {
        self.check()?;
        let last = self.bufs.len() - 1;
        self.bufs[last].consume(std::mem::take(&mut self.handed_out));
        self.pump()?;
        self.cx.headers_event_due = false;
        let last = self.bufs.len() - 1;
        Ok(std::mem::take(&mut self.bufs[last]))
    }

    /// The payload's raw parts, for `parse_inbound`.
    pub(crate) fn payload_raw(&mut self) -> &mut stage::PayloadRaw {
        &mut self.cx.payload_raw
    }

    fn check(&self) -> Result<()> {
        if self.failed {
            return Err(Error::Mime("the decoder already failed".into()));
        }
        Ok(())
    }

    fn pump(&mut self) -> Result<()> {
        let r = self.pump_stages();
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Run the stages, the last first, until none makes progress or a payload chunk is
    /// ready.
    fn pump_stages(&mut self) -> Result<()> {
        loop {
            let mut progress = false;
            let mut i = self.stages.len();
            while i > 0 {
                i -= 1;
                if self.done[i] {
                    continue;
                }
                let eof = if i == 0 {
                    self.input_ended
                } else {
                    self.closed[i - 1]
                };
                let (left, right) = self.bufs.split_at_mut(i + 1);
                let (input, out) = (&mut left[i], &mut right[0]);
                let before = (input.len(), out.len());
                let room = self.window.saturating_sub(out.len());
                let run = self.stages[i].run(&mut self.cx, input, eof, out, room)?;
                progress |= before != (input.len(), out.len());
                if run.closed && !self.closed[i] {
                    self.closed[i] = true;
                    progress = true;
                }
                if run.done {
                    self.done[i] = true;
                    self.closed[i] = true;
                    progress = true;
                }
                if !run.spawn.is_empty() {
                    if i + 1 != self.stages.len() {
                        return Err(Error::Mime("decoder stages out of order".into()));
                    }
                    for s in run.spawn {
                        self.stages.push(s);
                        self.bufs.push(Buf::default());
                        self.closed.push(false);
                        self.done.push(false);
                    }
                    progress = true;
                }
            }
            let last = &self.bufs[self.bufs.len() - 1];
            // a whole-body decoder runs to the end of its input before handing anything out
            let payload_ready =
                self.cx.payload_headers.is_some() && last.len() >= CHUNK && self.window == CHUNK;
            if !progress || payload_ready {
                return Ok(());
            }
        }
    }
}

/// The MIC algorithm chosen as the whole-buffer parser chooses it.
fn mic_algorithm(
    cfg: &InboundConfig<'_>,
    envelope: &Envelope,
    signature_digest: Option<DigestAlgorithm>,
) -> Result<DigestAlgorithm> {
    let chosen = signature_digest.filter(|_| cfg.mic_choice == MicChoice::SignatureDigest);
    let alg = if let Some(digest) = chosen {
        digest
    } else {
        envelope.mdn.as_ref().map_or_else(
            || Ok(signature_digest.unwrap_or(DigestAlgorithm::Sha256)),
            |m| m.options.choose_mic(signature_digest),
        )?
    };
    Ok(if alg.can_sign() {
        alg
    } else {
        DigestAlgorithm::Sha256
    })
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests;
