//! EnvelopedData (3DES, AES-CBC) and AuthEnvelopedData (AES-GCM, RFC 5083/5084) with RSA
//! key transport to one or more recipients, and their decryption.

use cms::authenveloped_data::AuthEnvelopedData;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{EncryptedContentInfo, EnvelopedData, RecipientInfos};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode as _, Encode as _};
use spki::AlgorithmIdentifierOwned;

use super::recipient::{DecryptionKey, build_ktri, cek_candidates};
use super::{decode_content, parse_content_info};
use crate::cert::Certificate;
use crate::crypto::{ContentEncryption, KeyTransport, oids};
use crate::error::{Error, Result};

/// GCMParameters (RFC 5084).
#[derive(Clone, Debug, der::Sequence)]
struct GcmParameters {
    nonce: OctetString,
    #[asn1(default = "default_icv_len")]
    icv_len: u8,
}

fn default_icv_len() -> u8 {
    12
}

/// How to encrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncryptOptions {
    /// Content encryption; a GCM algorithm produces AuthEnvelopedData.
    pub algorithm: ContentEncryption,
    /// RSA key transport for every recipient.
    pub key_transport: KeyTransport,
}

/// Encrypt content for the recipients; returns a DER ContentInfo (EnvelopedData, or
/// AuthEnvelopedData for AES-GCM).
///
/// # Errors
/// No recipient, a non-RSA certificate, or an encoding failure.
pub fn encrypt(
    content: &[u8],
    recipients: &[&Certificate],
    opts: EncryptOptions,
) -> Result<Vec<u8>> {
    if recipients.is_empty() {
        return Err(Error::Crypto("no recipient".into()));
    }
    let alg = opts.algorithm;
    let cek = alg.random_key();
    let iv = alg.random_iv();
    let infos = recipients
        .iter()
        .map(|c| build_ktri(c, opts.key_transport, &cek))
        .collect::<Result<Vec<_>>>()?;
    let recip_infos = RecipientInfos(SetOfVec::try_from(infos)?);
    let ciphertext = alg.encrypt(&cek, &iv, &[], content)?;
    let (content_type, content) = if alg.is_aead() {
        let tag_at = ciphertext.len().saturating_sub(16);
        let (ct, tag) = ciphertext.split_at(tag_at);
        let params = GcmParameters {
            nonce: OctetString::new(iv)?,
            icv_len: 16,
        };
        let aed = AuthEnvelopedData {
            version: CmsVersion::V0,
            originator_info: None,
            recip_infos,
            auth_encrypted_content_info: EncryptedContentInfo {
                content_type: oids::DATA,
                content_enc_alg: AlgorithmIdentifierOwned {
                    oid: alg.oid(),
                    parameters: Some(Any::from_der(&params.to_der()?)?),
                },
                encrypted_content: Some(OctetString::new(ct)?),
            },
            auth_attrs: None,
            mac: OctetString::new(tag)?,
            unauth_attrs: None,
        };
        (oids::AUTH_ENVELOPED_DATA, aed.to_der()?)
    } else {
        let ed = EnvelopedData {
            version: CmsVersion::V0,
            originator_info: None,
            recip_infos,
            encrypted_content: EncryptedContentInfo {
                content_type: oids::DATA,
                content_enc_alg: AlgorithmIdentifierOwned {
                    oid: alg.oid(),
                    parameters: Some(Any::from_der(&OctetString::new(iv)?.to_der()?)?),
                },
                encrypted_content: Some(OctetString::new(ciphertext)?),
            },
            unprotected_attrs: None,
        };
        (oids::ENVELOPED_DATA, ed.to_der()?)
    };
    let ci = ContentInfo {
        content_type,
        content: Any::from_der(&content)?,
    };
    Ok(ci.to_der()?)
}

/// The result of a decryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The decrypted content (a MIME entity in AS2).
    pub content: Vec<u8>,
    /// The content-encryption algorithm the sender used.
    pub algorithm: ContentEncryption,
}

/// Decrypt EnvelopedData or AuthEnvelopedData (DER or BER) with any of our keys.
///
/// Every failure after the structure was parsed — no matching recipient, a key-transport
/// failure, a wrong key, bad padding, a bad tag — is the same [`Error::Decryption`], and a
/// key-transport failure continues with a random key (RFC 3218).
///
/// # Errors
/// [`Error::Decryption`], or [`Error::UnsupportedAlgorithm`] for an unknown cipher.
pub fn decrypt(data: &[u8], keys: &[DecryptionKey<'_>]) -> Result<Decrypted> {
    let ci = parse_content_info(data)?;
    let (infos, eci, mac, aad) = if ci.content_type == oids::ENVELOPED_DATA {
        let ed: EnvelopedData = decode_content(&ci)?;
        (ed.recip_infos, ed.encrypted_content, None, Vec::new())
    } else if ci.content_type == oids::AUTH_ENVELOPED_DATA {
        let aed: AuthEnvelopedData = decode_content(&ci)?;
        let aad = match &aed.auth_attrs {
            Some(a) => a.to_der()?,
            None => Vec::new(),
        };
        (
            aed.recip_infos,
            aed.auth_encrypted_content_info,
            Some(aed.mac),
            aad,
        )
    } else {
        return Err(Error::UnsupportedFormat(format!(
            "CMS content type {} is not enveloped data",
            ci.content_type
        )));
    };
    let alg = ContentEncryption::from_oid(&eci.content_enc_alg.oid)?;
    let params = eci
        .content_enc_alg
        .parameters
        .as_ref()
        .ok_or(Error::Decryption)?
        .to_der()?;
    let (iv, tag_len) = if alg.is_aead() {
        let p = GcmParameters::from_der(&params).or_else(|_| GcmParameters::from_ber(&params))?;
        (p.nonce.as_bytes().to_vec(), usize::from(p.icv_len))
    } else {
        let iv = OctetString::from_der(&params).or_else(|_| OctetString::from_ber(&params))?;
        (iv.as_bytes().to_vec(), 0)
    };
    let mut ciphertext = eci
        .encrypted_content
        .map(|o| o.into_bytes().into_vec())
        .ok_or(Error::Decryption)?;
    if let Some(mac) = mac {
        if mac.as_bytes().len() != tag_len {
            return Err(Error::Decryption);
        }
        ciphertext.extend_from_slice(mac.as_bytes());
    }
    for cand in cek_candidates(&infos, keys, alg)? {
        let res = alg.decrypt(&cand.key, &iv, &aad, tag_len, &ciphertext);
        if let (Ok(content), true) = (res, cand.genuine) {
            return Ok(Decrypted {
                content,
                algorithm: alg,
            });
        }
    }
    Err(Error::Decryption)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::generate_self_signed;
    use crate::crypto::{DigestAlgorithm, test_key};
    use std::time::Duration;

    #[test]
    fn round_trip_every_algorithm() {
        let key = test_key();
        let cert = generate_self_signed(key, "CN=rcpt", Duration::from_secs(3600)).unwrap();
        let other_key = rsa::PrivateKey::new(&mut rand::rng(), 1024).unwrap();
        let other =
            generate_self_signed(&other_key, "CN=other", Duration::from_secs(3600)).unwrap();
        for algorithm in ContentEncryption::ALL {
            for key_transport in [
                KeyTransport::RsaPkcs1v15,
                KeyTransport::RsaOaep(DigestAlgorithm::Sha1),
                KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
            ] {
                let opts = EncryptOptions {
                    algorithm,
                    key_transport,
                };
                let ct = encrypt(b"secret content", &[&other, &cert], opts).unwrap();
                let keys = [
                    DecryptionKey {
                        certificate: &other,
                        key: &other_key,
                    },
                    DecryptionKey {
                        certificate: &cert,
                        key,
                    },
                ];
                let d = decrypt(&ct, &keys).unwrap();
                assert_eq!(d.content, b"secret content");
                assert_eq!(d.algorithm, algorithm);
                // only the other recipient's key, presented as ours: uniform failure
                let wrong = [DecryptionKey {
                    certificate: &cert,
                    key: &other_key,
                }];
                let ct_one = encrypt(b"secret content", &[&cert], opts).unwrap();
                assert!(matches!(decrypt(&ct_one, &wrong), Err(Error::Decryption)));
            }
        }
    }
}
