//! Trading partners: who we exchange messages with, and how (every field of both seeds).

use chrono::{DateTime, Utc};

use crate::algorithms::{
    CompressionOrder, EncryptAlgorithm, KeyTransport, MdnMode, SignAlgorithm, SignatureScheme,
    UnsignedMic,
};
use crate::as2_id::check_as2_id;
use crate::destination::DestinationPolicy;
use crate::endpoint_url::{check_destination, check_endpoint_url};
use crate::id::{CertificateId, PartnerId, StationId, TenantId};
use crate::mode::Mode;
use crate::network::IpNetwork;
use crate::partner_tls::PartnerTls;
use crate::validation::{ValidationErrors, check_email, check_name};

/// Most retries of a failed transmission a partner can be configured with.
pub const MAX_RETRY_ATTEMPTS: i32 = 50;
/// Longest base interval between retries (one day), in seconds.
pub const MAX_RETRY_INTERVAL_SECS: i32 = 86_400;
/// Longest HTTP timeout of one transmission, in seconds.
pub const MAX_TIMEOUT_SECS: i32 = 3_600;

/// Everything a partner is configured with (what PUT replaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSettings {
    /// Display name.
    pub name: String,
    /// The partner's AS2 identifier (their `AS2-From`, our `AS2-To` to them).
    pub as2_id: String,
    /// Their AS2 endpoint.
    pub url: String,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Our station (AS2 identity) that talks to them.
    pub station_id: StationId,
    /// Sign outbound messages.
    pub sign: bool,
    /// Digest of our signature and of the MIC we ask for.
    pub sign_algorithm: SignAlgorithm,
    /// Encrypt outbound messages.
    pub encrypt: bool,
    /// Content encryption algorithm.
    pub encrypt_algorithm: EncryptAlgorithm,
    /// Compress outbound messages (zlib CompressedData).
    pub compress: bool,
    /// How our signature is made (PKCS#1 v1.5 or PSS).
    pub signature_scheme: SignatureScheme,
    /// How the content key is wrapped for their certificate (PKCS#1 v1.5 or OAEP).
    pub key_transport: KeyTransport,
    /// Compression before or after signing, when both are on.
    pub compression_order: CompressionOrder,
    /// What the MIC of a plain message covers, both ways (the RFC's content alone unless
    /// the partner is known to hash the headers too).
    pub unsigned_mic: UnsignedMic,
    /// How we ask for receipts.
    pub mdn_mode: MdnMode,
    /// Ask for signed receipts.
    pub mdn_signed: bool,
    /// Where their async MDNs go (default: the station's MDN URL).
    pub mdn_url: Option<String>,
    /// Their certificate: verifies their signatures, encrypts to them.
    pub certificate_id: Option<CertificateId>,
    /// A separate encryption certificate when they use one.
    pub encryption_certificate_id: Option<CertificateId>,
    /// Use HTTP basic authentication when posting to them.
    pub auth: bool,
    /// The basic-auth user (the password is write-only, stored encrypted).
    pub auth_user: Option<String>,
    /// Only accept their inbound traffic from `allowed_networks`.
    pub firewall: bool,
    /// Source networks their messages may come from.
    pub allowed_networks: Vec<IpNetwork>,
    /// Retries after a failed transmission.
    pub retry_attempts: i32,
    /// Base interval between retries, doubled each time, in seconds.
    pub retry_interval_secs: i32,
    /// HTTP timeout of one transmission, in seconds.
    pub timeout_secs: i32,
    /// Inactive partners neither send nor receive.
    pub active: bool,
    /// Refuse their inbound messages unless signed with a certificate we trust for them
    /// (`insufficient-message-security`); on by default.
    pub require_signed: bool,
    /// Refuse their inbound messages unless encrypted to our station; on by default.
    pub require_encrypted: bool,
    /// The TLS of our requests to them (private CA, pinned key, client certificate).
    pub tls: PartnerTls,
    /// The TLS client certificate they must present to our AS2 listener (mutual TLS); a
    /// request without it, or with another, is refused with 403 before its body is read.
    pub tls_inbound_client_certificate_id: Option<CertificateId>,
}

impl PartnerSettings {
    /// Defaults for the optional fields: signed and encrypted (sha256, aes256-cbc), signed sync MDN.
    pub fn new(name: String, as2_id: String, url: String, station_id: StationId) -> Self {
        Self {
            name,
            as2_id,
            url,
            email: None,
            station_id,
            sign: true,
            sign_algorithm: SignAlgorithm::Sha256,
            encrypt: true,
            encrypt_algorithm: EncryptAlgorithm::Aes256Cbc,
            compress: false,
            signature_scheme: SignatureScheme::Pkcs1v15,
            key_transport: KeyTransport::RsaPkcs1v15,
            compression_order: CompressionOrder::BeforeSigning,
            unsigned_mic: UnsignedMic::ContentOnly,
            mdn_mode: MdnMode::Sync,
            mdn_signed: true,
            mdn_url: None,
            certificate_id: None,
            encryption_certificate_id: None,
            auth: false,
            auth_user: None,
            firewall: false,
            allowed_networks: Vec::new(),
            retry_attempts: 5,
            retry_interval_secs: 60,
            timeout_secs: 60,
            active: true,
            require_signed: true,
            require_encrypted: true,
            tls: PartnerTls::default(),
            tls_inbound_client_certificate_id: None,
        }
    }

    /// Every rule, each broken one reported under its field.
    ///
    /// `has_auth_password` says whether a password is stored or given: basic auth needs one.
    pub fn validate(&self, mode: Mode, has_auth_password: bool) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_name(&mut errors, "name", "name", &self.name, 255);
        check_as2_id(&mut errors, "as2_id", &self.as2_id);
        // No URL is a partner that only sends to us (seed 000's `endpoint_url` is optional):
        // valid, but not ready to send (`missing_for_sending`).
        if !self.url.is_empty() {
            check_endpoint_url(&mut errors, "url", &self.url, mode);
        }
        if let Some(email) = &self.email {
            check_email(&mut errors, "email", email);
        }
        if let Some(mdn_url) = &self.mdn_url {
            check_endpoint_url(&mut errors, "mdn_url", mdn_url, mode);
        }
        if self.auth {
            match &self.auth_user {
                Some(user) if !user.is_empty() => {
                    if user.contains(':') || user.chars().any(char::is_control) {
                        errors.add("auth_user", "The authentication user must not contain a colon or control characters");
                    }
                }
                _ => errors.add(
                    "auth_user",
                    "The authentication user is required when auth is enabled",
                ),
            }
            if !has_auth_password {
                errors.add(
                    "auth_password",
                    "The authentication password is required when auth is enabled",
                );
            }
        }
        if self.firewall && self.allowed_networks.is_empty() {
            errors.add(
                "allowed_networks",
                "At least one allowed network is required when the firewall is enabled",
            );
        }
        if !(0..=MAX_RETRY_ATTEMPTS).contains(&self.retry_attempts) {
            errors.add(
                "retry_attempts",
                format!("The retry attempts must be between 0 and {MAX_RETRY_ATTEMPTS}"),
            );
        }
        if !(1..=MAX_RETRY_INTERVAL_SECS).contains(&self.retry_interval_secs) {
            errors.add(
                "retry_interval",
                format!(
                    "The retry interval must be between 1 and {MAX_RETRY_INTERVAL_SECS} seconds"
                ),
            );
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.timeout_secs) {
            errors.add(
                "timeout",
                format!("The timeout must be between 1 and {MAX_TIMEOUT_SECS} seconds"),
            );
        }
        self.tls.validate(&mut errors);
        errors.into_result(())
    }

    /// Whether `url` and `mdn_url`, when their host is an IP address, name one `policy`
    /// permits (host names are judged when they are resolved, at connect time).
    pub fn check_destinations(&self, policy: &DestinationPolicy) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_destination(&mut errors, "url", &self.url, policy);
        if let Some(mdn_url) = &self.mdn_url {
            check_destination(&mut errors, "mdn_url", mdn_url, policy);
        }
        errors.into_result(())
    }

    /// What the partner still lacks before we can send to it, each under its field: a
    /// partner may be created before its certificate arrives (seed 002's own example), or
    /// without a URL when it only sends to us (seed 000), and is shown as not ready, and
    /// refused as a message's partner, until it has them.
    pub fn missing_for_sending(&self) -> ValidationErrors {
        let mut missing = ValidationErrors::new();
        if self.url.is_empty() {
            missing.add("url", "Sending needs the partner's AS2 URL");
        }
        if self.encrypt && self.encryption_certificate().is_none() {
            missing.add(
                "certificate_id",
                "Encryption needs the partner's certificate",
            );
        }
        missing
    }

    /// The certificate that encrypts to this partner.
    pub fn encryption_certificate(&self) -> Option<CertificateId> {
        self.encryption_certificate_id.or(self.certificate_id)
    }
}

/// A stored partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// `prt_…`.
    pub id: PartnerId,
    /// Owner.
    pub tenant_id: TenantId,
    /// Test or live.
    pub mode: Mode,
    /// Configuration.
    pub settings: PartnerSettings,
    /// Whether a basic-auth password is stored (it is never read back out).
    pub has_auth_password: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> PartnerSettings {
        let mut settings = PartnerSettings::new(
            "Primary Customer".into(),
            "AS2:CLIENTE_001".into(),
            "https://cliente.com/as2".into(),
            StationId(62),
        );
        settings.certificate_id = Some(CertificateId(129));
        settings
    }

    #[test]
    fn a_complete_partner_is_valid_in_both_modes() {
        assert_eq!(valid().validate(Mode::Live, false), Ok(()));
        assert_eq!(valid().validate(Mode::Test, false), Ok(()));
    }

    #[test]
    fn every_broken_field_is_named() {
        let mut p = valid();
        p.name = String::new();
        p.as2_id = "has space".into();
        p.url = "http://cliente.com/as2".into();
        p.email = Some("nope".into());
        p.certificate_id = None;
        p.auth = true;
        p.firewall = true;
        p.retry_attempts = -1;
        p.retry_interval_secs = 0;
        p.timeout_secs = 100_000;
        let errors = p.validate(Mode::Live, false).unwrap_err();
        for field in [
            "name",
            "as2_id",
            "url",
            "email",
            "auth_user",
            "auth_password",
            "allowed_networks",
            "retry_attempts",
            "retry_interval",
            "timeout",
        ] {
            assert!(errors.has(field), "{field} not reported: {errors}");
        }
        assert_eq!(
            errors.fields()["url"],
            vec!["The URL must be a valid HTTPS endpoint"]
        );
    }

    #[test]
    fn a_partner_without_its_certificate_is_valid_but_not_ready_to_send() {
        let mut p = valid();
        p.certificate_id = None;
        p.encryption_certificate_id = None;
        assert_eq!(p.validate(Mode::Live, false), Ok(()));
        let missing = p.missing_for_sending();
        assert_eq!(
            missing.fields()["certificate_id"],
            vec!["Encryption needs the partner's certificate"]
        );
        p.encrypt = false;
        assert!(p.missing_for_sending().is_empty());
        p.encrypt = true;
        p.encryption_certificate_id = Some(CertificateId(7));
        assert!(p.missing_for_sending().is_empty());
    }

    #[test]
    fn a_partner_without_a_url_only_sends_to_us() {
        let mut p = valid();
        p.url = String::new();
        assert_eq!(p.validate(Mode::Live, false), Ok(()));
        assert_eq!(
            p.missing_for_sending().fields()["url"],
            vec!["Sending needs the partner's AS2 URL"]
        );
        assert!(p.check_destinations(&DestinationPolicy::default()).is_ok());
    }

    #[test]
    fn plain_http_is_fine_in_test_mode_and_unencrypted_needs_no_certificate() {
        let mut p = valid();
        p.url = "http://127.0.0.1:8081/as2/receive".into();
        p.encrypt = false;
        p.certificate_id = None;
        assert_eq!(p.validate(Mode::Test, false), Ok(()));
    }
}
