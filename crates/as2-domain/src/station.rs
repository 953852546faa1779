//! Stations: our own AS2 identities, each with the key pair that signs and decrypts.

use chrono::{DateTime, Utc};

use crate::as2_id::check_as2_id;
use crate::endpoint_url::check_endpoint_url;
use crate::id::{CertificateId, StationId, TenantId};
use crate::mode::Mode;
use crate::validation::{ValidationErrors, check_name};

/// What a station is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationSettings {
    /// Display name.
    pub name: String,
    /// Our AS2 identifier (`AS2-To` of inbound messages).
    pub as2_id: String,
    /// Our key pair: signs outbound messages and MDNs, decrypts inbound messages.
    pub certificate_id: Option<CertificateId>,
    /// A separate key pair for decryption, when partners encrypt to another certificate.
    pub encryption_certificate_id: Option<CertificateId>,
    /// Where partners send async MDNs (default: the platform's public AS2 URL).
    pub mdn_url: Option<String>,
    /// The tenant's default station (used when a partner names none).
    pub is_default: bool,
}

impl StationSettings {
    /// Every rule, each broken one reported under its field.
    pub fn validate(&self, mode: Mode) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_name(&mut errors, "name", "name", &self.name, 255);
        check_as2_id(&mut errors, "as2_id", &self.as2_id);
        if let Some(url) = &self.mdn_url {
            check_endpoint_url(&mut errors, "mdn_url", url, mode);
        }
        errors.into_result(())
    }

    /// The key pair that decrypts inbound messages.
    pub fn decryption_certificate(&self) -> Option<CertificateId> {
        self.encryption_certificate_id.or(self.certificate_id)
    }
}

/// A stored station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Station {
    /// `stn_…`.
    pub id: StationId,
    /// Owner.
    pub tenant_id: TenantId,
    /// Test or live.
    pub mode: Mode,
    /// Configuration.
    pub settings: StationSettings,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_each_field() {
        let settings = StationSettings {
            name: String::new(),
            as2_id: "two words".into(),
            certificate_id: None,
            encryption_certificate_id: None,
            mdn_url: Some("http://x.example/as2".into()),
            is_default: true,
        };
        let errors = settings.validate(Mode::Live).unwrap_err();
        assert!(errors.has("name") && errors.has("as2_id") && errors.has("mdn_url"));
        assert!(settings.validate(Mode::Test).unwrap_err().fields().len() == 2);
    }
}
