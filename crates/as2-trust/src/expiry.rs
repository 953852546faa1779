//! The expiry watch: `certificate.expiring` at 30, 14, 7 and 1 days before a certificate
//! expires, each threshold once per certificate whichever process notices first.

use as2_domain::certificate::{Certificate, EXPIRY_WARNING_DAYS};
use as2_domain::webhook::EventType;
use as2_store::{Scope, Store, StoreResult};
use chrono::{DateTime, Utc};

use crate::lifecycle::rfc3339;

/// The tightest threshold `certificate` has crossed at `now` (days), if any.
pub fn threshold(certificate: &Certificate, now: DateTime<Utc>) -> Option<i64> {
    let left = certificate.info.not_after - now;
    if left < chrono::Duration::zero() {
        return None;
    }
    EXPIRY_WARNING_DAYS
        .iter()
        .copied()
        .filter(|days| left <= chrono::Duration::days(*days))
        .min()
}

/// Announces every certificate that crossed a threshold since the last run; returns how
/// many notices went out.
pub fn announce_expiring(store: &Store, now: DateTime<Utc>) -> StoreResult<usize> {
    let widest = EXPIRY_WARNING_DAYS.iter().copied().max().unwrap_or(30);
    // The store selects by its own clock: when `now` is ahead of it, look that much further
    // ahead so that every certificate within `widest` days of `now` is a candidate
    // (`threshold` drops the ones that are not).
    let ahead = (now - Utc::now()).num_days().max(0) + 1;
    let mut sent = 0;
    for certificate in store.certificates().expiring_within(widest + ahead)? {
        let Some(days) = threshold(&certificate, now) else {
            continue;
        };
        let data = serde_json::json!({
            "id": certificate.id.to_string(),
            "name": certificate.name,
            "kind": certificate.kind.as_str(),
            "subject": certificate.info.subject,
            "fingerprint_sha256": certificate.info.fingerprint_sha256,
            "not_after": rfc3339(certificate.info.not_after),
            "days": days,
        });
        let scope = Scope::new(certificate.tenant_id, certificate.mode);
        let announced = store
            .certificates()
            .mark_expiry_notice(certificate.id, days, |tx| {
                tx.webhooks()
                    .publish(
                        scope,
                        EventType::CertificateExpiring,
                        &data.to_string(),
                        None,
                    )
                    .map(|_| ())
            })?;
        if !announced {
            continue;
        }
        sent += 1;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use as2_domain::certificate::{CertificateInfo, CertificateKind};
    use as2_domain::id::{CertificateId, TenantId};

    fn expiring_in(hours: i64, now: DateTime<Utc>) -> Certificate {
        Certificate {
            id: CertificateId(1),
            tenant_id: TenantId(1),
            mode: as2_domain::Mode::Test,
            name: "c".into(),
            kind: CertificateKind::Certificate,
            info: CertificateInfo {
                subject: "CN=c".into(),
                issuer: "CN=c".into(),
                serial: "01".into(),
                fingerprint_sha256: "ab".into(),
                not_before: now - chrono::Duration::days(300),
                not_after: now + chrono::Duration::hours(hours),
                key_usage: vec![],
            },
            created_at: now,
        }
    }

    #[test]
    fn the_tightest_crossed_threshold_is_announced() {
        let now = Utc::now();
        assert_eq!(threshold(&expiring_in(31 * 24, now), now), None);
        assert_eq!(threshold(&expiring_in(30 * 24, now), now), Some(30));
        assert_eq!(threshold(&expiring_in(15 * 24, now), now), Some(30));
        assert_eq!(threshold(&expiring_in(14 * 24 - 1, now), now), Some(14));
        assert_eq!(threshold(&expiring_in(6 * 24, now), now), Some(7));
        assert_eq!(threshold(&expiring_in(3, now), now), Some(1));
        assert_eq!(threshold(&expiring_in(-1, now), now), None);
    }
}
