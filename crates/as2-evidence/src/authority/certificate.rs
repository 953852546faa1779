//! A self-signed TSA certificate: extendedKeyUsage id-kp-timeStamping only, critical (RFC
//! 3161 §2.3; `openssl ts -verify` checks both), keyUsage digitalSignature and
//! nonRepudiation. Built by hand like as2-core's `cert::generate_self_signed` (the
//! x509-cert builder wants a `signature::Signer`, the key here is a `PrivateKeyOps`).

use std::time::{Duration, SystemTime};

use as2_core::cert::Certificate;
use as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
use as2_core::crypto::{DigestAlgorithm, PrivateKeyOps, SignatureScheme};
use der::asn1::{Any, BitString, OctetString};
use der::{Decode as _, Encode as _};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::error::{Error, Result};
use crate::oids::ID_KP_TIME_STAMPING;

/// A TBSCertificate we can build (x509-cert's fields are private).
#[derive(Clone, Debug, der::Sequence)]
struct Tbs {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

#[derive(Clone, Debug, der::Sequence)]
struct RawCert {
    tbs: Tbs,
    alg: AlgorithmIdentifierOwned,
    signature: BitString,
}

#[derive(Clone, Debug, der::Sequence)]
struct RawValidity {
    not_before: Time,
    not_after: Time,
}

fn extension(
    oid: der::asn1::ObjectIdentifier,
    critical: bool,
    value: &impl der::Encode,
) -> Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// Generate a self-signed time-stamping certificate for an RSA key, signed with SHA-256
/// and valid from `not_before` for `valid_for`. `subject` is an RFC 4514 name such as
/// `CN=Acme TSA,O=Acme`.
///
/// # Errors
/// An invalid name, or a failure of the key.
pub fn generate_tsa_certificate(
    key: &dyn PrivateKeyOps,
    subject: &str,
    not_before: SystemTime,
    valid_for: Duration,
) -> Result<Certificate> {
    let name: Name = subject
        .parse()
        .map_err(|e| Error::InvalidArgument(format!("subject name {subject:?}: {e}")))?;
    let public = key.public_key();
    let rsa_public = public
        .as_rsa()
        .ok_or_else(|| Error::InvalidArgument("the TSA key must be an RSA key".into()))?;
    let spki_der = as2_core::keys::public_key_der(rsa_public)?;
    let spki = SubjectPublicKeyInfoOwned::from_der(&spki_der)?;
    let mut serial = DEFAULT_PROVIDER.random_bytes(16)?;
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    let not_after = not_before
        .checked_add(valid_for)
        .ok_or_else(|| Error::InvalidArgument("validity period out of range".into()))?;
    let validity = Validity::from_der(
        &RawValidity {
            not_before: Time::try_from(not_before)?,
            not_after: Time::try_from(not_after)?,
        }
        .to_der()?,
    )?;
    let ski = DigestAlgorithm::Sha1.digest(spki.subject_public_key.raw_bytes());
    let extensions = vec![
        extension(
            const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &OctetString::new(ski)?,
        )?,
        // digitalSignature and nonRepudiation: 03 02 06 c0
        extension(
            const_oid::db::rfc5280::ID_CE_KEY_USAGE,
            true,
            &BitString::new(6, vec![0xc0])?,
        )?,
        extension(
            const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE,
            true,
            &ExtendedKeyUsage(vec![ID_KP_TIME_STAMPING]),
        )?,
    ];
    let alg = AlgorithmIdentifierOwned {
        oid: DigestAlgorithm::Sha256.rsa_signature_oid(),
        parameters: Some(Any::null()),
    };
    let tbs = Tbs {
        version: 2,
        serial: SerialNumber::new(&serial)?,
        signature: alg.clone(),
        issuer: name.clone(),
        validity,
        subject: name,
        spki,
        extensions,
    };
    let signature = key.sign(
        SignatureScheme::Pkcs1v15,
        DigestAlgorithm::Sha256,
        &tbs.to_der()?,
        DEFAULT_PROVIDER.secure_random,
    )?;
    let raw = RawCert {
        tbs,
        alg,
        signature: BitString::from_bytes(&signature)?,
    };
    Ok(Certificate::from_der(&raw.to_der()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{test_key, tsa_certificate};

    #[test]
    fn tsa_certificate_has_the_critical_time_stamping_eku() {
        let cert = tsa_certificate();
        assert_eq!(cert.subject(), cert.issuer());
        assert!(cert.subject().contains("CN=as2-evidence test TSA"));
        assert!(cert.is_valid_at(SystemTime::now()));
        assert_eq!(cert.public_key().unwrap(), test_key().to_public_key());
        crate::verify::check_tsa_certificate(cert, SystemTime::now()).unwrap();
    }

    #[test]
    fn bad_subject_is_an_error() {
        let err = generate_tsa_certificate(
            test_key(),
            "not a name",
            SystemTime::now(),
            Duration::from_secs(60),
        );
        assert!(err.is_err());
    }
}
