//! Who signed a token: the trusted TSA certificate named by the SignerInfo and by the
//! signingCertificate(V2) attribute, the signed attributes that bind it to the TSTInfo,
//! and whether that certificate may time-stamp at all.

use std::time::SystemTime;

use as2_core::cert::Certificate;
use as2_core::crypto::{DigestAlgorithm, oids};
use cms::signed_data::{SignerIdentifier, SignerInfo};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use super::token::ParsedToken;
use crate::asn1::{SigningCertificate, SigningCertificateV2};
use crate::error::{Error, Result};
use crate::oids::{ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V2, ID_CT_TST_INFO};

fn find_attr(attrs: &SetOfVec<Attribute>, oid: ObjectIdentifier) -> Option<&Any> {
    attrs
        .iter()
        .find(|a| a.oid == oid)
        .and_then(|a| a.values.iter().next())
}

fn sid_matches(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            cert.matches_issuer_serial(&ias.issuer, &ias.serial_number)
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .subject_key_id()
            .is_some_and(|id| id.as_slice() == ski.0.as_bytes()),
    }
}

/// The certificate hash a signingCertificate(V2) attribute names.
struct CertHash {
    digest: DigestAlgorithm,
    hash: Vec<u8>,
}

impl CertHash {
    fn from_attrs(attrs: &SetOfVec<Attribute>) -> Result<Self> {
        if let Some(value) = find_attr(attrs, ID_AA_SIGNING_CERTIFICATE_V2) {
            let v2: SigningCertificateV2 = value.decode_as()?;
            let first = v2.certs.first().ok_or_else(|| {
                Error::NotATimeStampToken("empty signingCertificateV2 attribute".into())
            })?;
            let digest = match &first.hash_algorithm {
                None => DigestAlgorithm::Sha256,
                Some(alg) => DigestAlgorithm::from_oid(&alg.oid)
                    .map_err(|e| Error::UnsupportedAlgorithm(e.to_string()))?,
            };
            return Ok(Self {
                digest,
                hash: first.cert_hash.as_bytes().to_vec(),
            });
        }
        if let Some(value) = find_attr(attrs, ID_AA_SIGNING_CERTIFICATE) {
            let v1: SigningCertificate = value.decode_as()?;
            let first = v1.certs.first().ok_or_else(|| {
                Error::NotATimeStampToken("empty signingCertificate attribute".into())
            })?;
            return Ok(Self {
                digest: DigestAlgorithm::Sha1,
                hash: first.cert_hash.as_bytes().to_vec(),
            });
        }
        Err(Error::NotATimeStampToken(
            "no signingCertificate or signingCertificateV2 attribute".into(),
        ))
    }

    fn matches(&self, cert: &Certificate) -> bool {
        self.digest.digest(cert.der()) == self.hash
    }
}

/// The only SignerInfo of a token, with its signed attributes checked against the TSTInfo:
/// contentType is id-ct-TSTInfo, messageDigest is the digest of the encoded TSTInfo.
fn checked_signer_info(token: &ParsedToken) -> Result<(&SignerInfo, &SetOfVec<Attribute>)> {
    let mut infos = token.signed_data.signer_infos.0.iter();
    let (Some(si), None) = (infos.next(), infos.next()) else {
        return Err(Error::NotATimeStampToken(
            "a token has exactly one SignerInfo, the TSA's".into(),
        ));
    };
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| Error::NotATimeStampToken("no signed attributes".into()))?;
    let content_type: ObjectIdentifier = find_attr(attrs, oids::ATTR_CONTENT_TYPE)
        .ok_or_else(|| Error::NotATimeStampToken("no contentType attribute".into()))?
        .decode_as()?;
    if content_type != ID_CT_TST_INFO {
        return Err(Error::NotATimeStampToken(format!(
            "contentType attribute {content_type} is not id-ct-TSTInfo"
        )));
    }
    let message_digest: OctetString = find_attr(attrs, oids::ATTR_MESSAGE_DIGEST)
        .ok_or_else(|| Error::NotATimeStampToken("no messageDigest attribute".into()))?
        .decode_as()?;
    let digest = DigestAlgorithm::from_oid(&si.digest_alg.oid)
        .map_err(|e| Error::UnsupportedAlgorithm(e.to_string()))?;
    if digest.digest(&token.tst_info_der) != message_digest.as_bytes() {
        return Err(Error::MessageDigestMismatch);
    }
    Ok((si, attrs))
}

/// The trusted certificate that signed `token` (`token_der` are its bytes), with the
/// signature value verified. The signer is looked up among `trusted` by the SignerInfo's
/// identifier and by the signingCertificate(V2) hash; both must name the same certificate.
pub(crate) fn verify_signer<'t>(
    token_der: &[u8],
    token: &ParsedToken,
    trusted: &'t [Certificate],
) -> Result<&'t Certificate> {
    let (si, attrs) = checked_signer_info(token)?;
    let cert_hash = CertHash::from_attrs(attrs)?;
    let by_sid: Vec<&Certificate> = trusted.iter().filter(|c| sid_matches(&si.sid, c)).collect();
    let signer = by_sid
        .iter()
        .copied()
        .find(|c| cert_hash.matches(c))
        .or_else(|| trusted.iter().find(|c| cert_hash.matches(c)));
    let signer = match signer {
        Some(cert) => cert,
        None if by_sid.is_empty() => return Err(Error::UntrustedSigner),
        None => return Err(Error::SigningCertificateMismatch),
    };
    // The RSA check itself is as2-core's (PKCS#1 v1.5 and PSS, every digest partners use).
    as2_core::cms::verify_detached(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        token_der,
        &[token.tst_info_der.as_slice()],
        std::slice::from_ref(signer),
    )
    .map_err(|e| match e {
        as2_core::Error::Signature(m) => Error::BadSignature(m),
        as2_core::Error::Integrity(_) => Error::MessageDigestMismatch,
        as2_core::Error::UnknownSigner => Error::UntrustedSigner,
        as2_core::Error::UnsupportedAlgorithm(m) => Error::UnsupportedAlgorithm(m),
        other => Error::Core(other),
    })?;
    Ok(signer)
}

/// Whether `cert` may sign time-stamps at `at`: extendedKeyUsage present, critical, and
/// id-kp-timeStamping only (RFC 3161 §2.3), and `at` within the validity period.
///
/// # Errors
/// [`Error::BadTsaCertificate`] saying what is wrong.
pub(crate) fn check_tsa_certificate(cert: &Certificate, at: SystemTime) -> Result<()> {
    let bad = |m: &str| Error::BadTsaCertificate(format!("{}: {m}", cert.subject()));
    match cert
        .x509()
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
    {
        Ok(Some((true, eku))) if eku.0 == [crate::oids::ID_KP_TIME_STAMPING] => {}
        Ok(Some((false, _))) => return Err(bad("extendedKeyUsage is not critical")),
        Ok(Some(_)) => return Err(bad("extendedKeyUsage is not id-kp-timeStamping alone")),
        Ok(None) => return Err(bad("no extendedKeyUsage id-kp-timeStamping")),
        Err(e) => return Err(bad(&format!("extendedKeyUsage: {e}"))),
    }
    if !cert.is_valid_at(at) {
        return Err(bad("not valid at the token's genTime"));
    }
    Ok(())
}
