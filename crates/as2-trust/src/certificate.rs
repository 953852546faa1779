//! What the platform records about a certificate when it stores one (an upload, a generated
//! key pair, or a certificate a partner offered over CEM).

use std::time::SystemTime;

use as2_core::cert::Certificate;
use as2_domain::certificate::CertificateInfo;
use chrono::{DateTime, Utc};
use x509_cert::ext::pkix::KeyUsage;

/// The metadata of a certificate as stored and shown.
pub fn info(cert: &Certificate) -> CertificateInfo {
    let time = |t: SystemTime| DateTime::<Utc>::from(t);
    CertificateInfo {
        subject: cert.subject(),
        issuer: cert.issuer(),
        serial: cert.serial_hex(),
        fingerprint_sha256: hex::encode(cert.fingerprint_sha256()),
        not_before: time(cert.not_before()),
        not_after: time(cert.not_after()),
        key_usage: key_usage(cert),
    }
}

/// The key usages a certificate names (empty when it has no key-usage extension).
pub fn key_usage(cert: &Certificate) -> Vec<String> {
    let Ok(Some((_, usage))) = cert.x509().tbs_certificate().get_extension::<KeyUsage>() else {
        return Vec::new();
    };
    [
        (usage.digital_signature(), "digitalSignature"),
        (usage.non_repudiation(), "nonRepudiation"),
        (usage.key_encipherment(), "keyEncipherment"),
        (usage.data_encipherment(), "dataEncipherment"),
        (usage.key_agreement(), "keyAgreement"),
        (usage.key_cert_sign(), "keyCertSign"),
        (usage.crl_sign(), "cRLSign"),
        (usage.encipher_only(), "encipherOnly"),
        (usage.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| name.to_owned())
    .collect()
}

/// The TLS pin of a certificate's key: the SHA-256 of its DER SubjectPublicKeyInfo.
pub fn tls_pin(cert: &Certificate) -> Option<as2_domain::partner_tls::TlsPin> {
    use x509_cert::der::Encode as _;
    let spki = cert
        .x509()
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .ok()?;
    Some(as2_domain::partner_tls::TlsPin(as2_evidence::sha256(&spki)))
}

/// Whether a certificate can anchor a CA bundle: a CA (basic constraints `cA`) or
/// self-signed (its subject is its issuer), as opposed to a leaf a CA issued.
pub fn is_trust_anchor(cert: &Certificate) -> bool {
    use x509_cert::ext::pkix::BasicConstraints;
    let ca = matches!(
        cert.x509()
            .tbs_certificate()
            .get_extension::<BasicConstraints>(),
        Ok(Some((_, constraints))) if constraints.ca
    );
    ca || cert.subject() == cert.issuer()
}
