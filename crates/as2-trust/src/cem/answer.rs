//! Answering a partner's pending CEM request: accepted (the switch is scheduled) or
//! rejected, and the answer queued to them.

use std::time::SystemTime;

use as2_core::cem::{self as codec, CertStatus, CertUsage, TrustResponse};
use as2_domain::ValidationErrors;
use as2_domain::cem::{CemDirection, CemRequest, CemStatus};
use as2_domain::id::CemRequestId;
use as2_domain::message::Message;
use as2_domain::trust::TrustState;
use as2_store::payload::PayloadStore;
use as2_store::{Scope, Store, StoreError};
use chrono::{DateTime, Duration, Utc};

use super::{Effects, OVERLAP, partner, queue};
use crate::error::TrustOpError;
use crate::lifecycle::{self, Subject};
use crate::tls;

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
    // the CEM specification sends the response to the request's ResponseURL (through the
    // destination policy like any URL); the partner's AS2 URL when it named none
    let response_url = Some(row.response_url.trim())
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"));
    queue(
        store,
        payloads,
        scope,
        &partner,
        &built,
        "Certificate exchange response",
        response_url,
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

/// Accepts a partner's pending CEM request: encryption (`keyEncipherment`) switches now,
/// signatures (`digitalSignature`) switch at the RespondByDate (a scheduled rollover), so do
/// `tlsClient` / `tlsServer` where the partner has TLS settings they replace ([`crate::tls`]),
/// and the answer goes out.
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
    // Signing and encryption replace the partner's certificate; tlsClient/tlsServer replace
    // its TLS certificates where it has TLS settings that name one (crate::tls), and are
    // otherwise recorded and answered only. Never does a TLS usage make a signing or
    // encryption certificate.
    let signing = row
        .usages
        .iter()
        .any(|u| u == CertUsage::DigitalSignature.token());
    let encryption = row
        .usages
        .iter()
        .any(|u| u == CertUsage::KeyEncipherment.token());
    let mut rollovers: Vec<(Subject, Duration)> = Vec::new();
    if signing {
        rollovers.push((subject, OVERLAP));
    }
    let tls_subjects = tls::partner_subjects(&partner(store, scope, row.partner_id)?, &row.usages);
    rollovers.extend(tls_subjects.iter().map(|s| (*s, tls::TLS_RETIRE_AFTER)));
    // every record is checked before any is written: a refused acceptance switches nothing
    let mut due = Vec::new();
    for (subject, grace) in rollovers {
        let record = lifecycle::load(store, scope, subject)?.record;
        if record.next == Some(row.certificate_id) || record.current == Some(row.certificate_id) {
            continue;
        }
        if record.state != TrustState::Active {
            return Err(ValidationErrors::single(
                "status",
                "The partner has another rollover in progress; finish it first",
            )
            .into());
        }
        due.push((subject, grace));
    }
    let activate_at = row.respond_by.max(now);
    for (subject, grace) in due {
        effects.transitions.push(lifecycle::schedule(
            store,
            scope,
            subject,
            row.certificate_id,
            activate_at,
            activate_at + grace,
            actor,
            now,
        )?);
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
            "tls_rollovers": tls_subjects.iter().map(|s| s.kind().as_str()).collect::<Vec<_>>(),
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
