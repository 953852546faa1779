//! A partner's TLS certificates in the trust lifecycle (issue 12): the records behind CEM
//! `tlsClient` / `tlsServer` usages and what the TLS checks accept from them.
//!
//! Each TLS certificate has its own trust record ([`Subject::PartnerTlsClient`],
//! [`Subject::PartnerTlsServer`], [`Subject::PartnerTlsIdentity`]) moved by the same
//! [`crate::lifecycle`] operations as signing certificates, so every change is an event on a
//! hash-chained, time-stamped timeline and the scheduler makes the switch. The rules:
//!
//! * **Overlap.** From the acceptance to the RespondByDate both the old and the new
//!   certificate are accepted ([`as2_domain::trust::TrustRecord::tls_accepted`]); at the RespondByDate the new one
//!   replaces the old one, which is refused from then on (a TLS certificate is switched by the
//!   partner at that date, so unlike a signing certificate the old one has no week of grace;
//!   the `retired` event follows a minute later and only closes the record).
//! * **`tlsClient`** (the certificate the partner presents to our listener): rolled over only
//!   when the partner already must present one (`tls_inbound_client_certificate_id`); the
//!   column follows the activation. A partner without mutual TLS is not switched to it by a
//!   CEM: the request is recorded and answered, as before.
//! * **`tlsServer`** (the partner's server certificate): with a pin (`tls_pin_sha256`), the new
//!   certificate's SPKI SHA-256 is accepted beside the old pin during the overlap and replaces
//!   it at activation. With a private CA bundle (`tls_ca_bundle`) and a certificate that can
//!   anchor one (a CA or self-signed), it is trusted beside the bundle during the overlap and
//!   appended to the bundle at activation, where the certificate an earlier CEM rollover put
//!   there is removed (entries the operator wrote stay, text and all). A leaf a CA issued
//!   changes nothing in the bundle (the CA already admits it). Neither pin nor bundle: the
//!   public roots decide, the rollover is recorded only.
//! * **Our `tlsClient`** ([`Subject::PartnerTlsIdentity`]): offering a key pair with the
//!   `tlsClient` usage schedules it to replace the partner's `tls_client_certificate_id` at the
//!   RespondByDate (a TLS client presents one certificate, so there is no overlap on our side).

use as2_core::cert::Certificate;
use as2_domain::id::{CertificateId, PartnerId};
use as2_domain::partner::Partner;
use as2_domain::partner_tls::TlsPin;
use as2_domain::trust::{TrustState, TrustSubject};
use as2_store::repo::trust::TlsServerSwap;
use as2_store::{Scope, Store, StoreError};
use chrono::Duration;

use crate::certificate::{is_trust_anchor, tls_pin};
use crate::error::TrustOpError;
use crate::lifecycle::Subject;

/// How long after a TLS certificate's activation its record is closed (`retired`); the old
/// certificate is refused from the activation on.
pub const TLS_RETIRE_AFTER: Duration = Duration::minutes(1);

fn parsed(store: &Store, scope: Scope, id: CertificateId) -> Result<Certificate, TrustOpError> {
    let (der, _) = store.certificates().der(scope, id)?;
    Certificate::from_der(&der).map_err(|e| TrustOpError::Material(e.to_string()))
}

/// The certificates (DER) the partner may present to our listener now, or `None` when it
/// need not present one: its `tls_inbound_client_certificate_id` and, during a `tlsClient`
/// rollover, the next one.
///
/// # Errors
/// The store failed (a certificate deleted since is left out, never an error).
pub fn inbound_client_certificates(
    store: &Store,
    scope: Scope,
    partner: &Partner,
) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
    let Some(required) = partner.settings.tls_inbound_client_certificate_id else {
        return Ok(None);
    };
    let record = store.trust().record(
        scope,
        TrustSubject::PartnerTlsClient,
        partner.id.0,
        Some(required),
    )?;
    let mut ids = vec![required];
    if record.current == Some(required) {
        ids.extend(
            record
                .tls_accepted()
                .into_iter()
                .filter(|id| *id != required),
        );
    }
    let mut ders = Vec::with_capacity(ids.len());
    for id in ids {
        match store.certificates().der(scope, id) {
            Ok((der, _)) => ders.push(der),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(ders))
}

/// What the partner's server may also present during a `tlsServer` overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOverlap {
    /// Pins accepted beside the partner's own (when it pins a key).
    pub pins: Vec<TlsPin>,
    /// PEM certificates trusted beside its CA bundle (when it has one).
    pub ca_pem: Vec<String>,
}

/// The next server certificate of a `tlsServer` rollover under way, as the partner's outbound
/// TLS accepts it beside its settings (empty when none is scheduled).
///
/// # Errors
/// The store failed, or the next certificate does not parse.
pub fn server_overlap(
    store: &Store,
    scope: Scope,
    partner: &Partner,
) -> Result<ServerOverlap, TrustOpError> {
    let tls = &partner.settings.tls;
    if tls.pin_sha256.is_none() && tls.ca_bundle.is_none() {
        return Ok(ServerOverlap::default());
    }
    let record = store
        .trust()
        .record(scope, TrustSubject::PartnerTlsServer, partner.id.0, None)?;
    let mut overlap = ServerOverlap::default();
    // only the next certificate: what the partner's settings say covers the current one (an
    // operator may have replaced a pin or bundle a CEM wrote, and that must hold)
    let Some(next) = record
        .next
        .filter(|_| record.state == TrustState::RolloverScheduled)
    else {
        return Ok(overlap);
    };
    let cert = match parsed(store, scope, next) {
        Ok(cert) => cert,
        Err(TrustOpError::Store(StoreError::NotFound)) => return Ok(overlap),
        Err(e) => return Err(e),
    };
    if tls.pin_sha256.is_some()
        && let Some(pin) = tls_pin(&cert)
        && tls.pin_sha256 != Some(pin)
    {
        overlap.pins.push(pin);
    }
    if let Some(bundle) = &tls.ca_bundle
        && is_trust_anchor(&cert)
    {
        let pem = cert.to_pem();
        if !bundle.contains(pem.trim()) {
            overlap.ca_pem.push(pem);
        }
    }
    Ok(overlap)
}

/// The partner's pin and bundle once its server certificate `new` replaced `old` (see the
/// module docs).
pub(crate) fn server_swap(
    store: &Store,
    scope: Scope,
    partner: PartnerId,
    old: Option<CertificateId>,
    new: CertificateId,
) -> Result<TlsServerSwap, TrustOpError> {
    let tls = store.partners().get(scope, partner)?.settings.tls;
    let cert = parsed(store, scope, new)?;
    let pin_sha256 = tls
        .pin_sha256
        .and(tls_pin(&cert))
        .map(|pin| pin.to_string());
    let ca_bundle = match &tls.ca_bundle {
        Some(bundle) if is_trust_anchor(&cert) => {
            let mut bundle = bundle.clone();
            let old = match old.map(|id| parsed(store, scope, id)) {
                Some(Ok(old)) => Some(old),
                None | Some(Err(TrustOpError::Store(StoreError::NotFound))) => None,
                Some(Err(e)) => return Err(e),
            };
            if let Some(old) = old {
                bundle = bundle.replace(old.to_pem().trim(), "");
            }
            let pem = cert.to_pem();
            if !bundle.contains(pem.trim()) {
                if !bundle.is_empty() && !bundle.ends_with('\n') {
                    bundle.push('\n');
                }
                bundle.push_str(pem.trim());
                bundle.push('\n');
            }
            let bundle = tidy(&bundle);
            Some(bundle)
        }
        _ => None,
    };
    Ok(TlsServerSwap {
        pin_sha256,
        ca_bundle,
    })
}

/// The bundle without the blank lines a removed certificate leaves behind.
fn tidy(bundle: &str) -> String {
    let mut out = String::with_capacity(bundle.len());
    let mut blank = false;
    for line in bundle.lines() {
        if line.trim().is_empty() {
            if !blank && !out.is_empty() {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        blank = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The TLS subjects a partner's certificate with `usages` rolls over, by the rules of the
/// module docs (an empty list: recorded only).
pub(crate) fn partner_subjects(partner: &Partner, usages: &[String]) -> Vec<Subject> {
    let has = |usage: as2_core::cem::CertUsage| usages.iter().any(|u| u == usage.token());
    let mut subjects = Vec::new();
    if has(as2_core::cem::CertUsage::TlsClient)
        && partner.settings.tls_inbound_client_certificate_id.is_some()
    {
        subjects.push(Subject::PartnerTlsClient(partner.id));
    }
    let tls = &partner.settings.tls;
    if has(as2_core::cem::CertUsage::TlsServer)
        && (tls.pin_sha256.is_some() || tls.ca_bundle.is_some())
    {
        subjects.push(Subject::PartnerTlsServer(partner.id));
    }
    subjects
}
