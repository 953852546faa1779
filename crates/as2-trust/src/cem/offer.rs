//! Offering one of our station's key pairs to a partner as a CEM request.

use as2_core::cem::{self as codec, CertUsage};
use as2_core::cert::Certificate;
use as2_domain::ValidationErrors;
use as2_domain::cem::CemDirection;
use as2_domain::certificate::CertificateKind;
use as2_domain::id::PartnerId;
use as2_domain::trust::TrustState;
use as2_store::payload::PayloadStore;
use as2_store::repo::cem::NewCemRequest;
use as2_store::{Scope, Store, StoreError};
use chrono::{DateTime, Utc};

use super::{Effects, MESSAGE_ID_HOST, OVERLAP, Offer, partner, queue, to_system, usage_tokens};
use crate::error::TrustOpError;
use crate::lifecycle::{self, Subject};
use crate::tls;

/// Offers the station's next key pair to `partner_id` as a CEM request (see the module
/// docs); schedules the station's rollover (signing, encryption usages) and our TLS client
/// certificate's for this partner (`tlsClient`, when we present one) for the RespondByDate
/// unless scheduled (or done) already.
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
    // the station's key pair rolls over for signing and encryption; our TLS client key pair
    // for this partner for tlsClient (when we present one to them: crate::tls); a TLS usage
    // alone never replaces the station's key pair
    let mut rollovers = Vec::new();
    let has = |usage: CertUsage| offer.usages.contains(&usage);
    if has(CertUsage::DigitalSignature) || has(CertUsage::KeyEncipherment) {
        rollovers.push((
            Subject::Station(station.id),
            OVERLAP,
            "The station has another rollover in progress; finish it first",
        ));
    }
    if has(CertUsage::TlsClient) && partner.settings.tls.client_certificate_id.is_some() {
        rollovers.push((
            Subject::PartnerTlsIdentity(partner.id),
            tls::TLS_RETIRE_AFTER,
            "Our TLS client certificate for this partner has another rollover in progress; finish it first",
        ));
    }
    // every record is checked before any is written
    let mut due = Vec::new();
    for (subject, grace, busy) in rollovers {
        let record = lifecycle::load(store, scope, subject)?.record;
        if record.current == Some(offer.certificate_id) || record.next == Some(offer.certificate_id)
        {
            continue;
        }
        if record.state != TrustState::Active {
            return Err(ValidationErrors::single("certificate_id", busy).into());
        }
        due.push((subject, grace));
    }
    for (subject, grace) in due {
        effects.transitions.push(lifecycle::schedule(
            store,
            scope,
            subject,
            offer.certificate_id,
            offer.respond_by,
            offer.respond_by + grace,
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
    let built = codec::build_request(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &codec::CemRequest {
            request_id: request_id.clone(),
            sender_as2_id: station.settings.as2_id.clone(),
            message_originated: to_system(now),
            requests: vec![trust_request.clone()],
        },
    )
    .map_err(|e| TrustOpError::Material(e.to_string()))?;
    let message = queue(
        store,
        payloads,
        scope,
        &partner,
        &built,
        "Certificate exchange request",
        None,
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
