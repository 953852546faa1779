//! Key-transport recipients: building KeyTransRecipientInfo, and choosing which of our
//! keys (current and next, during a certificate change) opens which recipient.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use der::asn1::OctetString;
use zeroize::Zeroizing;

use crate::cert::Certificate;
use crate::crypto::{ContentEncryption, KeyTransport, PrivateKeyOps, random_bytes};
use crate::error::{Error, Result};

/// One of our decryption keys with its certificate.
#[derive(Debug, Clone, Copy)]
pub struct DecryptionKey<'a> {
    /// The certificate partners encrypt to.
    pub certificate: &'a Certificate,
    /// Its private key.
    pub key: &'a dyn PrivateKeyOps,
}

/// A KeyTransRecipientInfo for a certificate, identified by issuer and serial.
pub(crate) fn build_ktri(
    cert: &Certificate,
    transport: KeyTransport,
    cek: &[u8],
) -> Result<RecipientInfo> {
    let tbs = cert.x509().tbs_certificate();
    let enc_key = transport.encrypt(&cert.public_key()?, cek)?;
    Ok(RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        key_enc_alg: transport.algorithm_identifier()?,
        enc_key: OctetString::new(enc_key)?,
    }))
}

fn rid_matches(rid: &RecipientIdentifier, cert: &Certificate) -> bool {
    match rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => {
            cert.matches_issuer_serial(&ias.issuer, &ias.serial_number)
        }
        RecipientIdentifier::SubjectKeyIdentifier(ski) => cert
            .subject_key_id()
            .is_some_and(|id| id.as_slice() == ski.0.as_bytes()),
    }
}

/// A content-encryption key to try, and whether it is genuine (false = the RFC 3218
/// random substitute after a failed unwrap).
pub(crate) struct CekCandidate {
    pub key: Zeroizing<Vec<u8>>,
    pub genuine: bool,
}

/// Unwrap content-encryption keys: first for recipients whose identifier matches one of
/// our certificates; when none matches, every (recipient, key) pair. A failed unwrap
/// yields a random key (RFC 3218) so the failure surfaces only at content decryption.
pub(crate) fn cek_candidates(
    infos: &RecipientInfos,
    keys: &[DecryptionKey<'_>],
    alg: ContentEncryption,
) -> Result<Vec<CekCandidate>> {
    let ktris: Vec<&KeyTransRecipientInfo> = infos
        .0
        .iter()
        .filter_map(|ri| match ri {
            RecipientInfo::Ktri(k) => Some(k),
            _ => None,
        })
        .collect();
    if ktris.is_empty() || keys.is_empty() {
        return Err(Error::Decryption);
    }
    let mut pairs: Vec<(&KeyTransRecipientInfo, &DecryptionKey<'_>)> = Vec::new();
    for k in &ktris {
        for dk in keys {
            if rid_matches(&k.rid, dk.certificate) {
                pairs.push((k, dk));
            }
        }
    }
    if pairs.is_empty() {
        for k in &ktris {
            for dk in keys {
                pairs.push((k, dk));
            }
        }
    }
    let mut out = Vec::with_capacity(pairs.len());
    for (ktri, dk) in pairs {
        let unwrapped = KeyTransport::from_algorithm_identifier(&ktri.key_enc_alg)
            .and_then(|t| dk.key.decrypt_key(t, ktri.enc_key.as_bytes()));
        match unwrapped {
            Ok(cek) if cek.len() == alg.key_len() => out.push(CekCandidate {
                key: cek,
                genuine: true,
            }),
            _ => out.push(CekCandidate {
                key: Zeroizing::new(random_bytes(alg.key_len())),
                genuine: false,
            }),
        }
    }
    Ok(out)
}
