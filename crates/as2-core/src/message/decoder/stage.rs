//! The stages of the decoder's pipeline and the state they share: each stage reads the
//! bytes of the one before it and writes the bytes of the next, within a fixed room, so
//! that every queue between them stays bounded whatever the message size.

use super::buf::Buf;
use super::hash::Hasher;
use super::signed_hash::CandidateDigests;
use crate::cms::DecompressionBudget;
use crate::crypto::{ContentEncryption, DigestAlgorithm};
use crate::error::Result;
use crate::message::{Envelope, InboundConfig};
use crate::mime::Headers;

/// The most bytes a stage writes to the queue after it before the next stage reads them,
/// and the most payload bytes one event hands out.
pub(crate) const CHUNK: usize = 64 << 10;

/// What a stage reports after running.
#[derive(Default)]
pub(crate) struct Run {
    /// It will write no more bytes.
    pub closed: bool,
    /// It needs no more runs (closed, and its input ended and was read).
    pub done: bool,
    /// Stages to append after it (it must be the last stage).
    pub spawn: Vec<Box<dyn Stage>>,
}

impl Run {
    pub(crate) fn done() -> Self {
        Self {
            closed: true,
            done: true,
            spawn: Vec::new(),
        }
    }

    pub(crate) fn spawn(spawn: Vec<Box<dyn Stage>>) -> Self {
        Self {
            spawn,
            ..Self::default()
        }
    }
}

/// One job of the pipeline.
pub(crate) trait Stage {
    /// Read from `input` (ended when `eof`), write at most about `room` bytes to `out`.
    fn run(
        &mut self,
        cx: &mut Ctx<'_>,
        input: &mut Buf,
        eof: bool,
        out: &mut Buf,
        room: usize,
    ) -> Result<Run>;

    /// The bytes it holds itself (besides the queues).
    fn held(&self) -> usize;
}

/// The payload entity's raw form, for [`crate::message::parse_inbound`]'s `payload_entity`.
#[derive(Debug, Default)]
pub(crate) struct PayloadRaw {
    /// The raw header block and blank line (serialised headers for an unwrapped message).
    pub head: Vec<u8>,
    /// No transfer encoding: the payload bytes are the raw body.
    pub identity: bool,
    /// The raw (transfer-encoded) body, kept only when asked and not the identity.
    pub body: Vec<u8>,
}

/// What the stages share: the configuration, the budgets and what the verdict is made of.
pub(crate) struct Ctx<'a> {
    pub cfg: InboundConfig<'a>,
    pub envelope: Envelope,
    /// The most bytes a stage may hold to read something whole.
    pub max_buffered: usize,
    pub inflate_budget: DecompressionBudget,
    /// Layers that may still be unwrapped (8 in all, as the whole-buffer parser).
    pub layers_left: u8,
    pub encryption: Option<ContentEncryption>,
    /// An EnvelopedData layer was found (set before its decryption).
    pub encrypted: bool,
    pub signed: bool,
    pub compressed: bool,
    /// The algorithm of an unsigned message's MIC.
    pub unsigned_alg: DigestAlgorithm,
    /// Which entity is the unsigned MIC's source (0: none yet); its digest once hashed.
    pub unsigned_slot: u32,
    pub unsigned_digest: Option<Vec<u8>>,
    next_slot: u32,
    /// The MIC of a message without any layer: over the HTTP body.
    pub plain_digest: Option<Vec<u8>>,
    /// The signed entity's candidate digests, and the detached signature (DER/BER).
    pub signed_digests: Option<CandidateDigests>,
    pub signature: Option<Vec<u8>>,
    /// AuthEnvelopedData: the tag, and whether authenticated attributes were present.
    pub mac: Option<Vec<u8>>,
    pub auth_attrs: bool,
    /// The payload entity's headers, once found, and whether the event is still due.
    pub payload_headers: Option<Headers>,
    pub headers_event_due: bool,
    pub keep_raw_body: bool,
    pub payload_raw: PayloadRaw,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        cfg: InboundConfig<'a>,
        envelope: Envelope,
        max_buffered: usize,
        unsigned_alg: DigestAlgorithm,
    ) -> Self {
        Self {
            inflate_budget: DecompressionBudget::new(cfg.limits.max_decompressed_total),
            cfg,
            envelope,
            max_buffered,
            layers_left: 8,
            encryption: None,
            encrypted: false,
            signed: false,
            compressed: false,
            unsigned_alg,
            unsigned_slot: 0,
            unsigned_digest: None,
            next_slot: 0,
            plain_digest: None,
            signed_digests: None,
            signature: None,
            mac: None,
            auth_attrs: false,
            payload_headers: None,
            headers_event_due: false,
            keep_raw_body: false,
            payload_raw: PayloadRaw::default(),
        }
    }

    /// Make a new entity the unsigned MIC's source; its slot number.
    pub(crate) fn claim_unsigned_source(&mut self) -> u32 {
        self.next_slot += 1;
        self.unsigned_slot = self.next_slot;
        self.unsigned_digest = None;
        self.unsigned_slot
    }

    /// A hasher for the unsigned MIC.
    pub(crate) fn unsigned_hasher(&self) -> Hasher {
        Hasher::new(self.unsigned_alg)
    }
}
