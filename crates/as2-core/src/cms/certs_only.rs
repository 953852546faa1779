//! Degenerate SignedData (`application/pkcs7-mime; smime-type=certs-only`, RFC 8551 §3.6):
//! certificates and no signers, how certificates travel in a CEM request.

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerInfos};
use der::asn1::{Any, SetOfVec};
use der::{Decode as _, Encode as _};

use super::embedded_certificates;
use crate::cert::Certificate;
use crate::crypto::oids;
use crate::error::{Error, Result};

/// A DER ContentInfo holding a SignedData with no content, no signers and `certs`
/// (what `openssl crl2pkcs7 -nocrl` writes).
///
/// # Errors
/// No certificate, or an encoding failure.
pub fn certs_only(certs: &[Certificate]) -> Result<Vec<u8>> {
    if certs.is_empty() {
        return Err(Error::Crypto(
            "certs-only SignedData without a certificate".into(),
        ));
    }
    let choices: Vec<CertificateChoices> = certs
        .iter()
        .map(|c| CertificateChoices::Certificate(c.x509().clone()))
        .collect();
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oids::DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(choices)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    let ci = ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::from_der(&sd.to_der()?)?,
    };
    Ok(ci.to_der()?)
}

/// The certificates in a certs-only part. Partners send a degenerate SignedData (DER, BER
/// or base64 of either), a bare DER certificate, or PEM (`CERTIFICATE` or `PKCS7` blocks).
///
/// # Errors
/// None of these forms, or no certificate in it.
pub fn parse_certs_only(data: &[u8]) -> Result<Vec<Certificate>> {
    let certs =
        if crate::pem::is_pem(data) {
            from_pem(data)?
        } else if let Ok(certs) = embedded_certificates(data) {
            certs
        } else {
            vec![Certificate::from_der(data).map_err(|_| {
                Error::Asn1("neither a certs-only SignedData nor a certificate".into())
            })?]
        };
    if certs.is_empty() {
        return Err(Error::Asn1(
            "certs-only SignedData holds no certificate".into(),
        ));
    }
    Ok(certs)
}

fn from_pem(data: &[u8]) -> Result<Vec<Certificate>> {
    let mut certs = Vec::new();
    for block in crate::pem::parse_all(data)? {
        match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                certs.push(Certificate::from_der(&block.der)?);
            }
            "PKCS7" | "CMS" => certs.extend(embedded_certificates(&block.der)?),
            _ => {}
        }
    }
    Ok(certs)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cert::generate_self_signed;
    use crate::crypto::test_key;

    #[test]
    fn round_trip_and_lenient_forms() {
        let key = test_key();
        let a = generate_self_signed(
            crate::testutil::P,
            key,
            "CN=cem a",
            crate::testutil::now(),
            Duration::from_secs(3600),
        )
        .unwrap();
        let b = generate_self_signed(
            crate::testutil::P,
            key,
            "CN=cem b,O=Example",
            crate::testutil::now(),
            Duration::from_secs(3600),
        )
        .unwrap();
        let der = certs_only(&[a.clone(), b.clone()]).unwrap();
        let mut back = parse_certs_only(&der).unwrap();
        back.sort_by_key(Certificate::subject);
        assert_eq!(back, vec![a.clone(), b]);
        // a bare certificate, PEM, and base64 of the SignedData
        assert_eq!(parse_certs_only(a.der()).unwrap(), vec![a.clone()]);
        assert_eq!(
            parse_certs_only(a.to_pem().as_bytes()).unwrap(),
            vec![a.clone()]
        );
        let b64 = crate::mime::encoding::encode_base64_lines(
            &certs_only(std::slice::from_ref(&a)).unwrap(),
        );
        assert_eq!(parse_certs_only(&b64).unwrap(), vec![a.clone()]);
        let pkcs7_pem = format!(
            "-----BEGIN PKCS7-----\n{}-----END PKCS7-----\n",
            String::from_utf8_lossy(&b64)
        );
        assert_eq!(parse_certs_only(pkcs7_pem.as_bytes()).unwrap(), vec![a]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(certs_only(&[]).is_err());
        for bad in [&b""[..], b"\x30\x03\x02\x01", b"hello", b"\xff\xff\xff"] {
            assert!(parse_certs_only(bad).is_err());
        }
    }
}
