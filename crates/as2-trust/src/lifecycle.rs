//! The lifecycle operations: schedule a rollover, activate, retire, cancel; each checks the
//! rules of [`as2_domain::trust`], writes the record with a compare-and-swap, appends the
//! event to the subject's chain and announces it to the tenant's webhooks.

use as2_domain::ValidationErrors;
use as2_domain::certificate::{Certificate, CertificateKind};
use as2_domain::id::{CertificateId, PartnerId, StationId};
use as2_domain::trust::{TrustRecord, TrustState, TrustSubject};
use as2_domain::webhook::EventType;
use as2_store::repo::trust::{CertificateSwap, NewTrustEvent, StoredTrust, TrustEvent};
use as2_store::{Scope, Store, StoreError};
use chrono::{DateTime, Utc};

use crate::error::TrustOpError;

/// Who a lifecycle record belongs to: a partner or a station of the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A trading partner (their certificates).
    Partner(PartnerId),
    /// One of our stations (our key pairs).
    Station(StationId),
    /// The TLS client certificate a partner presents to our listener (inbound mutual TLS).
    PartnerTlsClient(PartnerId),
    /// A partner's TLS server certificate (its pin or CA bundle follows it).
    PartnerTlsServer(PartnerId),
    /// Our key pair presented to a partner as TLS client.
    PartnerTlsIdentity(PartnerId),
}

impl Subject {
    /// The record's subject kind.
    pub fn kind(self) -> TrustSubject {
        match self {
            Self::Partner(_) => TrustSubject::Partner,
            Self::Station(_) => TrustSubject::Station,
            Self::PartnerTlsClient(_) => TrustSubject::PartnerTlsClient,
            Self::PartnerTlsServer(_) => TrustSubject::PartnerTlsServer,
            Self::PartnerTlsIdentity(_) => TrustSubject::PartnerTlsIdentity,
        }
    }

    /// The partner's or station's row id.
    pub fn row_id(self) -> i64 {
        match self {
            Self::Partner(id)
            | Self::PartnerTlsClient(id)
            | Self::PartnerTlsServer(id)
            | Self::PartnerTlsIdentity(id) => id.0,
            Self::Station(id) => id.0,
        }
    }

    /// The subject as the records name it (`partner` or `station`).
    pub fn from_record(kind: TrustSubject, row_id: i64) -> Self {
        match kind {
            TrustSubject::Partner => Self::Partner(PartnerId(row_id)),
            TrustSubject::Station => Self::Station(StationId(row_id)),
            TrustSubject::PartnerTlsClient => Self::PartnerTlsClient(PartnerId(row_id)),
            TrustSubject::PartnerTlsServer => Self::PartnerTlsServer(PartnerId(row_id)),
            TrustSubject::PartnerTlsIdentity => Self::PartnerTlsIdentity(PartnerId(row_id)),
        }
    }

    fn resource(self) -> &'static str {
        match self {
            Self::Station(_) => "Station",
            _ => "Partner",
        }
    }

    /// The partner whose record it is (every subject but a station).
    pub fn partner_id(self) -> Option<PartnerId> {
        match self {
            Self::Partner(id)
            | Self::PartnerTlsClient(id)
            | Self::PartnerTlsServer(id)
            | Self::PartnerTlsIdentity(id) => Some(id),
            Self::Station(_) => None,
        }
    }
}

/// A record with its certificates, as `GET …/trust` shows it.
#[derive(Debug, Clone)]
pub struct TrustView {
    /// The record.
    pub record: TrustRecord,
    /// The certificate in use.
    pub current: Option<Certificate>,
    /// The scheduled one.
    pub next: Option<Certificate>,
    /// The replaced one, accepted until retired.
    pub previous: Option<Certificate>,
}

/// The outcome of an operation: the new record and the event appended.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The record after the operation.
    pub record: TrustRecord,
    /// The event on the timeline (not time-stamped yet).
    pub event: TrustEvent,
}

/// The subject's certificate column that the record's `current` follows; `None` for a
/// partner's TLS server certificate, which no column names (its pin or bundle follows the
/// record instead).
fn subject_certificate(
    store: &Store,
    scope: Scope,
    subject: Subject,
) -> Result<Option<Option<CertificateId>>, TrustOpError> {
    let found = match subject {
        Subject::Partner(id) => store
            .partners()
            .get(scope, id)
            .map(|p| Some(p.settings.certificate_id)),
        Subject::PartnerTlsClient(id) => store
            .partners()
            .get(scope, id)
            .map(|p| Some(p.settings.tls_inbound_client_certificate_id)),
        Subject::PartnerTlsIdentity(id) => store
            .partners()
            .get(scope, id)
            .map(|p| Some(p.settings.tls.client_certificate_id)),
        Subject::PartnerTlsServer(id) => store.partners().get(scope, id).map(|_| None),
        Subject::Station(id) => store
            .stations()
            .get(scope, id)
            .map(|s| Some(s.settings.certificate_id)),
    };
    match found {
        Ok(current) => Ok(current),
        Err(StoreError::NotFound) => Err(TrustOpError::NotFound(subject.resource())),
        Err(other) => Err(other.into()),
    }
}

/// The stored record; while nothing is scheduled, `current` follows the subject's
/// certificate (an operator may change it directly through the partner or station).
pub fn load(store: &Store, scope: Scope, subject: Subject) -> Result<StoredTrust, TrustOpError> {
    let column = subject_certificate(store, scope, subject)?;
    let mut stored =
        store
            .trust()
            .stored(scope, subject.kind(), subject.row_id(), column.flatten())?;
    if let Some(column) = column
        && stored.record.state == TrustState::Active
    {
        stored.record.current = column;
    }
    Ok(stored)
}

fn certificate(
    store: &Store,
    scope: Scope,
    id: Option<CertificateId>,
) -> Result<Option<Certificate>, TrustOpError> {
    match id.map(|id| store.certificates().get(scope, id)) {
        None => Ok(None),
        Some(Ok(cert)) => Ok(Some(cert)),
        // a certificate deleted after it was retired still shows on old records
        Some(Err(StoreError::NotFound)) => Ok(None),
        Some(Err(other)) => Err(other.into()),
    }
}

/// The record and its certificates.
pub fn view(store: &Store, scope: Scope, subject: Subject) -> Result<TrustView, TrustOpError> {
    let record = load(store, scope, subject)?.record;
    Ok(TrustView {
        current: certificate(store, scope, record.current)?,
        next: certificate(store, scope, record.next)?,
        previous: certificate(store, scope, record.previous)?,
        record,
    })
}

/// Schedules `next` to become current at `activate_at` and the old certificate to retire
/// at `retire_at`.
#[allow(clippy::too_many_arguments)]
pub fn schedule(
    store: &Store,
    scope: Scope,
    subject: Subject,
    next: CertificateId,
    activate_at: DateTime<Utc>,
    retire_at: DateTime<Utc>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Transition, TrustOpError> {
    let stored = load(store, scope, subject)?;
    let next_cert = match store.certificates().get(scope, next) {
        Ok(cert) => cert,
        Err(StoreError::NotFound) => {
            return Err(ValidationErrors::single(
                "certificate_id",
                "The certificate does not exist",
            )
            .into());
        }
        Err(other) => return Err(other.into()),
    };
    if matches!(
        subject,
        Subject::Station(_) | Subject::PartnerTlsIdentity(_)
    ) && next_cert.kind != CertificateKind::KeyPair
    {
        return Err(ValidationErrors::single(
            "certificate_id",
            "Our next certificate must be a key pair (a certificate with its private key)",
        )
        .into());
    }
    let current = certificate(store, scope, stored.record.current)?;
    let record = stored.record.schedule(
        (next, &next_cert.info),
        current.as_ref().map(|c| &c.info),
        activate_at,
        retire_at,
        now,
    )?;
    let details = serde_json::json!({
        "certificate_id": next.to_string(),
        "activate_at": rfc3339(activate_at),
        "retire_at": rfc3339(retire_at),
    });
    commit(
        store,
        scope,
        subject,
        &stored,
        record,
        None,
        ("rollover_scheduled", actor, &details),
    )
}

/// Promotes the next certificate to current; the subject's certificate columns follow.
pub fn activate(
    store: &Store,
    scope: Scope,
    subject: Subject,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Transition, TrustOpError> {
    let stored = load(store, scope, subject)?;
    let next = certificate(store, scope, stored.record.next)?;
    let record = match &next {
        Some(next) => stored.record.activate(&next.info, now)?,
        None => {
            return Err(ValidationErrors::single(
                "state",
                "There is no scheduled rollover to activate",
            )
            .into());
        }
    };
    let tls_server = match (subject, &next) {
        (Subject::PartnerTlsServer(partner), Some(next)) => Some(crate::tls::server_swap(
            store,
            scope,
            partner,
            stored.record.current,
            next.id,
        )?),
        _ => None,
    };
    let swap = record.current.map(|to| CertificateSwap {
        from: stored.record.current,
        to,
        tls_server,
    });
    let details = serde_json::json!({ "certificate_id": record.current.map(|c| c.to_string()) });
    commit(
        store,
        scope,
        subject,
        &stored,
        record,
        swap,
        ("activated", actor, &details),
    )
}

/// Stops accepting the previous certificate.
pub fn retire(
    store: &Store,
    scope: Scope,
    subject: Subject,
    actor: &str,
) -> Result<Transition, TrustOpError> {
    let stored = load(store, scope, subject)?;
    let record = stored.record.retire()?;
    let details = serde_json::json!({
        "retired_certificate_id": stored.record.previous.map(|c| c.to_string()),
    });
    commit(
        store,
        scope,
        subject,
        &stored,
        record,
        None,
        ("retired", actor, &details),
    )
}

/// Drops a scheduled rollover (a partner rejected the certificate, say).
pub fn cancel(
    store: &Store,
    scope: Scope,
    subject: Subject,
    actor: &str,
    reason: &str,
) -> Result<Transition, TrustOpError> {
    let stored = load(store, scope, subject)?;
    let record = stored.record.cancel()?;
    let details = serde_json::json!({
        "cancelled_certificate_id": stored.record.next.map(|c| c.to_string()),
        "reason": reason,
    });
    commit(
        store,
        scope,
        subject,
        &stored,
        record,
        None,
        ("rollover_cancelled", actor, &details),
    )
}

/// Appends a note to the timeline without changing the record (a CEM request received or
/// answered, say): the record is re-saved with the same content and a new version.
pub fn note(
    store: &Store,
    scope: Scope,
    subject: Subject,
    event_type: &str,
    actor: &str,
    details: &serde_json::Value,
) -> Result<Transition, TrustOpError> {
    let stored = load(store, scope, subject)?;
    let record = stored.record.clone();
    commit(
        store,
        scope,
        subject,
        &stored,
        record,
        None,
        (event_type, actor, details),
    )
}

fn fingerprint(
    store: &Store,
    scope: Scope,
    id: Option<CertificateId>,
) -> Result<Option<String>, TrustOpError> {
    Ok(certificate(store, scope, id)?.map(|c| c.info.fingerprint_sha256))
}

fn commit(
    store: &Store,
    scope: Scope,
    subject: Subject,
    stored: &StoredTrust,
    record: TrustRecord,
    swap: Option<CertificateSwap>,
    (event_type, actor, details): (&str, &str, &serde_json::Value),
) -> Result<Transition, TrustOpError> {
    let current_fingerprint = fingerprint(store, scope, record.current)?;
    let next_fingerprint = fingerprint(store, scope, record.next.or(record.previous))?;
    let details = details.to_string();
    // the record, its chained event and the webhook event it announces commit together
    let event = store.transaction(|tx| {
        let event = tx.trust().save(
            scope,
            subject.kind(),
            subject.row_id(),
            stored.version,
            &record,
            swap,
            &NewTrustEvent {
                event_type,
                actor,
                current_fingerprint: current_fingerprint.as_deref(),
                next_fingerprint: next_fingerprint.as_deref(),
                details: &details,
                timestamp_token: None,
            },
        )?;
        if let Some((kind, data)) = announcement(subject, &event) {
            tx.webhooks()
                .publish(scope, kind, &data.to_string(), None)?;
        }
        Ok(event)
    })?;
    Ok(Transition { record, event })
}

/// The webhook event of a trust event that has one: `partner.trust.<event>` (stations too,
/// with `"subject": "station"`) and its data.
fn announcement(subject: Subject, event: &TrustEvent) -> Option<(EventType, serde_json::Value)> {
    let kind = match event.event_type.as_str() {
        "rollover_scheduled" => EventType::TrustRolloverScheduled,
        "activated" => EventType::TrustActivated,
        "retired" => EventType::TrustRetired,
        _ => return None,
    };
    let id = match (subject.partner_id(), subject) {
        (Some(id), _) => id.to_string(),
        (None, Subject::Station(id)) => id.to_string(),
        (None, _) => String::new(),
    };
    let data = serde_json::json!({
        "subject": subject.kind().as_str(),
        "id": id,
        "event_id": event.id.to_string(),
        "type": event.event_type,
        "actor": event.actor,
        "current_fingerprint": event.current_fingerprint,
        "next_fingerprint": event.next_fingerprint,
        "hash": event.hash,
    });
    Some((kind, data))
}

/// RFC 3339 with microseconds, as the API prints times.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
