//! Wrapping an encoded TSTInfo into a time-stamp token: a CMS SignedData (version 3,
//! eContentType id-ct-TSTInfo) signed by the TSA with RSA PKCS#1 v1.5 and SHA-256, over the
//! signed attributes contentType, messageDigest, signingTime and signingCertificateV2 (the
//! last is required by RFC 3161 §2.4.2 and checked by `openssl ts -verify`). Built by hand
//! on the `cms` types, as as2-core's `cms::sign_detached` does.

use std::time::SystemTime;

use as2_core::cert::Certificate;
use as2_core::crypto::{DigestAlgorithm, PrivateKeyOps, SignatureScheme, oids};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode as _, Encode as _};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

use crate::asn1::{EssCertIdV2, IssuerSerial, SigningCertificateV2};
use crate::error::Result;
use crate::oids::{ID_AA_SIGNING_CERTIFICATE_V2, ID_CT_TST_INFO};

fn attribute(oid: ObjectIdentifier, value: &impl der::Encode) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(Any::from_der(&value.to_der()?)?)?;
    Ok(Attribute { oid, values })
}

/// The signingCertificateV2 value naming `cert` by its SHA-256 hash (hashAlgorithm left
/// out: SHA-256 is the DEFAULT) and by issuer and serial.
fn signing_certificate_v2(cert: &Certificate) -> Result<SigningCertificateV2> {
    let tbs = cert.x509().tbs_certificate();
    Ok(SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(crate::sha256(cert.der()).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            }),
        }],
        policies: None,
    })
}

/// Sign `tst_info_der` (an encoded TSTInfo) as the TSA; `include_certificate` puts the TSA
/// certificate in `certificates` (certReq). Returns the DER ContentInfo: the token.
pub(crate) fn sign_tst_info(
    tst_info_der: &[u8],
    certificate: &Certificate,
    key: &dyn PrivateKeyOps,
    signing_time: SystemTime,
    include_certificate: bool,
) -> Result<Vec<u8>> {
    let digest = DigestAlgorithm::Sha256;
    let scheme = SignatureScheme::Pkcs1v15;
    let mut attrs = SetOfVec::new();
    attrs.insert(attribute(oids::ATTR_CONTENT_TYPE, &ID_CT_TST_INFO)?)?;
    attrs.insert(attribute(
        oids::ATTR_MESSAGE_DIGEST,
        &OctetString::new(crate::sha256(tst_info_der).to_vec())?,
    )?)?;
    attrs.insert(attribute(
        oids::ATTR_SIGNING_TIME,
        &x509_cert::time::Time::try_from(signing_time)?,
    )?)?;
    attrs.insert(attribute(
        ID_AA_SIGNING_CERTIFICATE_V2,
        &signing_certificate_v2(certificate)?,
    )?)?;
    // `SetOfVec::insert` keeps the DER order of a SET OF: these are the signed bytes.
    let signature = key.sign(
        scheme,
        digest,
        &attrs.to_der()?,
        as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
    )?;

    let tbs = certificate.x509().tbs_certificate();
    let digest_ai = AlgorithmIdentifierOwned {
        oid: digest.oid(),
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: digest_ai.clone(),
        signed_attrs: Some(attrs),
        signature_algorithm: scheme.algorithm_identifier(digest)?,
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let certificates = if include_certificate {
        let certs = vec![CertificateChoices::Certificate(certificate.x509().clone())];
        Some(CertificateSet(SetOfVec::try_from(certs)?))
    } else {
        None
    };
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(digest_ai)?;
    let signed_data = SignedData {
        // RFC 5652 §5.1: version 3 when eContentType is not id-data
        version: CmsVersion::V3,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(Any::from_der(
                &OctetString::new(tst_info_der.to_vec())?.to_der()?,
            )?),
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    let content_info = ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::from_der(&signed_data.to_der()?)?,
    };
    Ok(content_info.to_der()?)
}
