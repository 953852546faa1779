//! The inbound pipeline: admission on the headers ([`crate::admission`]: route by
//! `AS2-To`/`AS2-From` on the URL's mode, refuse what the partner's settings forbid), then
//! detect duplicates, decrypt/decompress/verify the body as it arrives ([`body`],
//! [`decode`]) into a spool, store the payload durably once it is verified, record the
//! message and answer the MDN ([`reception`]). A positive MDN is only built after the payload
//! is stored; a refused message leaves no payload behind.

pub mod body;
mod cem;
mod decode;
mod new_record;
mod reception;

pub(crate) use reception::ProcessError;

use std::net::IpAddr;

use as2_core::crypto::CryptoProvider;
use as2_core::mdn::{MdnDisposition, Modifier};
use as2_core::message::{Envelope, MicChoice};
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::message::ErrorKind;
use as2_domain::partner::Partner;
use as2_domain::station::Station;
use as2_store::payload::PayloadStore;
use as2_store::{Scope, Store};

use crate::admission::{AdmissionRequest, Admitted, admit};
use crate::inbox::Inbox;
use crate::outcome::HttpAnswer;
use crate::refusal::Refusal;
use as2_trust::cem::CemPolicy;
use body::{BodySource, WholeBody};
use reception::Reception;

/// One received HTTP request, body included (the gateway's HTTP layer admits a request on its
/// headers first and reads the body only then: [`crate::admission`]).
#[derive(Debug, Clone, Copy)]
pub struct InboundRequest<'a> {
    /// Header pairs as received.
    pub headers: &'a [(String, String)],
    /// The body as received.
    pub body: &'a [u8],
    /// The peer address, for the partner firewall.
    pub remote: Option<IpAddr>,
    /// The mode of the URL it was posted to (live on `/as2/receive`, test on
    /// `/as2/test/receive`).
    pub mode: Mode,
}

/// The station and partner a message is for, with their scope.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) scope: Scope,
    pub(crate) station: Station,
    pub(crate) partner: Partner,
    /// The partner sent a message with this request's `Message-ID` before (read with the
    /// route): only then is the earlier message looked up.
    pub(crate) received_before: bool,
    /// The trust records of the station and of the partner, read with the route.
    pub(crate) trust: RouteTrust,
}

/// The trust records of a route's station and partner, as the route query read them.
#[derive(Debug)]
pub(crate) struct RouteTrust {
    pub(crate) station: as2_domain::trust::TrustRecord,
    pub(crate) partner: as2_domain::trust::TrustRecord,
}

/// How the gateway receives, beyond each partner's settings.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveOptions<'a> {
    /// The crypto provider: randomness and the key implementation (the binary chooses it).
    pub crypto: &'a CryptoProvider,
    /// Where a payload received for the first time is also written, before the MDN.
    pub inbox: Option<&'a Inbox>,
    /// The MIC algorithm rule for signed messages.
    pub mic_choice: MicChoice,
    /// What to do with a partner's certificate exchange (CEM) request.
    pub cem_policy: CemPolicy,
    /// What the decoder of one message may hold at once (its queues aside): a signature
    /// part, the recipients, a header block (`AS2_MESSAGE_BUFFER_BYTES`).
    pub buffer_bytes: usize,
}

impl<'a> ReceiveOptions<'a> {
    /// No inbox, the default MIC rule, CEM policy and buffer, with `crypto`.
    #[must_use]
    pub fn new(crypto: &'a CryptoProvider) -> Self {
        Self {
            crypto,
            inbox: None,
            mic_choice: MicChoice::default(),
            cem_policy: CemPolicy::default(),
            buffer_bytes: as2_core::message::DEFAULT_MAX_BUFFERED,
        }
    }
}

/// Handles one AS2 message end to end, admission included, and says what to answer.
pub fn receive(
    store: &Store,
    payloads: &PayloadStore,
    options: ReceiveOptions<'_>,
    request: &InboundRequest<'_>,
) -> HttpAnswer {
    let admission = AdmissionRequest {
        headers: request.headers,
        mode: request.mode,
        remote: request.remote,
        content_length: Some(u64::try_from(request.body.len()).unwrap_or(u64::MAX)),
        max_bytes: u64::MAX,
        client_certificate: None,
    };
    let admitted = match admit(store, &admission) {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal.answer(),
    };
    if let Some(refusal) =
        admitted.refuse_size(u64::try_from(request.body.len()).unwrap_or(u64::MAX))
    {
        return refusal.answer();
    }
    receive_admitted(
        store,
        payloads,
        options,
        &admitted,
        &mut WholeBody::new(request.body),
    )
}

/// Handles an admitted AS2 message, its body read from `body` as it is decoded (the caller
/// bounds its size and time: a [`body::ChannelBody`] fed by the HTTP layer).
pub fn receive_admitted(
    store: &Store,
    payloads: &PayloadStore,
    options: ReceiveOptions<'_>,
    admitted: &Admitted,
    body: &mut dyn BodySource,
) -> HttpAnswer {
    let Some(message_id) = admitted.envelope.message_id.as_deref() else {
        return Refusal::NoMessageId.answer();
    };
    let reception = Reception {
        store,
        payloads,
        options,
        route: &admitted.route,
        headers: &admitted.headers,
        envelope: &admitted.envelope,
        message_id,
        decompression_budget: decompression_budget(admitted.limit()),
        signer: std::cell::OnceCell::new(),
    };
    match reception.receive(body) {
        Ok(answer) => answer,
        Err(ProcessError::Body(refusal)) => refusal.answer(),
        Err(e) => {
            tracing::error!(error = %e, message_id = %message_id, "inbound processing failed");
            Refusal::NotProcessed.answer()
        }
    }
}

/// How many times the largest body the receiver accepts its compressed layers may inflate
/// to, all together: EDI compresses about tenfold, so a real message stays far below it,
/// while a compression bomb stops there.
pub const DECOMPRESSION_FACTOR: u64 = 4;

/// The decompression budget of one message whose body may be at most `max_body` bytes:
/// [`DECOMPRESSION_FACTOR`] times that, and never more than the codec's default (1 GiB):
/// what is inflated is spooled, not held, but a bomb must not fill the disk either.
pub fn decompression_budget(max_body: u64) -> u64 {
    max_body
        .saturating_mul(DECOMPRESSION_FACTOR)
        .min(as2_core::cms::DEFAULT_MAX_DECOMPRESSED)
}

pub(super) fn mdn_mode(envelope: &Envelope) -> MdnMode {
    match &envelope.mdn {
        None => MdnMode::None,
        Some(request) if request.is_async() => MdnMode::Async,
        Some(_) => MdnMode::Sync,
    }
}

/// The message's error kind for a codec failure.
pub fn error_kind(disposition: &MdnDisposition) -> ErrorKind {
    match disposition.modifier() {
        Some(Modifier::DecryptionFailed) => ErrorKind::DecryptionFailed,
        Some(Modifier::AuthenticationFailed) => ErrorKind::AuthenticationFailed,
        Some(Modifier::IntegrityCheckFailed) => ErrorKind::IntegrityCheckFailed,
        Some(Modifier::InsufficientMessageSecurity) => ErrorKind::InsufficientSecurity,
        Some(
            Modifier::UnsupportedFormat
            | Modifier::UnsupportedMicAlgorithms
            | Modifier::DecompressionFailed,
        ) => ErrorKind::MalformedMessage,
        _ => ErrorKind::Unexpected,
    }
}
