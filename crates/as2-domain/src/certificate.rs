//! Certificates and key pairs as the platform keeps them: metadata, usage and validity.

use chrono::{DateTime, Utc};

use crate::id::{CertificateId, TenantId};
use crate::mode::Mode;
use crate::named_enum;

named_enum!(
    /// A partner's public certificate, or one of our key pairs.
    CertificateKind, "certificate kind" {
        /// A public certificate (a partner's, or a CA).
        Certificate => "certificate",
        /// A certificate with its private key (ours).
        KeyPair => "key_pair",
    }
);

/// The metadata read from a certificate when it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Distinguished name of the subject (RFC 4514 text).
    pub subject: String,
    /// Distinguished name of the issuer.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// SHA-256 of the DER, lowercase hex.
    pub fingerprint_sha256: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// Key usages named by the certificate (`digitalSignature`, `keyEncipherment`, ...).
    pub key_usage: Vec<String>,
}

impl CertificateInfo {
    /// Whether `at` lies inside the validity period.
    pub fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// Whether the whole window `[from, to]` lies inside the validity period.
    pub fn covers(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.not_before <= from && to <= self.not_after
    }

    /// Whole days left before expiry at `now` (negative once expired).
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        (self.not_after - now).num_days()
    }
}

/// A stored certificate (the private key, if any, stays in the store, encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// `cert_…`.
    pub id: CertificateId,
    /// Owner.
    pub tenant_id: TenantId,
    /// Test or live.
    pub mode: Mode,
    /// Display name.
    pub name: String,
    /// Certificate or key pair.
    pub kind: CertificateKind,
    /// What the certificate says.
    pub info: CertificateInfo,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Days before expiry at which `certificate.expiring` is announced.
pub const EXPIRY_WARNING_DAYS: [i64; 4] = [30, 14, 7, 1];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn validity_checks() {
        let now = Utc::now();
        let info = CertificateInfo {
            subject: "CN=a".into(),
            issuer: "CN=a".into(),
            serial: "01".into(),
            fingerprint_sha256: "00".into(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(10),
            key_usage: vec![],
        };
        assert!(info.is_valid_at(now));
        assert!(!info.is_valid_at(now + Duration::days(11)));
        assert!(info.covers(now, now + Duration::days(9)));
        assert!(!info.covers(now - Duration::days(2), now));
        assert_eq!(info.days_left(now), 10);
    }
}
