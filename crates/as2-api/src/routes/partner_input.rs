//! The partner request body and how it applies onto settings (create, PATCH and PUT).

use as2_domain::ValidationErrors;
use as2_domain::algorithms::{
    CompressionOrder, EncryptAlgorithm, KeyTransport, MdnMode, SignAlgorithm, SignatureScheme,
    UnsignedMic,
};
use as2_domain::id::StationId;
use as2_domain::network::IpNetwork;
use as2_domain::partner::PartnerSettings;
use as2_domain::partner_tls::TlsPin;
use serde::Deserialize;
use utoipa::ToSchema;

use super::stations::certificate_field;

/// Body of partner create, update (PATCH: any subset) and replace (PUT).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerInput {
    /// Display name.
    pub name: Option<String>,
    /// The partner's AS2 identifier (1–128 printable ASCII, no spaces).
    pub as2_id: Option<String>,
    /// Their AS2 endpoint (HTTPS in live mode).
    #[serde(alias = "endpoint_url")]
    pub url: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Our station (`stn_…`; default: the tenant's default station).
    pub station_id: Option<String>,
    /// Sign outbound messages.
    pub sign: Option<bool>,
    /// sha1, sha256, sha384, sha512, sha3-256, sha3-384, sha3-512 (the digest of our
    /// signature and of the MIC; SHA-3 per RFC 8702, `micalg=sha3-256`).
    pub sign_algorithm: Option<String>,
    /// Encrypt outbound messages.
    pub encrypt: Option<bool>,
    /// 3des, aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm.
    pub encrypt_algorithm: Option<String>,
    /// Compress outbound messages.
    pub compress: Option<bool>,
    /// pkcs1v15 (default) or pss: how our signature is made with an RSA station key (an
    /// elliptic-curve key signs with ECDSA).
    pub signature_scheme: Option<String>,
    /// rsa-pkcs1v15 (default), rsa-oaep-sha1 or rsa-oaep-sha256: how the content key is
    /// wrapped for their RSA certificate (for an elliptic-curve certificate it is agreed
    /// with ECDH, RFC 5753).
    pub key_transport: Option<String>,
    /// before-signing (default) or after-signing: where compression goes (RFC 5402).
    pub compression_order: Option<String>,
    /// content-only (default, RFC 4130 §7.3.1) or with-headers: what the MIC of a message
    /// neither signed, encrypted nor compressed covers, both in their receipts and in ours
    /// (with-headers for a partner known to hash the MIME headers too).
    pub unsigned_mic: Option<String>,
    /// sync, async, none.
    pub mdn_mode: Option<String>,
    /// Ask for signed MDNs.
    pub mdn_signed: Option<bool>,
    /// Where their async MDNs go.
    pub mdn_url: Option<String>,
    /// Their certificate (`cert_…`).
    pub certificate_id: Option<String>,
    /// Their separate encryption certificate.
    pub encryption_certificate_id: Option<String>,
    /// Use HTTP basic auth towards them.
    pub auth: Option<bool>,
    /// Basic-auth user.
    pub auth_user: Option<String>,
    /// Basic-auth password (write-only: never returned).
    pub auth_password: Option<String>,
    /// Restrict their inbound traffic to `allowed_networks`.
    pub firewall: Option<bool>,
    /// CIDR networks their messages may come from.
    pub allowed_networks: Option<Vec<String>>,
    /// Retries after a failed transmission (0–50).
    pub retry_attempts: Option<i32>,
    /// Base seconds between retries (1–86400).
    pub retry_interval: Option<i32>,
    /// HTTP timeout in seconds (1–3600).
    pub timeout: Option<i32>,
    /// Inactive partners neither send nor receive.
    pub active: Option<bool>,
    /// Refuse their inbound messages unless signed with their certificate (default true).
    pub require_signed: Option<bool>,
    /// Refuse their inbound messages unless encrypted to our station (default true).
    pub require_encrypted: Option<bool>,
    /// PEM certificates of the partner's private CA, trusted for their HTTPS server beside the
    /// public roots (`""` removes the bundle).
    pub tls_ca_bundle: Option<String>,
    /// Trust only `tls_ca_bundle`, not the public roots (default false).
    pub tls_ca_only: Option<bool>,
    /// The SHA-256 of their server key's SubjectPublicKeyInfo (`sha256/<base64>`, bare base64
    /// or 64 hex digits; `""` removes the pin).
    pub tls_pin_sha256: Option<String>,
    /// Our key pair (`cert_…`, with its private key) presented when their server asks for a
    /// client certificate (`""` removes it).
    pub tls_client_certificate_id: Option<String>,
    /// Their TLS client certificate (`cert_…`), which they must present to our AS2 endpoint
    /// (mutual TLS; `""` removes the demand).
    pub tls_inbound_client_certificate_id: Option<String>,
    /// Not a field of the body: whether a create or replace may leave the URL out (seed 000's
    /// `endpoint_url` is optional: a partner that only sends to us; `/v1` requires `url`).
    #[serde(skip)]
    pub url_optional: bool,
}

fn parse_enum<T: std::str::FromStr>(
    value: Option<&str>,
    field: &str,
    allowed: &str,
    errors: &mut ValidationErrors,
) -> Option<T> {
    let value = value?;
    let parsed = value.parse().ok();
    if parsed.is_none() {
        errors.add(
            field,
            format!("The {} must be one of: {allowed}", field.replace('_', " ")),
        );
    }
    parsed
}

impl PartnerInput {
    /// Fields PUT and POST require.
    pub fn require_full(&self, errors: &mut ValidationErrors) {
        if self.name.is_none() {
            errors.add("name", "The name field is required");
        }
        if self.as2_id.is_none() {
            errors.add("as2_id", "The AS2 ID field is required");
        }
        if self.url.is_none() && !self.url_optional {
            errors.add("url", "The URL field is required");
        }
    }

    /// The station named in the body, if any.
    pub fn station(&self, errors: &mut ValidationErrors) -> Option<StationId> {
        let value = self.station_id.as_deref()?;
        let parsed = value.parse().ok();
        if parsed.is_none() {
            errors.add("station_id", "The station id must look like stn_000001");
        }
        parsed
    }

    /// Applies the given fields onto `s`, collecting every bad one.
    pub fn apply(self, mut s: PartnerSettings, errors: &mut ValidationErrors) -> PartnerSettings {
        if let Some(v) = self.station(errors) {
            s.station_id = v;
        }
        if let Some(v) = self.name {
            s.name = v.trim().to_owned();
        }
        if let Some(v) = self.as2_id {
            s.as2_id = v;
        }
        if let Some(v) = self.url {
            // Leaving the URL out is how a partner that only sends to us is made (seed
            // 000); an empty one given is a mistake, said as such.
            if v.trim().is_empty() {
                errors.add("url", "The URL must not be empty");
            }
            s.url = v.trim().to_owned();
        }
        if let Some(v) = self.email {
            s.email = Some(v.trim().to_owned()).filter(|e| !e.is_empty());
        }
        s.sign = self.sign.unwrap_or(s.sign);
        if let Some(v) = parse_enum::<SignAlgorithm>(
            self.sign_algorithm.as_deref(),
            "sign_algorithm",
            "sha1, sha256, sha384, sha512, sha3-256, sha3-384, sha3-512",
            errors,
        ) {
            s.sign_algorithm = v;
        }
        s.encrypt = self.encrypt.unwrap_or(s.encrypt);
        if let Some(v) = parse_enum::<EncryptAlgorithm>(
            self.encrypt_algorithm.as_deref(),
            "encrypt_algorithm",
            "3des, aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm",
            errors,
        ) {
            s.encrypt_algorithm = v;
        }
        s.compress = self.compress.unwrap_or(s.compress);
        if let Some(v) = parse_enum::<SignatureScheme>(
            self.signature_scheme.as_deref(),
            "signature_scheme",
            "pkcs1v15, pss",
            errors,
        ) {
            s.signature_scheme = v;
        }
        if let Some(v) = parse_enum::<KeyTransport>(
            self.key_transport.as_deref(),
            "key_transport",
            "rsa-pkcs1v15, rsa-oaep-sha1, rsa-oaep-sha256",
            errors,
        ) {
            s.key_transport = v;
        }
        if let Some(v) = parse_enum::<CompressionOrder>(
            self.compression_order.as_deref(),
            "compression_order",
            "before-signing, after-signing",
            errors,
        ) {
            s.compression_order = v;
        }
        if let Some(v) = parse_enum::<UnsignedMic>(
            self.unsigned_mic.as_deref(),
            "unsigned_mic",
            "content-only, with-headers",
            errors,
        ) {
            s.unsigned_mic = v;
        }
        if let Some(v) = parse_enum::<MdnMode>(
            self.mdn_mode.as_deref(),
            "mdn_mode",
            "sync, async, none",
            errors,
        ) {
            s.mdn_mode = v;
        }
        s.mdn_signed = self.mdn_signed.unwrap_or(s.mdn_signed);
        if let Some(v) = self.mdn_url {
            s.mdn_url = Some(v).filter(|u| !u.is_empty());
        }
        if self.certificate_id.is_some() {
            s.certificate_id =
                certificate_field(self.certificate_id.as_deref(), "certificate_id", errors);
        }
        if self.encryption_certificate_id.is_some() {
            s.encryption_certificate_id = certificate_field(
                self.encryption_certificate_id.as_deref(),
                "encryption_certificate_id",
                errors,
            );
        }
        s.auth = self.auth.unwrap_or(s.auth);
        if let Some(v) = self.auth_user {
            s.auth_user = Some(v).filter(|u| !u.is_empty());
        }
        s.firewall = self.firewall.unwrap_or(s.firewall);
        if let Some(list) = self.allowed_networks {
            let mut networks = Vec::with_capacity(list.len());
            for item in &list {
                match item.parse::<IpNetwork>() {
                    Ok(n) => networks.push(n),
                    Err(e) => errors.add("allowed_networks", format!("{e}")),
                }
            }
            s.allowed_networks = networks;
        }
        s.retry_attempts = self.retry_attempts.unwrap_or(s.retry_attempts);
        s.retry_interval_secs = self.retry_interval.unwrap_or(s.retry_interval_secs);
        s.timeout_secs = self.timeout.unwrap_or(s.timeout_secs);
        s.active = self.active.unwrap_or(s.active);
        s.require_signed = self.require_signed.unwrap_or(s.require_signed);
        s.require_encrypted = self.require_encrypted.unwrap_or(s.require_encrypted);
        if let Some(v) = self.tls_ca_bundle {
            s.tls.ca_bundle = Some(v).filter(|b| !b.trim().is_empty());
            if let Some(bundle) = &s.tls.ca_bundle {
                check_ca_bundle(bundle, errors);
            }
        }
        s.tls.ca_only = self.tls_ca_only.unwrap_or(s.tls.ca_only);
        if let Some(v) = self.tls_pin_sha256 {
            s.tls.pin_sha256 = None;
            if !v.trim().is_empty() {
                match v.parse::<TlsPin>() {
                    Ok(pin) => s.tls.pin_sha256 = Some(pin),
                    Err(e) => errors.add("tls_pin_sha256", e.to_string()),
                }
            }
        }
        if let Some(v) = self.tls_client_certificate_id {
            s.tls.client_certificate_id = if v.is_empty() {
                None
            } else {
                certificate_field(Some(&v), "tls_client_certificate_id", errors)
            };
        }
        if let Some(v) = self.tls_inbound_client_certificate_id {
            s.tls_inbound_client_certificate_id = if v.is_empty() {
                None
            } else {
                certificate_field(Some(&v), "tls_inbound_client_certificate_id", errors)
            };
        }
        s
    }
}

/// Every certificate of a CA bundle must parse as X.509 (the domain checks the shape).
fn check_ca_bundle(bundle: &str, errors: &mut ValidationErrors) {
    if !bundle.contains("-----BEGIN CERTIFICATE-----") {
        return; // said by the domain's rule
    }
    match as2_core::cert::Certificate::load_all(bundle.as_bytes()) {
        Ok(certs) if !certs.is_empty() => {}
        Ok(_) => errors.add(
            "tls_ca_bundle",
            "The TLS CA bundle must contain at least one PEM certificate",
        ),
        Err(e) => errors.add(
            "tls_ca_bundle",
            format!("The TLS CA bundle does not parse: {e}"),
        ),
    }
}
