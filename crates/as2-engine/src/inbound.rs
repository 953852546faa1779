//! The inbound pipeline: route by `AS2-To`/`AS2-From`, refuse what the partner's settings
//! forbid, detect duplicates, decrypt/decompress/verify, store the payload durably, record the
//! message and answer the MDN. A positive MDN is only built after the payload is on disk.

use std::net::IpAddr;

use as2_core::cms::DecryptionKey;
use as2_core::crypto::MicAlgStyle;
use as2_core::error::Disposition;
use as2_core::mdn::MdnDisposition;
use as2_core::message::{Envelope, InboundConfig, InboundMessage, MicChoice, parse_inbound};
use as2_core::mime::Headers;
use as2_domain::algorithms::MdnMode;
use as2_domain::message::{Direction, ErrorKind, Message, MessageError, MessageStatus};
use as2_domain::partner::Partner;
use as2_domain::station::Station;
use as2_domain::webhook::EventType;
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::NewMessage;
use as2_store::{Scope, Store};

use crate::inbox::Inbox;
use crate::material::{partner_certificates, station_keys};
use crate::mdn_answer::{answer_mdn, replay_mdn};
use crate::outcome::HttpAnswer;
use crate::stored_mdn;
use as2_trust::cem::CemPolicy;

/// One received HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct InboundRequest<'a> {
    /// Header pairs as received.
    pub headers: &'a [(String, String)],
    /// The body as received.
    pub body: &'a [u8],
    /// The peer address, for the partner firewall.
    pub remote: Option<IpAddr>,
}

/// The station and partner a message is for, with their scope.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) scope: Scope,
    pub(crate) station: Station,
    pub(crate) partner: Partner,
}

/// How the gateway receives, beyond each partner's settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReceiveOptions<'a> {
    /// Where a payload received for the first time is also written, before the MDN.
    pub inbox: Option<&'a Inbox>,
    /// The MIC algorithm rule for signed messages.
    pub mic_choice: MicChoice,
    /// What to do with a partner's certificate exchange (CEM) request.
    pub cem_policy: CemPolicy,
}

/// Handles one AS2 request end to end and says what to answer.
pub fn receive(
    store: &Store,
    payloads: &PayloadStore,
    options: ReceiveOptions<'_>,
    request: &InboundRequest<'_>,
) -> HttpAnswer {
    let headers = Headers::from_pairs(
        request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str())),
    );
    let envelope = match Envelope::from_headers(&headers) {
        Ok(envelope) => envelope,
        Err(e) => return HttpAnswer::text(400, &format!("Not an AS2 message: {e}")),
    };
    let route = match route(store, &envelope) {
        Ok(Some(route)) => route,
        Ok(None) => {
            return HttpAnswer::text(
                404,
                &format!(
                    "No partner {:?} is configured for AS2 ID {:?}",
                    envelope.as2_from, envelope.as2_to
                ),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "routing an inbound message failed");
            return HttpAnswer::text(
                503,
                "The AS2 service is temporarily unavailable; retry later",
            );
        }
    };
    if !route.partner.settings.active {
        return HttpAnswer::text(403, "This partner is inactive");
    }
    if route.partner.settings.firewall
        && !request.remote.is_some_and(|ip| {
            route
                .partner
                .settings
                .allowed_networks
                .iter()
                .any(|n| n.contains(ip))
        })
    {
        tracing::warn!(partner = %route.partner.id, remote = ?request.remote, "refused by the partner firewall");
        return HttpAnswer::text(403, "This address may not send messages for this partner");
    }
    match basic_auth_ok(store, &route, &headers) {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(partner = %route.partner.id, "refused: wrong or missing basic auth");
            return HttpAnswer::text(401, "This partner requires HTTP basic authentication")
                .with_header("WWW-Authenticate", "Basic realm=\"AS2\"");
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the partner's credentials failed");
            return HttpAnswer::text(
                503,
                "The AS2 service is temporarily unavailable; retry later",
            );
        }
    }
    match store.accounts().message_limit(route.scope.tenant_id) {
        Ok(Some(limit))
            if u64::try_from(request.body.len()).unwrap_or(u64::MAX) > limit.unsigned_abs() =>
        {
            tracing::warn!(partner = %route.partner.id, bytes = request.body.len(), limit, "refused: over the tenant's message size limit");
            return HttpAnswer::text(
                413,
                &format!("The message is larger than the receiver accepts ({limit} bytes)"),
            );
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "reading the tenant's message limit failed");
            return HttpAnswer::text(
                503,
                "The AS2 service is temporarily unavailable; retry later",
            );
        }
    }
    let Some(message_id) = envelope.message_id.clone() else {
        return HttpAnswer::text(400, "The message has no Message-ID header");
    };
    match process(
        store,
        payloads,
        options,
        &route,
        &headers,
        &envelope,
        &message_id,
        request.body,
    ) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, message_id = %message_id, "inbound processing failed");
            HttpAnswer::text(503, "The message could not be stored; retry later")
        }
    }
}

/// Whether the request carries the partner's basic-auth credentials (or none are required).
fn basic_auth_ok(
    store: &Store,
    route: &Route,
    headers: &Headers,
) -> Result<bool, as2_store::StoreError> {
    let settings = &route.partner.settings;
    if !settings.auth {
        return Ok(true);
    }
    let Some(password) = store
        .partners()
        .auth_password(route.scope, route.partner.id)?
    else {
        return Ok(false);
    };
    let expected = format!(
        "{}:{password}",
        settings.auth_user.as_deref().unwrap_or_default()
    );
    Ok(crate::basic_auth::matches(
        headers.get("authorization"),
        &expected,
    ))
}

fn route(store: &Store, envelope: &Envelope) -> Result<Option<Route>, as2_store::StoreError> {
    for station in store.stations().find_by_as2_id(&envelope.as2_to)? {
        let scope = Scope::new(station.tenant_id, station.mode);
        match store
            .partners()
            .find_for_station(scope, station.id, &envelope.as2_from)
        {
            Ok(partner) => {
                return Ok(Some(Route {
                    scope,
                    station,
                    partner,
                }));
            }
            Err(as2_store::StoreError::NotFound) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(None)
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
}

impl From<stored_mdn::LoadError> for ProcessError {
    fn from(error: stored_mdn::LoadError) -> Self {
        match error {
            stored_mdn::LoadError::Store(e) => Self::Store(e),
            stored_mdn::LoadError::Payload(e) => Self::Payload(e),
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
                store,
                route,
                envelope,
                existing,
                MdnDisposition::Processed,
                mic,
            );
        }
        return replay_mdn(store, payloads, *scope, existing, envelope);
    }
    let keys = station_keys(store, *scope, station)?;
    let decryption: Vec<DecryptionKey<'_>> = keys
        .iter()
        .map(|(c, k)| DecryptionKey {
            certificate: c,
            key: k.as_ref(),
        })
        .collect();
    let trusted = partner_certificates(store, *scope, partner)?;
    let config = InboundConfig {
        decryption_keys: &decryption,
        trusted_signers: &trusted,
        mic_choice: options.mic_choice,
        ..InboundConfig::default()
    };
    let parsed = parse_inbound(headers, body, &config).and_then(|inbound| {
        // A certificate exchange is handled before the MDN: a malformed one is refused.
        let cem = cem_document(&inbound)
            .map(|content_type| {
                match as2_trust::cem::receive(
                    store,
                    payloads,
                    *scope,
                    partner,
                    station,
                    &content_type,
                    &inbound.payload,
                    options.cem_policy,
                    chrono::Utc::now(),
                ) {
                    Ok(effects) => Ok(effects),
                    Err(as2_trust::cem::ReceiveError::Refused(error)) => Err(error),
                    Err(as2_trust::cem::ReceiveError::Failed(error)) => {
                        tracing::error!(error = %error, "certificate exchange not recorded");
                        Err(as2_core::Error::Cem(
                            "the certificate exchange could not be recorded; resend later".into(),
                        ))
                    }
                }
            })
            .transpose()?;
        Ok((inbound, cem))
    });
    let (message, disposition, mic) = match parsed {
        Ok((inbound, cem)) => {
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
            (message, MdnDisposition::Processed, Some(inbound.mic))
        }
        Err(error) => {
            let message = reject(
                store,
                route,
                envelope,
                message_id,
                &error,
                existing.as_ref(),
            )?;
            (message, MdnDisposition::from_error(&error), None)
        }
    };
    answer_mdn(store, route, envelope, &message, disposition, mic)
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
    // resend, which rewrites the same file under the same name (never a second file).
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
    let message = match existing {
        Some(failed) => store.messages().set_received(
            scope,
            failed.id,
            &stored.key,
            i64::try_from(stored.size).unwrap_or(i64::MAX),
            &stored.sha256,
            &mic,
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
                bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
                sha256: &stored.sha256,
                payload_key: Some(&stored.key),
                mdn_mode: mdn_mode(envelope),
                status: MessageStatus::Received,
                error: None,
                mic: Some(&mic),
            },
        )?,
    };
    crate::events::publish(
        store,
        scope,
        EventType::MessageReceived,
        &message,
        serde_json::json!({ "filename": message.filename }),
    );
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
        kind: error_kind(error.disposition()),
        sentence: error.to_string(),
    };
    let scope = route.scope;
    let message = match existing {
        Some(previous) => {
            store.messages().add_event(
                scope,
                previous.id,
                "failed_again",
                Some(&failure.sentence),
            )?;
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
        )?,
    };
    crate::events::publish(
        store,
        scope,
        EventType::MessageFailed,
        &message,
        serde_json::json!({}),
    );
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
pub fn error_kind(disposition: Disposition) -> ErrorKind {
    match disposition {
        Disposition::DecryptionFailed => ErrorKind::DecryptionFailed,
        Disposition::AuthenticationFailed => ErrorKind::AuthenticationFailed,
        Disposition::IntegrityCheckFailed => ErrorKind::IntegrityCheckFailed,
        Disposition::InsufficientMessageSecurity => ErrorKind::InsufficientSecurity,
        Disposition::UnsupportedFormat
        | Disposition::UnsupportedMicAlgorithms
        | Disposition::DecompressionFailed => ErrorKind::MalformedMessage,
        _ => ErrorKind::Unexpected,
    }
}
