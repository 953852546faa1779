//! X.509 certificates: loading (PEM leniently, DER, chains), the facts an operator needs
//! (SHA-256 fingerprint, validity, subject, issuer, serial), and self-signed generation.

use std::time::{Duration, SystemTime};

use der::asn1::{BitString, OctetString};
use der::{Decode as _, Encode as _};
use rsa::traits::PublicKeyParts as _;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use crate::crypto::{CryptoProvider, DigestAlgorithm, PrivateKeyOps, PublicKey, SignatureScheme};
use crate::error::{Error, Result};
use crate::pem;

/// An X.509 certificate with its DER encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    inner: x509_cert::Certificate,
    der: Vec<u8>,
}

impl Certificate {
    /// From DER (BER accepted).
    ///
    /// # Errors
    /// Not a certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let inner = x509_cert::Certificate::from_der(der)
            .or_else(|_| x509_cert::Certificate::from_ber(der))
            .map_err(|e| Error::Key(format!("certificate: {e}")))?;
        let der = inner.to_der()?;
        Ok(Self { inner, der })
    }

    /// From an x509-cert certificate.
    ///
    /// # Errors
    /// Encoding failure.
    pub fn from_x509(inner: x509_cert::Certificate) -> Result<Self> {
        let der = inner.to_der()?;
        Ok(Self { inner, der })
    }

    /// The first certificate in PEM or DER data.
    ///
    /// # Errors
    /// No certificate found.
    pub fn load(data: &[u8]) -> Result<Self> {
        Self::load_all(data)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Key("no certificate found".into()))
    }

    /// Every certificate in PEM data (a chain), or the single one in DER data.
    ///
    /// # Errors
    /// Malformed data.
    pub fn load_all(data: &[u8]) -> Result<Vec<Self>> {
        if pem::is_pem(data) {
            pem::parse_all(data)?
                .into_iter()
                .filter(|b| {
                    b.label == "CERTIFICATE"
                        || b.label == "X509 CERTIFICATE"
                        || b.label == "TRUSTED CERTIFICATE"
                })
                .map(|b| Self::from_der(&b.der))
                .collect()
        } else {
            Ok(vec![Self::from_der(data)?])
        }
    }

    /// The parsed certificate.
    #[must_use]
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.inner
    }

    /// DER encoding.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM encoding (64-column lines).
    #[must_use]
    pub fn to_pem(&self) -> String {
        let b64 = crate::mime::encoding::encode_base64(&self.der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// SHA-256 over the DER encoding.
    #[must_use]
    pub fn fingerprint_sha256(&self) -> Vec<u8> {
        DigestAlgorithm::Sha256.digest(&self.der)
    }

    /// SHA-256 fingerprint as upper-case hex pairs separated by colons.
    #[must_use]
    pub fn fingerprint_sha256_hex(&self) -> String {
        hex_colon(&self.fingerprint_sha256())
    }

    /// Subject as an RFC 4514 string.
    #[must_use]
    pub fn subject(&self) -> String {
        self.inner.tbs_certificate().subject().to_string()
    }

    /// Issuer as an RFC 4514 string.
    #[must_use]
    pub fn issuer(&self) -> String {
        self.inner.tbs_certificate().issuer().to_string()
    }

    /// The serial number's bytes in lower-case hex.
    #[must_use]
    pub fn serial_hex(&self) -> String {
        self.inner
            .tbs_certificate()
            .serial_number()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Start of validity.
    #[must_use]
    pub fn not_before(&self) -> SystemTime {
        self.inner
            .tbs_certificate()
            .validity()
            .not_before
            .to_system_time()
    }

    /// End of validity.
    #[must_use]
    pub fn not_after(&self) -> SystemTime {
        self.inner
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time()
    }

    /// Whether `at` is within the validity period.
    #[must_use]
    pub fn is_valid_at(&self, at: SystemTime) -> bool {
        at >= self.not_before() && at <= self.not_after()
    }

    /// The RSA public key.
    ///
    /// # Errors
    /// Not an RSA key.
    pub fn public_key(&self) -> Result<rsa::PublicKey> {
        let spki = self.inner.tbs_certificate().subject_public_key_info();
        let der = spki.to_der()?;
        <rsa::PublicKey as pkcs8::DecodePublicKey>::from_public_key_der(&der)
            .map_err(|e| Error::Key(format!("certificate public key: {e}")))
    }

    /// The DER SubjectPublicKeyInfo: what a [`crate::crypto::SignatureVerifier`] takes.
    ///
    /// # Errors
    /// Encoding failure.
    pub fn subject_public_key_der(&self) -> Result<Vec<u8>> {
        Ok(self
            .inner
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()?)
    }

    /// The public key, RSA or elliptic-curve (P-256, P-384).
    ///
    /// # Errors
    /// Another kind of key.
    pub fn subject_public_key(&self) -> Result<PublicKey> {
        let spki = self.inner.tbs_certificate().subject_public_key_info();
        PublicKey::from_spki_der(&spki.to_der()?)
    }

    /// The subjectKeyIdentifier extension value, if present.
    #[must_use]
    pub fn subject_key_id(&self) -> Option<Vec<u8>> {
        self.inner
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .map(|(_, ski)| ski.0.as_bytes().to_vec())
    }

    /// Whether issuer and serial equal the given ones (CMS IssuerAndSerialNumber).
    #[must_use]
    pub fn matches_issuer_serial(&self, issuer: &Name, serial: &SerialNumber) -> bool {
        let tbs = self.inner.tbs_certificate();
        tbs.issuer() == issuer && tbs.serial_number().as_bytes() == serial.as_bytes()
    }
}

/// Bytes as `AB:CD:...`.
#[must_use]
pub fn hex_colon(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A TBSCertificate we can build ourselves (x509-cert's fields are private).
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

/// Generate a self-signed certificate for an RSA key, signed with SHA-256, valid from an
/// hour before `now` until `valid_for` after it; its serial number and the signature's
/// randomness come from `provider`. `subject` is an RFC 4514 name such as
/// `CN=acme,O=Acme`.
///
/// # Errors
/// An invalid name, or a signing failure.
pub fn generate_self_signed(
    provider: &CryptoProvider,
    key: &rsa::PrivateKey,
    subject: &str,
    now: SystemTime,
    valid_for: Duration,
) -> Result<Certificate> {
    generate_self_signed_for(provider, key, subject, now, valid_for)
}

/// [`generate_self_signed`] for any key behind [`PrivateKeyOps`]: RSA (SHA-256 with
/// RSA, key usage for signing and key encipherment) or elliptic-curve (`ecdsa-with-SHA256`
/// on P-256, `ecdsa-with-SHA384` on P-384, key usage for signing and key agreement).
///
/// # Errors
/// An invalid name, or a signing failure.
pub fn generate_self_signed_for(
    provider: &CryptoProvider,
    key: &dyn PrivateKeyOps,
    subject: &str,
    now: SystemTime,
    valid_for: Duration,
) -> Result<Certificate> {
    let name: Name = subject
        .parse()
        .map_err(|e| Error::Key(format!("subject name {subject:?}: {e}")))?;
    let public = key.public_key();
    let spki = SubjectPublicKeyInfoOwned::from_der(&public.to_spki_der()?)?;
    let mut serial_bytes = provider.random_bytes(16)?;
    serial_bytes[0] &= 0x7f;
    serial_bytes[0] |= 0x01;
    let serial = SerialNumber::new(&serial_bytes)?;
    let start = now.checked_sub(Duration::from_secs(3600)).unwrap_or(now);
    let not_before = x509_cert::time::Time::try_from(start)?;
    let not_after = x509_cert::time::Time::try_from(now + valid_for)?;
    let validity = Validity::<x509_cert::certificate::Rfc5280>::from_der(
        &ValidityRaw {
            not_before,
            not_after,
        }
        .to_der()?,
    )?;
    // RSA: the SHA-1 of the modulus (what this codec always wrote); EC: of the point
    let (ski, key_usage) = match &public {
        // digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment
        PublicKey::Rsa(k) => (
            DigestAlgorithm::Sha1.digest(&k.n_bytes()),
            BitString::new(4, vec![0xf0])?,
        ),
        // digitalSignature, nonRepudiation, keyAgreement
        _ => (
            DigestAlgorithm::Sha1.digest(spki.subject_public_key.raw_bytes()),
            BitString::new(3, vec![0xc8])?,
        ),
    };
    let digest = match &public {
        PublicKey::Ec(k) if k.curve() == crate::crypto::EcCurve::P384 => DigestAlgorithm::Sha384,
        _ => DigestAlgorithm::Sha256,
    };
    let extensions = vec![
        Extension {
            extn_id: const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            critical: false,
            extn_value: OctetString::new(OctetString::new(ski)?.to_der()?)?,
        },
        Extension {
            extn_id: const_oid::db::rfc5280::ID_CE_KEY_USAGE,
            critical: true,
            extn_value: OctetString::new(key_usage.to_der()?)?,
        },
    ];
    let scheme = public.signature_scheme(SignatureScheme::Pkcs1v15);
    let alg = AlgorithmIdentifierOwned {
        oid: public.certificate_signature_oid(digest)?,
        parameters: scheme.algorithm_identifier(digest)?.parameters,
    };
    let tbs = Tbs {
        version: 2,
        serial,
        signature: alg.clone(),
        issuer: name.clone(),
        validity,
        subject: name,
        spki,
        extensions,
    };
    let tbs_der = tbs.to_der()?;
    let sig = key.sign(scheme, digest, &tbs_der, provider.secure_random)?;
    let raw = RawCert {
        tbs,
        alg,
        signature: BitString::from_bytes(&sig)?,
    };
    Certificate::from_der(&raw.to_der()?)
}

#[derive(Clone, Debug, der::Sequence)]
struct ValidityRaw {
    not_before: x509_cert::time::Time,
    not_after: x509_cert::time::Time,
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    #[test]
    fn self_signed() {
        let key = crate::crypto::test_key();
        let cert = generate_self_signed(
            crate::testutil::P,
            key,
            "CN=as2 test,O=Example",
            crate::testutil::now(),
            Duration::from_secs(86400 * 365),
        )
        .unwrap();
        assert_eq!(cert.subject(), cert.issuer());
        assert!(cert.subject().contains("CN=as2 test"));
        assert!(cert.is_valid_at(SystemTime::now()));
        assert_eq!(cert.public_key().unwrap(), key.to_public_key());
        assert_eq!(cert.subject_key_id().unwrap().len(), 20);
        assert_eq!(cert.fingerprint_sha256_hex().len(), 32 * 3 - 1);
        let again = Certificate::load(cert.to_pem().as_bytes()).unwrap();
        assert_eq!(again, cert);
    }

    #[test]
    fn load_vectors() {
        let Some(dir) = crate::testutil::vectors() else {
            return;
        };
        for f in [
            "cert_mecas2_public.pem",
            "cert_test_public.pem",
            "cert_sb2bi_public.pem",
            "cert_oldpyas2_public.pem",
            "cert_extract_public.cer",
        ] {
            let data = std::fs::read(dir.join(f)).unwrap();
            let c = Certificate::load(&data).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(!c.serial_hex().is_empty());
            c.public_key().unwrap();
        }
        let chain =
            Certificate::load_all(&std::fs::read(dir.join("cert_sb2bi_public.ca")).unwrap())
                .unwrap();
        assert!(!chain.is_empty());
    }
}
