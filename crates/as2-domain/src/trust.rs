//! The trust record of a partner or station: current and next certificate, the rollover
//! window, and the rules that keep its dates coherent.

use chrono::{DateTime, Duration, Utc};

use crate::certificate::CertificateInfo;
use crate::id::CertificateId;
use crate::named_enum;
use crate::validation::ValidationErrors;

named_enum!(
    /// Where a rollover stands.
    TrustState, "trust state" {
        /// One certificate in use, nothing scheduled.
        Active => "active",
        /// A next certificate and a window are set; the current one is still in use.
        RolloverScheduled => "rollover_scheduled",
        /// The next certificate became current; the previous one is still accepted until retired.
        Activated => "activated",
    }
);

named_enum!(
    /// Who a trust record belongs to.
    TrustSubject, "trust subject" {
        /// A partner's certificates (verify their signatures, encrypt to them).
        Partner => "partner",
        /// A station's own key pairs (sign, decrypt).
        Station => "station",
        /// The TLS client certificate a partner presents to our listener (inbound mutual TLS,
        /// its `tls_inbound_client_certificate_id`); rolled over by a CEM `tlsClient` usage.
        PartnerTlsClient => "partner_tls_client",
        /// A partner's TLS server certificate (what its pin or CA bundle admits); rolled over
        /// by a CEM `tlsServer` usage.
        PartnerTlsServer => "partner_tls_server",
        /// Our key pair presented to a partner as TLS client (its `tls_client_certificate_id`);
        /// rolled over by a CEM offer with the `tlsClient` usage.
        PartnerTlsIdentity => "partner_tls_identity",
    }
);

/// The trust material of a partner or station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRecord {
    /// In use for outbound work.
    pub current: Option<CertificateId>,
    /// Scheduled to become current.
    pub next: Option<CertificateId>,
    /// The one replaced at activation, accepted until retired.
    pub previous: Option<CertificateId>,
    /// When `next` becomes current.
    pub activate_at: Option<DateTime<Utc>>,
    /// When `previous` stops being accepted.
    pub retire_at: Option<DateTime<Utc>>,
    /// Where the rollover stands.
    pub state: TrustState,
}

/// How far in the past a scheduled activation may lie (clock skew between client and us).
pub const SCHEDULE_SKEW: Duration = Duration::minutes(5);

/// A refused lifecycle operation: which rule, as field errors (the API answers 422).
pub type TrustError = ValidationErrors;

impl TrustRecord {
    /// A record with one certificate in use.
    pub fn with_current(current: Option<CertificateId>) -> Self {
        Self {
            current,
            next: None,
            previous: None,
            activate_at: None,
            retire_at: None,
            state: TrustState::Active,
        }
    }

    /// The certificates inbound messages may use now (current, next during the overlap, previous
    /// until retired), in the order to try them.
    pub fn accepted(&self) -> Vec<CertificateId> {
        let mut ids = Vec::with_capacity(3);
        ids.extend(self.current);
        if self.state == TrustState::RolloverScheduled {
            ids.extend(self.next);
        }
        if self.state == TrustState::Activated {
            ids.extend(self.previous);
        }
        ids
    }

    /// The certificates a TLS handshake may present now: current and, while a rollover is
    /// scheduled, next. Unlike [`Self::accepted`] never the previous one: a TLS certificate
    /// is replaced at the activation (the RespondByDate), not a week after it.
    pub fn tls_accepted(&self) -> Vec<CertificateId> {
        let mut ids = Vec::with_capacity(2);
        ids.extend(self.current);
        if self.state == TrustState::RolloverScheduled {
            ids.extend(self.next);
        }
        ids
    }

    /// Schedules `next` to become current at `activate_at` and the old one to retire at `retire_at`.
    pub fn schedule(
        &self,
        next: (CertificateId, &CertificateInfo),
        current: Option<&CertificateInfo>,
        activate_at: DateTime<Utc>,
        retire_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, TrustError> {
        let mut errors = ValidationErrors::new();
        if self.state == TrustState::Activated {
            errors.add(
                "state",
                "Retire the previous certificate before scheduling another rollover",
            );
        }
        if Some(next.0) == self.current {
            errors.add(
                "certificate_id",
                "The next certificate must differ from the current one",
            );
        }
        if activate_at < now - SCHEDULE_SKEW {
            errors.add("activate_at", "The activation time must not be in the past");
        }
        if retire_at <= activate_at {
            errors.add(
                "retire_at",
                "The retirement time must be after the activation time",
            );
        }
        if !next.1.covers(activate_at, retire_at) {
            errors.add(
                "certificate_id",
                "The next certificate must be valid over the whole rollover window",
            );
        }
        if next.1.not_after < now {
            errors.add("certificate_id", "The next certificate has expired");
        }
        if current.is_some_and(|current| activate_at > current.not_after) {
            errors.add(
                "activate_at",
                "The activation must happen before the current certificate expires",
            );
        }
        errors.into_result(Self {
            current: self.current,
            next: Some(next.0),
            previous: None,
            activate_at: Some(activate_at),
            retire_at: Some(retire_at),
            state: TrustState::RolloverScheduled,
        })
    }

    /// Promotes the next certificate to current (the old one becomes `previous`).
    pub fn activate(
        &self,
        next_info: &CertificateInfo,
        now: DateTime<Utc>,
    ) -> Result<Self, TrustError> {
        let mut errors = ValidationErrors::new();
        if self.state != TrustState::RolloverScheduled || self.next.is_none() {
            errors.add("state", "There is no scheduled rollover to activate");
        } else if !next_info.is_valid_at(now) {
            errors.add("certificate_id", "The next certificate is not valid now");
        }
        errors.into_result(Self {
            current: self.next,
            next: None,
            previous: self.current,
            activate_at: self.activate_at,
            retire_at: self.retire_at,
            state: TrustState::Activated,
        })
    }

    /// Stops accepting the previous certificate.
    pub fn retire(&self) -> Result<Self, TrustError> {
        if self.state != TrustState::Activated {
            return Err(ValidationErrors::single(
                "state",
                "A certificate can only be retired after the rollover was activated",
            ));
        }
        Ok(Self::with_current(self.current))
    }

    /// Drops a scheduled rollover (the next certificate was rejected or withdrawn).
    pub fn cancel(&self) -> Result<Self, TrustError> {
        if self.state != TrustState::RolloverScheduled {
            return Err(ValidationErrors::single(
                "state",
                "There is no scheduled rollover to cancel",
            ));
        }
        Ok(Self::with_current(self.current))
    }

    /// What the scheduler should do at `now`: activate, retire, or nothing.
    pub fn due(&self, now: DateTime<Utc>) -> Option<DueTransition> {
        match self.state {
            TrustState::RolloverScheduled if self.activate_at.is_some_and(|t| t <= now) => {
                Some(DueTransition::Activate)
            }
            TrustState::Activated if self.retire_at.is_some_and(|t| t <= now) => {
                Some(DueTransition::Retire)
            }
            _ => None,
        }
    }
}

/// A transition the scheduler owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueTransition {
    /// Promote the next certificate.
    Activate,
    /// Drop the previous certificate.
    Retire,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(from_days: i64, to_days: i64, now: DateTime<Utc>) -> CertificateInfo {
        CertificateInfo {
            subject: "CN=x".into(),
            issuer: "CN=x".into(),
            serial: "01".into(),
            fingerprint_sha256: "ab".into(),
            not_before: now + Duration::days(from_days),
            not_after: now + Duration::days(to_days),
            key_usage: vec![],
        }
    }

    #[test]
    fn full_rollover() {
        let now = Utc::now();
        let (old, new) = (CertificateId(1), CertificateId(2));
        let record = TrustRecord::with_current(Some(old));
        let next = info(-1, 400, now);
        let scheduled = record
            .schedule(
                (new, &next),
                Some(&info(-300, 60, now)),
                now + Duration::days(1),
                now + Duration::days(8),
                now,
            )
            .unwrap();
        assert_eq!(scheduled.accepted(), vec![old, new]);
        assert_eq!(scheduled.due(now), None);
        assert_eq!(
            scheduled.due(now + Duration::days(1)),
            Some(DueTransition::Activate)
        );
        let activated = scheduled.activate(&next, now + Duration::days(1)).unwrap();
        assert_eq!(activated.current, Some(new));
        assert_eq!(activated.accepted(), vec![new, old]);
        assert_eq!(
            activated.due(now + Duration::days(8)),
            Some(DueTransition::Retire)
        );
        assert_eq!(scheduled.tls_accepted(), vec![old, new]);
        assert_eq!(activated.tls_accepted(), vec![new]);
        let retired = activated.retire().unwrap();
        assert_eq!(retired.accepted(), vec![new]);
        assert!(activated.cancel().unwrap_err().has("state"));
        let cancelled = scheduled.cancel().unwrap();
        assert_eq!((cancelled.current, cancelled.next), (Some(old), None));
        assert_eq!(cancelled.accepted(), vec![old]);
    }

    #[test]
    fn incoherent_dates_are_refused_with_the_field() {
        let now = Utc::now();
        let record = TrustRecord::with_current(Some(CertificateId(1)));
        let short = info(-1, 3, now);
        let errors = record
            .schedule(
                (CertificateId(2), &short),
                None,
                now - Duration::days(1),
                now - Duration::days(2),
                now,
            )
            .unwrap_err();
        assert!(errors.has("activate_at") && errors.has("retire_at"));
        let errors = record
            .schedule(
                (CertificateId(2), &short),
                None,
                now + Duration::days(1),
                now + Duration::days(5),
                now,
            )
            .unwrap_err();
        assert_eq!(
            errors.fields()["certificate_id"],
            vec!["The next certificate must be valid over the whole rollover window"]
        );
        let same = record.schedule(
            (CertificateId(1), &info(-1, 30, now)),
            None,
            now,
            now + Duration::days(1),
            now,
        );
        assert!(same.unwrap_err().has("certificate_id"));
    }

    #[test]
    fn no_retire_before_activation_and_no_activation_without_schedule() {
        let record = TrustRecord::with_current(Some(CertificateId(1)));
        assert!(record.retire().unwrap_err().has("state"));
        let now = Utc::now();
        assert!(
            record
                .activate(&info(-1, 1, now), now)
                .unwrap_err()
                .has("state")
        );
    }
}
