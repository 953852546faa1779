//! A CEM document a partner sent: their request (recorded, answered by policy) or their
//! response to our offer.

use as2_core::cem::{self as codec, CemKind, CertStatus};
use as2_domain::cem::{CemDirection, CemRequest, CemStatus};
use as2_domain::partner::Partner;
use as2_domain::station::Station;
use as2_store::payload::PayloadStore;
use as2_store::repo::cem::NewCemRequest;
use as2_store::repo::certificates::NewCertificate;
use as2_store::{Scope, Store, StoreError};
use chrono::{DateTime, Utc};

use super::answer::{accept, reject};
use super::{CemPolicy, Effects, OVERLAP, usage_tokens};
use crate::error::TrustOpError;
use crate::lifecycle::{self, Subject};

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
            // a store failure here acknowledges nothing: the partner resends, and the
            // certificate is judged again (never rejected because we could not read it)
            let answered = match acceptable(store, scope, row, now)? {
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

/// Whether the policy may accept `row`'s certificate (valid over the switch and overlap):
/// the inner error is the reason to reject it, the outer one a store failure.
fn acceptable(
    store: &Store,
    scope: Scope,
    row: &CemRequest,
    now: DateTime<Utc>,
) -> Result<Result<(), String>, TrustOpError> {
    let cert = store.certificates().get(scope, row.certificate_id)?;
    let switch = row.respond_by.max(now);
    if !cert.info.covers(switch, switch + OVERLAP) {
        return Ok(Err(
            "The certificate is not valid from the respond-by date to a week after it".into(),
        ));
    }
    Ok(Ok(()))
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

#[cfg(test)]
mod tests {
    use as2_domain::Mode;
    use as2_domain::cem::{CemDirection, CemRequest, CemStatus};
    use as2_domain::id::{CemRequestId, CertificateId, PartnerId, StationId, TenantId};
    use as2_store::testing::TestDb;

    use super::*;

    /// A store that cannot give the certificate fails the request (the partner resends);
    /// it never rejects the partner's certificate for it.
    #[test]
    fn a_certificate_that_cannot_be_read_is_a_failure_not_a_rejection() {
        let db = TestDb::sqlite();
        let now = Utc::now();
        let row = CemRequest {
            id: CemRequestId(1),
            direction: CemDirection::Inbound,
            partner_id: PartnerId(1),
            station_id: StationId(1),
            request_id: "req-1".into(),
            certificate_id: CertificateId(404),
            usages: vec!["signature".into()],
            issuer_name: "CN=partner".into(),
            serial_decimal: "1".into(),
            respond_by: now,
            response_url: String::new(),
            status: CemStatus::Pending,
            reason: None,
            message_id: None,
            created_at: now,
            updated_at: now,
        };
        let scope = Scope::new(TenantId(1), Mode::Test);
        let judged = acceptable(&db.store, scope, &row, now);
        assert!(
            matches!(judged, Err(TrustOpError::Store(StoreError::NotFound))),
            "{judged:?}"
        );
    }
}
