//! Certificate Exchange Messaging on top of the lifecycle.
//!
//! * [`offer`]: we offer a partner our station's new key pair. The request goes out as an
//!   ordinary queued AS2 message; the station's rollover is scheduled for the RespondByDate
//!   (until then inbound traffic may use either key, and signing switches at that date).
//! * [`receive`]: an AS2 message from a partner carried a CEM document. A request stores the
//!   offered certificate and, by [`CemPolicy`], accepts it at once or waits for an operator
//!   ([`accept`], [`reject`]); a response moves our own offer on.
//! * Accepting a partner's certificate: encryption to them switches at once (they can
//!   decrypt with both keys), their signatures are verified with both certificates until
//!   the RespondByDate, when the new one becomes current; the old one retires a week later.
//!
//! Every step is an event on the partner's (and, for an offer, the station's) timeline.

use std::time::SystemTime;

use as2_core::cem::{self as codec, CemKind, CertStatus, CertUsage, TrustResponse};
use as2_core::cert::Certificate;
use as2_domain::ValidationErrors;
use as2_domain::algorithms::MdnMode;
use as2_domain::cem::{CemDirection, CemRequest, CemStatus};
use as2_domain::certificate::CertificateKind;
use as2_domain::id::{CemRequestId, CertificateId, PartnerId};
use as2_domain::message::{Direction, Message, MessageStatus, new_as2_message_id};
use as2_domain::partner::Partner;
use as2_domain::station::Station;
use as2_domain::trust::TrustState;
use as2_store::payload::PayloadStore;
use as2_store::repo::cem::NewCemRequest;
use as2_store::repo::certificates::NewCertificate;
use as2_store::repo::messages::NewMessage;
use as2_store::{Scope, Store, StoreError};
use chrono::{DateTime, Duration, Utc};

use crate::error::TrustOpError;
use crate::lifecycle::{self, Subject, Transition};

/// How long the old certificate stays accepted after the new one became current.
pub const OVERLAP: Duration = Duration::days(7);

/// The host part of the Message-IDs of CEM messages we send.
const MESSAGE_ID_HOST: &str = "as2-platform";

/// What to do with a partner's CEM request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CemPolicy {
    /// Accept a certificate that is valid at its RespondByDate and for the overlap after it
    /// (the default; an operator can still schedule, activate or retire by hand).
    #[default]
    AcceptValid,
    /// Record the request and wait for an operator to accept or reject it through the API.
    Manual,
}

/// An offer of a station key pair to a partner.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The station's next key pair.
    pub certificate_id: CertificateId,
    /// What the partner is to trust it for.
    pub usages: Vec<CertUsage>,
    /// When they must answer (and when signing switches).
    pub respond_by: DateTime<Utc>,
    /// Where their answer goes (our AS2 endpoint).
    pub response_url: String,
}

/// What an operation did: the CEM records touched, the AS2 messages queued, and the
/// timeline events to time-stamp.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// CEM requests recorded or answered.
    pub requests: Vec<CemRequest>,
    /// AS2 messages queued (a CEM request or response).
    pub messages: Vec<Message>,
    /// Timeline events appended.
    pub transitions: Vec<Transition>,
}

fn partner(store: &Store, scope: Scope, id: PartnerId) -> Result<Partner, TrustOpError> {
    match store.partners().get(scope, id) {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound) => Err(TrustOpError::NotFound("Partner")),
        Err(e) => Err(e.into()),
    }
}

fn to_system(at: DateTime<Utc>) -> SystemTime {
    at.into()
}

fn usage_tokens(usages: &[CertUsage]) -> Vec<String> {
    usages.iter().map(|u| u.token().to_owned()).collect()
}

/// Queues an AS2 message carrying a CEM document to `partner`.
fn queue(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    partner: &Partner,
    built: &codec::BuiltCem,
    subject: &str,
) -> Result<Message, TrustOpError> {
    let stored = payloads
        .put_bytes(&built.body)
        .map_err(|e| TrustOpError::Store(StoreError::Payload(e)))?;
    let as2_id = new_as2_message_id(MESSAGE_ID_HOST, &uuid::Uuid::new_v4().to_string());
    let new = NewMessage {
        direction: Direction::Outbound,
        partner_id: partner.id,
        station_id: partner.settings.station_id,
        as2_message_id: &as2_id,
        subject: Some(subject),
        filename: None,
        content_type: &built.content_type,
        bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: &stored.sha256,
        payload_key: Some(&stored.key),
        mdn_mode: match partner.settings.mdn_mode {
            MdnMode::None => MdnMode::Sync,
            other => other,
        },
        status: MessageStatus::Queued,
        error: None,
        mic: None,
    };
    let attempts = partner.settings.retry_attempts.saturating_add(1);
    match store.messages().create_outbound(scope, &new, attempts) {
        Ok(message) => Ok(message),
        Err(e) => {
            let _ = payloads.delete(&stored.key);
            Err(e.into())
        }
    }
}

/// Offers the station's next key pair to `partner_id` as a CEM request (see the module
/// docs); schedules the station's rollover for the RespondByDate unless it is scheduled
/// (or done) already.
pub fn offer(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    partner_id: PartnerId,
    offer: &Offer,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Effects, TrustOpError> {
    let partner = partner(store, scope, partner_id)?;
    let station = store.stations().get(scope, partner.settings.station_id)?;
    let mut errors = ValidationErrors::new();
    if offer.usages.is_empty() {
        errors.add(
            "usages",
            "Name at least one usage: keyEncipherment, digitalSignature, tlsServer or tlsClient",
        );
    }
    if offer.respond_by <= now {
        errors.add("respond_by", "The respond-by date must be in the future");
    }
    if !(offer.response_url.starts_with("http://") || offer.response_url.starts_with("https://")) {
        errors.add("response_url", "The response URL must be http(s)://…");
    }
    let certificate = match store.certificates().get(scope, offer.certificate_id) {
        Ok(c) if c.kind == CertificateKind::KeyPair => Some(c),
        Ok(_) => {
            errors.add(
                "certificate_id",
                "Offer a key pair of ours (a certificate with its private key)",
            );
            None
        }
        Err(StoreError::NotFound) => {
            errors.add("certificate_id", "The certificate does not exist");
            None
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(c) = &certificate
        && !c.info.covers(offer.respond_by, offer.respond_by + OVERLAP)
    {
        errors.add(
            "certificate_id",
            "The certificate must be valid from the respond-by date to a week after it",
        );
    }
    errors.into_result(())?;
    let mut effects = Effects::default();
    let station_subject = Subject::Station(station.id);
    let record = lifecycle::load(store, scope, station_subject)?.record;
    let already =
        record.current == Some(offer.certificate_id) || record.next == Some(offer.certificate_id);
    if !already {
        if record.state != TrustState::Active {
            return Err(ValidationErrors::single(
                "certificate_id",
                "The station has another rollover in progress; finish it first",
            )
            .into());
        }
        effects.transitions.push(lifecycle::schedule(
            store,
            scope,
            station_subject,
            offer.certificate_id,
            offer.respond_by,
            offer.respond_by + OVERLAP,
            actor,
            now,
        )?);
    }
    let (der, _) = store.certificates().der(scope, offer.certificate_id)?;
    let cert = Certificate::from_der(&der).map_err(|e| TrustOpError::Material(e.to_string()))?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let trust_request = codec::TrustRequest::new(
        cert,
        offer.usages.clone(),
        to_system(offer.respond_by),
        offer.response_url.clone(),
        format!("cert-{request_id}@{MESSAGE_ID_HOST}"),
    );
    let built = codec::build_request(&codec::CemRequest {
        request_id: request_id.clone(),
        sender_as2_id: station.settings.as2_id.clone(),
        message_originated: to_system(now),
        requests: vec![trust_request.clone()],
    })
    .map_err(|e| TrustOpError::Material(e.to_string()))?;
    let message = queue(
        store,
        payloads,
        scope,
        &partner,
        &built,
        "Certificate exchange request",
    )?;
    let usages = usage_tokens(&offer.usages);
    let recorded = store.cem().create(
        scope,
        &NewCemRequest {
            direction: CemDirection::Outbound,
            partner_id: partner.id,
            station_id: station.id,
            request_id: &request_id,
            certificate_id: offer.certificate_id,
            usages: &usages,
            issuer_name: &trust_request.issuer_name,
            serial_decimal: &trust_request.serial_decimal,
            respond_by: offer.respond_by,
            response_url: &offer.response_url,
            message_id: Some(message.id),
        },
    )?;
    effects.transitions.push(lifecycle::note(
        store,
        scope,
        Subject::Partner(partner.id),
        "cem_request_sent",
        actor,
        &serde_json::json!({
            "cem_request_id": recorded.id.to_string(),
            "request_id": request_id,
            "certificate_id": offer.certificate_id.to_string(),
            "usages": usages,
            "respond_by": lifecycle::rfc3339(offer.respond_by),
            "message_id": message.id.to_string(),
        }),
    )?);
    effects.requests.push(recorded);
    effects.messages.push(message);
    Ok(effects)
}

/// Why a received CEM document was refused: the MDN reports it.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The document is malformed or does not fit (an error MDN with this text).
    #[error(transparent)]
    Refused(#[from] as2_core::Error),
    /// The platform failed (the partner should resend).
    #[error(transparent)]
    Failed(#[from] TrustOpError),
}

fn refused(text: impl Into<String>) -> ReceiveError {
    ReceiveError::Refused(as2_core::Error::Cem(text.into()))
}

/// Handles the CEM document `body` (payload content type `content_type`) that `partner`
/// sent to `station`. Runs before the MDN is built: an error becomes a negative MDN.
#[allow(clippy::too_many_arguments)]
pub fn receive(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    partner: &Partner,
    station: &Station,
    content_type: &str,
    body: &[u8],
    policy: CemPolicy,
    now: DateTime<Utc>,
) -> Result<Effects, ReceiveError> {
    match codec::kind_of(content_type, body)? {
        CemKind::Request => receive_request(
            store,
            payloads,
            scope,
            partner,
            station,
            content_type,
            body,
            policy,
            now,
        ),
        CemKind::Response => receive_response(store, scope, partner, content_type, body),
    }
}

#[allow(clippy::too_many_arguments)]
fn receive_request(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    partner: &Partner,
    station: &Station,
    content_type: &str,
    body: &[u8],
    policy: CemPolicy,
    now: DateTime<Utc>,
) -> Result<Effects, ReceiveError> {
    let request = codec::parse_request(content_type, body, &partner.settings.as2_id)?;
    let mut effects = Effects::default();
    let mut recorded = Vec::new();
    for trust in &request.requests {
        match store.cem().find(
            scope,
            partner.id,
            CemDirection::Inbound,
            &request.request_id,
            &trust.serial_decimal,
        ) {
            Ok(existing) => {
                // a resend of a request we have: nothing new to record
                recorded.push(existing);
                continue;
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(TrustOpError::from(e).into()),
        }
        let info = crate::certificate::info(&trust.certificate);
        let name = format!("{} (CEM {})", partner.settings.name, request.request_id);
        let stored = store
            .certificates()
            .create(
                scope,
                &NewCertificate {
                    name: &name,
                    info: &info,
                    der: trust.certificate.der(),
                    chain_der: None,
                    private_key_der: None,
                },
            )
            .map_err(TrustOpError::from)?;
        let usages = usage_tokens(&trust.usages);
        let respond_by = DateTime::<Utc>::from(trust.respond_by);
        let row = store
            .cem()
            .create(
                scope,
                &NewCemRequest {
                    direction: CemDirection::Inbound,
                    partner_id: partner.id,
                    station_id: station.id,
                    request_id: &request.request_id,
                    certificate_id: stored.id,
                    usages: &usages,
                    issuer_name: &trust.issuer_name,
                    serial_decimal: &trust.serial_decimal,
                    respond_by,
                    response_url: &trust.response_url,
                    message_id: None,
                },
            )
            .map_err(TrustOpError::from)?;
        effects.transitions.push(
            lifecycle::note(
                store,
                scope,
                Subject::Partner(partner.id),
                "cem_request_received",
                "partner",
                &serde_json::json!({
                    "cem_request_id": row.id.to_string(),
                    "request_id": request.request_id,
                    "certificate_id": stored.id.to_string(),
                    "fingerprint_sha256": info.fingerprint_sha256,
                    "usages": usages,
                    "respond_by": lifecycle::rfc3339(respond_by),
                }),
            )
            .map_err(ReceiveError::Failed)?,
        );
        recorded.push(row);
    }
    if policy == CemPolicy::AcceptValid {
        for row in recorded
            .iter_mut()
            .filter(|r| r.status == CemStatus::Pending)
        {
            let answered = match acceptable(store, scope, row, now) {
                Ok(()) => accept(store, payloads, scope, row.id, "policy", now),
                Err(reason) => reject(store, payloads, scope, row.id, &reason, "policy"),
            };
            match answered {
                Ok(answered) => {
                    effects.messages.extend(answered.messages);
                    effects.transitions.extend(answered.transitions);
                    if let Some(updated) = answered.requests.into_iter().next() {
                        *row = updated;
                    }
                }
                // The partner has another rollover under way: the request waits for an
                // operator instead of failing the partner's message again and again.
                Err(TrustOpError::Invalid(why)) => {
                    effects.transitions.push(lifecycle::note(
                        store,
                        scope,
                        Subject::Partner(partner.id),
                        "cem_request_held",
                        "policy",
                        &serde_json::json!({
                            "cem_request_id": row.id.to_string(),
                            "request_id": row.request_id,
                            "reason": why.to_string(),
                        }),
                    )?);
                }
                Err(other) => return Err(ReceiveError::Failed(other)),
            }
        }
    }
    effects.requests = recorded;
    Ok(effects)
}

/// Whether the policy may accept `row`'s certificate: valid over the switch and overlap.
fn acceptable(
    store: &Store,
    scope: Scope,
    row: &CemRequest,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let cert = store
        .certificates()
        .get(scope, row.certificate_id)
        .map_err(|e| format!("The certificate could not be read: {e}"))?;
    let switch = row.respond_by.max(now);
    if !cert.info.covers(switch, switch + OVERLAP) {
        return Err(
            "The certificate is not valid from the respond-by date to a week after it".into(),
        );
    }
    Ok(())
}

fn answer_partner(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    row: &CemRequest,
    response: TrustResponse,
) -> Result<Message, TrustOpError> {
    let partner = partner(store, scope, row.partner_id)?;
    let station = store.stations().get(scope, row.station_id)?;
    let built = codec::build_response(&codec::CemResponse {
        request_id: row.request_id.clone(),
        sender_as2_id: station.settings.as2_id.clone(),
        message_originated: SystemTime::now(),
        responses: vec![response],
    })
    .map_err(|e| TrustOpError::Material(e.to_string()))?;
    queue(
        store,
        payloads,
        scope,
        &partner,
        &built,
        "Certificate exchange response",
    )
}

fn pending(store: &Store, scope: Scope, id: CemRequestId) -> Result<CemRequest, TrustOpError> {
    let row = match store.cem().get(scope, id) {
        Ok(row) => row,
        Err(StoreError::NotFound) => return Err(TrustOpError::NotFound("CEM request")),
        Err(e) => return Err(e.into()),
    };
    if row.direction != CemDirection::Inbound || row.status != CemStatus::Pending {
        return Err(ValidationErrors::single(
            "status",
            "Only a pending request a partner sent can be answered",
        )
        .into());
    }
    Ok(row)
}

/// Accepts a partner's pending CEM request: encryption switches now, signatures switch at
/// the RespondByDate (a scheduled rollover), and the answer goes out.
pub fn accept(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    id: CemRequestId,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Effects, TrustOpError> {
    let row = pending(store, scope, id)?;
    let subject = Subject::Partner(row.partner_id);
    let mut effects = Effects::default();
    let signing = row
        .usages
        .iter()
        .any(|u| u != CertUsage::KeyEncipherment.token());
    let encryption = row
        .usages
        .iter()
        .any(|u| u == CertUsage::KeyEncipherment.token());
    if signing {
        let record = lifecycle::load(store, scope, subject)?.record;
        if record.next != Some(row.certificate_id) && record.current != Some(row.certificate_id) {
            if record.state != TrustState::Active {
                return Err(ValidationErrors::single(
                    "status",
                    "The partner has another rollover in progress; finish it first",
                )
                .into());
            }
            let activate_at = row.respond_by.max(now);
            effects.transitions.push(lifecycle::schedule(
                store,
                scope,
                subject,
                row.certificate_id,
                activate_at,
                activate_at + OVERLAP,
                actor,
                now,
            )?);
        }
    }
    // after the rollover check: a refused acceptance must not have switched encryption
    if encryption {
        store.partners().set_encryption_certificate(
            scope,
            row.partner_id,
            Some(row.certificate_id),
        )?;
    }
    if !store.cem().answer(scope, id, CemStatus::Accepted, None)? {
        return Err(TrustOpError::Conflict(
            "the request was answered meanwhile".into(),
        ));
    }
    let response = TrustResponse {
        status: CertStatus::Accepted,
        reason: None,
        issuer_name: row.issuer_name.clone(),
        serial_decimal: row.serial_decimal.clone(),
    };
    let message = answer_partner(store, payloads, scope, &row, response)?;
    effects.transitions.push(lifecycle::note(
        store,
        scope,
        subject,
        "cem_request_accepted",
        actor,
        &serde_json::json!({
            "cem_request_id": row.id.to_string(),
            "request_id": row.request_id,
            "certificate_id": row.certificate_id.to_string(),
            "encryption_switched": encryption,
            "message_id": message.id.to_string(),
        }),
    )?);
    effects.messages.push(message);
    effects.requests.push(store.cem().get(scope, id)?);
    Ok(effects)
}

/// Rejects a partner's pending CEM request with `reason`, and answers them.
pub fn reject(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    id: CemRequestId,
    reason: &str,
    actor: &str,
) -> Result<Effects, TrustOpError> {
    let row = pending(store, scope, id)?;
    if !store
        .cem()
        .answer(scope, id, CemStatus::Rejected, Some(reason))?
    {
        return Err(TrustOpError::Conflict(
            "the request was answered meanwhile".into(),
        ));
    }
    let response = TrustResponse {
        status: CertStatus::Rejected,
        reason: Some(reason.to_owned()),
        issuer_name: row.issuer_name.clone(),
        serial_decimal: row.serial_decimal.clone(),
    };
    let message = answer_partner(store, payloads, scope, &row, response)?;
    let mut effects = Effects::default();
    effects.transitions.push(lifecycle::note(
        store,
        scope,
        Subject::Partner(row.partner_id),
        "cem_request_rejected",
        actor,
        &serde_json::json!({
            "cem_request_id": row.id.to_string(),
            "request_id": row.request_id,
            "certificate_id": row.certificate_id.to_string(),
            "reason": reason,
            "message_id": message.id.to_string(),
        }),
    )?);
    effects.messages.push(message);
    effects.requests.push(store.cem().get(scope, id)?);
    Ok(effects)
}

fn receive_response(
    store: &Store,
    scope: Scope,
    partner: &Partner,
    content_type: &str,
    body: &[u8],
) -> Result<Effects, ReceiveError> {
    let response = codec::parse_response(content_type, body, &partner.settings.as2_id)?;
    let mut effects = Effects::default();
    for answer in &response.responses {
        let row = match store.cem().find(
            scope,
            partner.id,
            CemDirection::Outbound,
            &response.request_id,
            &answer.serial_decimal,
        ) {
            Ok(row) => row,
            Err(StoreError::NotFound) => {
                return Err(refused(format!(
                    "requestId {:?} with certificate serial {} answers no certificate exchange request we sent",
                    response.request_id, answer.serial_decimal
                )));
            }
            Err(e) => return Err(TrustOpError::from(e).into()),
        };
        let (status, event) = match answer.status {
            CertStatus::Accepted => (CemStatus::Accepted, "cem_response_accepted"),
            CertStatus::Rejected => (CemStatus::Rejected, "cem_response_rejected"),
        };
        if store
            .cem()
            .answer(scope, row.id, status, answer.reason.as_deref())
            .map_err(TrustOpError::from)?
        {
            effects.transitions.push(lifecycle::note(
                store,
                scope,
                Subject::Partner(partner.id),
                event,
                "partner",
                &serde_json::json!({
                    "cem_request_id": row.id.to_string(),
                    "request_id": row.request_id,
                    "certificate_id": row.certificate_id.to_string(),
                    "reason": answer.reason,
                }),
            )?);
        }
        effects
            .requests
            .push(store.cem().get(scope, row.id).map_err(TrustOpError::from)?);
    }
    Ok(effects)
}
