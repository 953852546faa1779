//! The inbound pipeline: admission on the headers ([`crate::admission`]: route by
//! `AS2-To`/`AS2-From` on the URL's mode, refuse what the partner's settings forbid), then
//! detect duplicates, decrypt/decompress/verify, store the payload durably, record the
//! message and answer the MDN. A positive MDN is only built after the payload is on disk.

use std::net::IpAddr;

use as2_core::cms::DecryptionKey;
use as2_core::crypto::{CryptoProvider, MicAlgStyle};
use as2_core::mdn::{MdnDisposition, Modifier};
use as2_core::message::{
    Envelope, InboundConfig, InboundLimits, InboundMessage, MicChoice, parse_inbound,
};
use as2_core::mime::Headers;
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::message::{Direction, ErrorKind, Message, MessageError, MessageStatus};
use as2_domain::partner::Partner;
use as2_domain::station::Station;
use as2_domain::webhook::EventType;
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::{NewMessage, ReceivedPayload};
use as2_store::{Announce, Scope, Store};

use crate::admission::{AdmissionRequest, Admitted, admit};
use crate::inbox::Inbox;
use crate::material::{partner_certificates, partner_certificates_now, station_keys};
use crate::mdn::answer_inbound::{MdnAnswer, answer_mdn, replay_mdn};
use crate::mdn::stored;
use crate::outcome::HttpAnswer;
use as2_trust::cem::CemPolicy;

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
}

impl<'a> ReceiveOptions<'a> {
    /// No inbox, the default MIC rule and CEM policy, with `crypto`.
    #[must_use]
    pub fn new(crypto: &'a CryptoProvider) -> Self {
        Self {
            crypto,
            inbox: None,
            mic_choice: MicChoice::default(),
            cem_policy: CemPolicy::default(),
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
    };
    match admit(store, &admission) {
        Ok(admitted) => receive_admitted(store, payloads, options, &admitted, request.body),
        Err(refusal) => refusal,
    }
}

/// Handles an admitted AS2 message whose body has been read (within the admitted limit).
pub fn receive_admitted(
    store: &Store,
    payloads: &PayloadStore,
    options: ReceiveOptions<'_>,
    admitted: &Admitted,
    body: &[u8],
) -> HttpAnswer {
    if let Some(refusal) = admitted.refuse_size(u64::try_from(body.len()).unwrap_or(u64::MAX)) {
        return refusal;
    }
    let (route, headers, envelope) = (&admitted.route, &admitted.headers, &admitted.envelope);
    let Some(message_id) = envelope.message_id.clone() else {
        return HttpAnswer::text(400, "The message has no Message-ID header");
    };
    let budget = decompression_budget(admitted.limit());
    match process(
        store,
        payloads,
        options,
        route,
        headers,
        envelope,
        &message_id,
        body,
        budget,
    ) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, message_id = %message_id, "inbound processing failed");
            HttpAnswer::text(503, "The message could not be stored; retry later")
        }
    }
}

/// How many times the largest body the receiver accepts its compressed layers may inflate
/// to, all together: EDI compresses about tenfold, so a real message stays far below it,
/// while a compression bomb stops there.
pub const DECOMPRESSION_FACTOR: u64 = 4;

/// The decompression budget of one message whose body may be at most `max_body` bytes:
/// [`DECOMPRESSION_FACTOR`] times that, and never more than the codec's default (1 GiB),
/// since whatever is inflated is held in memory before the signature is checked.
pub fn decompression_budget(max_body: u64) -> u64 {
    max_body
        .saturating_mul(DECOMPRESSION_FACTOR)
        .min(as2_core::cms::DEFAULT_MAX_DECOMPRESSED)
}

/// Errors that make us answer 503 (the partner retries): nothing was acknowledged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProcessError {
    #[error(transparent)]
    Store(#[from] as2_store::StoreError),
    #[error("payload store: {0}")]
    Payload(#[from] std::io::Error),
    #[error(transparent)]
    Material(#[from] crate::material::MaterialError),
    #[error("building the MDN: {0}")]
    Mdn(as2_core::Error),
    #[error("recording a certificate exchange: {0}")]
    Trust(as2_trust::TrustOpError),
}

impl From<stored::LoadError> for ProcessError {
    fn from(error: stored::LoadError) -> Self {
        match error {
            stored::LoadError::Store(e) => Self::Store(e),
            stored::LoadError::Payload(e) => Self::Payload(e),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn process(
    store: &Store,
    payloads: &PayloadStore,
    options: ReceiveOptions<'_>,
    route: &Route,
    headers: &Headers,
    envelope: &Envelope,
    message_id: &str,
    body: &[u8],
    decompression_budget: u64,
) -> Result<HttpAnswer, ProcessError> {
    let Route {
        scope,
        station,
        partner,
    } = route;
    let existing =
        store
            .messages()
            .find_by_as2_id(*scope, partner.id, Direction::Inbound, message_id)?;
    if let Some(existing) = &existing
        && existing.status == MessageStatus::Received
    {
        store.messages().add_event(
            *scope,
            existing.id,
            "duplicate_received",
            Some("The partner sent this Message-ID again; the original MDN was returned"),
        )?;
        if store.messages().mdn(*scope, existing.id)?.is_none() {
            // Stored, but the process stopped before its MDN was: answer it now, from the
            // MIC recorded with the payload.
            let mic = existing
                .mic
                .as_deref()
                .and_then(|m| as2_core::message::Mic::parse(m).ok());
            return answer_mdn(
                options.crypto,
                store,
                route,
                envelope,
                existing,
                MdnAnswer {
                    disposition: MdnDisposition::Processed,
                    mic,
                    authenticated: true,
                },
            );
        }
        return replay_mdn(store, payloads, *scope, existing, envelope);
    }
    let keys = station_keys(options.crypto, store, *scope, station)?;
    let decryption: Vec<DecryptionKey<'_>> = keys
        .iter()
        .map(|(c, k)| DecryptionKey {
            certificate: c,
            key: k.as_ref(),
        })
        .collect();
    let trusted = partner_certificates(store, *scope, partner)?;
    let config = InboundConfig::new(options.crypto, &decryption, &trusted)
        .with_require_signature(partner.settings.require_signed)
        .with_require_encryption(partner.settings.require_encrypted)
        .with_mic_choice(options.mic_choice)
        .with_limits(InboundLimits::new().with_max_decompressed_total(decompression_budget));
    let verdict = match parse_inbound(headers, body, &config) {
        Ok(inbound) => match cem_document(&inbound) {
            None => Verdict::Accept {
                inbound: Box::new(inbound),
                cem: None,
            },
            // A certificate exchange is handled before the MDN: a malformed or
            // unauthenticated one is refused.
            Some(content_type) => {
                match certificate_exchange(
                    store,
                    payloads,
                    options,
                    route,
                    &inbound,
                    &content_type,
                )? {
                    Ok(effects) => Verdict::Accept {
                        inbound: Box::new(inbound),
                        cem: Some(effects),
                    },
                    Err(error) => Verdict::Reject {
                        error,
                        authenticated: inbound.signature.is_some(),
                    },
                }
            }
        },
        Err(error) => Verdict::Reject {
            error,
            authenticated: false,
        },
    };
    let (message, disposition, mic, authenticated) = match verdict {
        Verdict::Accept { inbound, cem } => {
            let message = accept(
                store,
                payloads,
                // a certificate exchange is ours to handle, not the application's
                options.inbox.filter(|_| cem.is_none()),
                route,
                envelope,
                message_id,
                &inbound,
                existing.as_ref(),
            )?;
            if let Some(cem) = &cem {
                store.messages().add_event(
                    *scope,
                    message.id,
                    "certificate_exchange",
                    Some(&format!(
                        "A certificate exchange document: {} request(s) recorded, {} answer(s) queued",
                        cem.requests.len(),
                        cem.messages.len()
                    )),
                )?;
            }
            // Accepted: signed by a certificate trusted for the partner, or the partner's
            // settings (require_signed off) accept it without.
            (message, MdnDisposition::Processed, Some(inbound.mic), true)
        }
        Verdict::Reject {
            error,
            authenticated,
        } => {
            let message = reject(
                store,
                route,
                envelope,
                message_id,
                &error,
                existing.as_ref(),
            )?;
            (message, MdnDisposition::from(&error), None, authenticated)
        }
    };
    answer_mdn(
        options.crypto,
        store,
        route,
        envelope,
        &message,
        MdnAnswer {
            disposition,
            mic,
            authenticated,
        },
    )
}

/// What the codec and the certificate exchange made of a message.
enum Verdict {
    /// Authenticated as the partner's settings demand, and readable.
    Accept {
        inbound: Box<InboundMessage>,
        cem: Option<as2_trust::cem::Effects>,
    },
    /// Refused with this error; `authenticated` when its signature verified all the same.
    Reject {
        error: as2_core::Error,
        authenticated: bool,
    },
}

/// Hands a CEM document to the trust lifecycle, but only when the message that carried it
/// was signed with a certificate the partner is trusted with now (current or next, not a
/// previous one kept for the overlap) and encrypted when the partner requires it. The inner
/// error is the refusal (a negative MDN); the outer one a platform failure (503).
fn certificate_exchange(
    store: &Store,
    payloads: &PayloadStore,
    options: ReceiveOptions<'_>,
    route: &Route,
    inbound: &InboundMessage,
    content_type: &str,
) -> Result<Result<as2_trust::cem::Effects, as2_core::Error>, ProcessError> {
    let Route {
        scope,
        station,
        partner,
    } = route;
    let refuse = |why: &str| {
        tracing::warn!(partner = %partner.id, why, "refused a certificate exchange");
        Ok(Err(as2_core::Error::InsufficientSecurity(why.to_owned())))
    };
    let Some(signature) = &inbound.signature else {
        return refuse(
            "a certificate exchange (CEM) must be signed with the partner's current or next certificate, and this one is not signed",
        );
    };
    let trusted_now = partner_certificates_now(store, *scope, partner)?;
    if !trusted_now
        .iter()
        .any(|c| c.der() == signature.signer.der())
    {
        return refuse(
            "a certificate exchange (CEM) must be signed with the partner's current or next certificate, and this one is signed with a certificate that is being retired",
        );
    }
    if partner.settings.require_encrypted && inbound.encryption.is_none() {
        return refuse("a certificate exchange (CEM) from this partner must be encrypted");
    }
    match as2_trust::cem::receive(
        store,
        payloads,
        *scope,
        partner,
        station,
        content_type,
        &inbound.payload,
        options.cem_policy,
        chrono::Utc::now(),
    ) {
        Ok(effects) => Ok(Ok(effects)),
        Err(as2_trust::cem::ReceiveError::Refused(error)) => Ok(Err(error)),
        // a storage failure acknowledges nothing: the partner resends
        Err(as2_trust::cem::ReceiveError::Failed(error)) => Err(ProcessError::Trust(error)),
    }
}

#[allow(clippy::too_many_arguments)]
fn accept(
    store: &Store,
    payloads: &PayloadStore,
    inbox: Option<&Inbox>,
    route: &Route,
    envelope: &Envelope,
    message_id: &str,
    inbound: &InboundMessage,
    existing: Option<&Message>,
) -> Result<Message, ProcessError> {
    let stored = payloads.put_bytes(&inbound.payload)?;
    let mic = inbound.mic.to_header_value(MicAlgStyle::Rfc5751);
    let filename = inbound.safe_filename();
    let content_type = inbound.content_type().mime_type;
    let scope = route.scope;
    // The application's copy goes first: a crash before the row exists makes the partner
    // resend, which finds the same bytes already there and writes nothing (never a second
    // file, never an overwrite).
    if let Some(inbox) = inbox {
        inbox.deliver(&crate::inbox::Delivery {
            tenant: &route.station.tenant_id.to_string(),
            mode: scope.mode,
            station_as2_id: &route.station.settings.as2_id,
            partner_as2_id: &route.partner.settings.as2_id,
            message_id,
            filename: filename.as_deref(),
            payload: &inbound.payload,
        })?;
    }
    let bytes = i64::try_from(stored.size).unwrap_or(i64::MAX);
    let received = Announce::with(
        EventType::MessageReceived,
        serde_json::json!({ "filename": filename }),
    );
    let message = match existing {
        Some(failed) => store.messages().set_received(
            scope,
            failed.id,
            ReceivedPayload {
                key: &stored.key,
                bytes,
                sha256: &stored.sha256,
                mic: &mic,
            },
            Some(&received),
        )?,
        None => store.messages().create(
            scope,
            &NewMessage {
                direction: Direction::Inbound,
                partner_id: route.partner.id,
                station_id: route.station.id,
                as2_message_id: message_id,
                subject: envelope.subject.as_deref(),
                filename: filename.as_deref(),
                content_type: &content_type,
                bytes,
                sha256: &stored.sha256,
                payload_key: Some(&stored.key),
                mdn_mode: mdn_mode(envelope),
                status: MessageStatus::Received,
                error: None,
                mic: Some(&mic),
            },
            Some(&received),
        )?,
    };
    Ok(message)
}

/// The payload's Content-Type when the payload is a CEM document.
fn cem_document(inbound: &InboundMessage) -> Option<String> {
    let content_type = inbound.payload_entity.headers().get("content-type")?;
    as2_core::cem::classify(content_type).map(|_| content_type.to_owned())
}

fn reject(
    store: &Store,
    route: &Route,
    envelope: &Envelope,
    message_id: &str,
    error: &as2_core::Error,
    existing: Option<&Message>,
) -> Result<Message, ProcessError> {
    let failure = MessageError {
        kind: error_kind(&MdnDisposition::from(error)),
        sentence: error.to_string(),
    };
    let scope = route.scope;
    let failed = Announce::new(EventType::MessageFailed);
    let message = match existing {
        Some(previous) => {
            store.transaction(|tx| {
                tx.messages().add_event(
                    scope,
                    previous.id,
                    "failed_again",
                    Some(&failure.sentence),
                )?;
                tx.messages().announce_as_is(scope, previous, &failed)
            })?;
            previous.clone()
        }
        None => store.messages().create(
            scope,
            &NewMessage {
                direction: Direction::Inbound,
                partner_id: route.partner.id,
                station_id: route.station.id,
                as2_message_id: message_id,
                subject: envelope.subject.as_deref(),
                filename: None,
                content_type: "application/octet-stream",
                bytes: 0,
                sha256: "",
                payload_key: None,
                mdn_mode: mdn_mode(envelope),
                status: MessageStatus::Failed,
                error: Some(&failure),
                mic: None,
            },
            Some(&failed),
        )?,
    };
    Ok(message)
}

fn mdn_mode(envelope: &Envelope) -> MdnMode {
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
