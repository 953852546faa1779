//! EnvelopedData (3DES, AES-CBC) and AuthEnvelopedData (AES-GCM, RFC 5083/5084) with RSA
//! key transport or ECDH key agreement (RFC 5753) to one or more recipients, and their
//! decryption.

use cms::authenveloped_data::AuthEnvelopedData;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{EncryptedContentInfo, EnvelopedData, OriginatorInfo, RecipientInfos};
use der::asn1::{Any, AnyRef, ObjectIdentifier, OctetString, OctetStringRef, SetOfVec};
use der::{Decode as _, Encode as _, Header, Length, Tag, TagNumber};
use spki::AlgorithmIdentifierOwned;
use subtle::Choice;
use x509_cert::attr::Attributes;

#[cfg(test)]
use super::recipient::build_ktri;
use super::recipient::{DecryptionKey, build_recipient, cek_candidates};
use super::{decode_content, parse_content_info};
use crate::cert::Certificate;
use crate::crypto::{ContentEncryption, CryptoProvider, KeyAgreement, KeyTransport, oids};
use crate::error::{Error, Result};

/// GCMParameters (RFC 5084).
#[derive(Clone, Debug, der::Sequence)]
pub(super) struct GcmParameters {
    pub(super) nonce: OctetString,
    #[asn1(default = "default_icv_len")]
    pub(super) icv_len: u8,
}

fn default_icv_len() -> u8 {
    12
}

/// ContentInfo borrowing its content from the input (DER only).
#[derive(Debug, der::Sequence)]
struct ContentInfoRef<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: AnyRef<'a>,
}

/// EnvelopedData borrowing its ciphertext from the input (DER only): the same fields as
/// `cms::enveloped_data::EnvelopedData`.
#[derive(Debug, der::Sequence)]
struct EnvelopedDataRef<'a> {
    version: CmsVersion,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    originator_info: Option<OriginatorInfo>,
    recip_infos: RecipientInfos,
    encrypted_content: EncryptedContentInfoRef<'a>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    unprotected_attrs: Option<Attributes>,
}

/// `cms::enveloped_data::EncryptedContentInfo` borrowing the ciphertext.
#[derive(Debug, der::Sequence)]
struct EncryptedContentInfoRef<'a> {
    content_type: ObjectIdentifier,
    content_enc_alg: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    encrypted_content: Option<&'a OctetStringRef>,
}

/// The EnvelopedData of a DER ContentInfo without copying the ciphertext; `None` for
/// anything else (BER, base64, other content types), which takes the owned path.
fn parse_enveloped_der(data: &[u8]) -> Option<EnvelopedDataRef<'_>> {
    let ci = ContentInfoRef::from_der(data).ok()?;
    if ci.content_type != oids::ENVELOPED_DATA {
        return None;
    }
    ci.content.decode_as::<EnvelopedDataRef<'_>>().ok()
}

fn der_header(tag: Tag, len: usize) -> Result<Vec<u8>> {
    Ok(Header::new(tag, Length::try_from(len)?).to_der()?)
}

/// The parts of a CBC EnvelopedData's DER that do not depend on the content length.
struct CbcFixed {
    version: Vec<u8>,
    recips: Vec<u8>,
    data_oid: Vec<u8>,
    alg_id: Vec<u8>,
    ci_oid: Vec<u8>,
}

/// A CBC EnvelopedData (DER ContentInfo) written into one buffer of its final size: the
/// header (its lengths follow from the content length: the CBC ciphertext is the padded
/// length), then the ciphertext encrypted straight behind it. The same bytes as encoding
/// `EnvelopedData` with the `cms` types.
struct CbcSealer {
    alg: ContentEncryption,
    cek: zeroize::Zeroizing<Vec<u8>>,
    iv: Vec<u8>,
    fixed: CbcFixed,
}

impl std::fmt::Debug for CbcSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CbcSealer")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl CbcSealer {
    fn with_key(
        alg: ContentEncryption,
        cek: zeroize::Zeroizing<Vec<u8>>,
        iv: Vec<u8>,
        recip_infos: &RecipientInfos,
    ) -> Result<Self> {
        let fixed = CbcFixed {
            version: enveloped_version(recip_infos).to_der()?,
            recips: recip_infos.to_der()?,
            data_oid: oids::DATA.to_der()?,
            alg_id: AlgorithmIdentifierOwned {
                oid: alg.oid(),
                parameters: Some(Any::from_der(&OctetString::new(iv.as_slice())?.to_der()?)?),
            }
            .to_der()?,
            ci_oid: oids::ENVELOPED_DATA.to_der()?,
        };
        Ok(Self {
            alg,
            cek,
            iv,
            fixed,
        })
    }

    /// The DER from the ContentInfo's start to the ciphertext, for `content_len` bytes of
    /// plaintext.
    fn head(&self, content_len: usize) -> Result<Vec<u8>> {
        let f = &self.fixed;
        let ct_len = self.alg.cbc_ciphertext_len(content_len);
        let implicit0 = |constructed| Tag::ContextSpecific {
            constructed,
            number: TagNumber(0),
        };
        let ct_head = der_header(implicit0(false), ct_len)?;
        let eci_len = f.data_oid.len() + f.alg_id.len() + ct_head.len() + ct_len;
        let eci_head = der_header(Tag::Sequence, eci_len)?;
        let ed_len = f.version.len() + f.recips.len() + eci_head.len() + eci_len;
        let ed_head = der_header(Tag::Sequence, ed_len)?;
        let explicit_len = ed_head.len() + ed_len;
        let explicit_head = der_header(implicit0(true), explicit_len)?;
        let ci_len = f.ci_oid.len() + explicit_head.len() + explicit_len;
        let ci_head = der_header(Tag::Sequence, ci_len)?;
        Ok([
            ci_head.as_slice(),
            &f.ci_oid,
            &explicit_head,
            &ed_head,
            &f.version,
            &f.recips,
            &eci_head,
            &f.data_oid,
            &f.alg_id,
            &ct_head,
        ]
        .concat())
    }

    /// The DER ContentInfo of `content`, encrypted into a buffer sized up front.
    fn encrypt(&self, content: &[u8]) -> Result<Vec<u8>> {
        let head = self.head(content.len())?;
        // zeroed (fresh pages, no memset) and written once: the header, then the ciphertext
        let mut out = vec![0; head.len() + self.alg.cbc_ciphertext_len(content.len())];
        let (out_head, out_ct) = out.split_at_mut(head.len());
        out_head.copy_from_slice(&head);
        self.alg
            .encrypt_cbc_into(&self.cek, &self.iv, content, out_ct)?;
        Ok(out)
    }
}

/// The DER ContentInfo of a CBC EnvelopedData, written into one buffer sized up front (the
/// ciphertext encrypted straight into it): the same bytes as encoding `EnvelopedData` with
/// `cms` types.
#[cfg(test)]
pub(super) fn encode_enveloped_cbc(
    alg: ContentEncryption,
    cek: &[u8],
    iv: &[u8],
    recip_infos: &RecipientInfos,
    content: &[u8],
) -> Result<Vec<u8>> {
    CbcSealer::with_key(
        alg,
        zeroize::Zeroizing::new(cek.to_vec()),
        iv.to_vec(),
        recip_infos,
    )?
    .encrypt(content)
}

/// The version of an EnvelopedData without originatorInfo and unprotectedAttrs (RFC 5652
/// §6.1): 0 when every recipient is a version-0 KeyTransRecipientInfo, else 2 (a
/// KeyAgreeRecipientInfo). AuthEnvelopedData is always version 0 (RFC 5083).
pub(super) fn enveloped_version(recip_infos: &RecipientInfos) -> CmsVersion {
    let all_v0 = recip_infos.0.iter().all(|ri| {
        matches!(ri, cms::enveloped_data::RecipientInfo::Ktri(k) if k.version == CmsVersion::V0)
    });
    if all_v0 {
        CmsVersion::V0
    } else {
        CmsVersion::V2
    }
}

/// A fresh content-encryption key and IV, and the key wrapped for every recipient.
pub(super) fn key_and_recipients(
    provider: &CryptoProvider,
    recipients: &[&Certificate],
    opts: EncryptOptions,
) -> Result<(zeroize::Zeroizing<Vec<u8>>, Vec<u8>, RecipientInfos)> {
    if recipients.is_empty() {
        return Err(Error::Crypto("no recipient".into()));
    }
    let alg = opts.algorithm;
    let cek = alg.random_key(provider)?;
    let iv = alg.random_iv(provider)?;
    let infos = recipients
        .iter()
        .map(|c| build_recipient(provider, c, opts.key_transport, opts.key_agreement, &cek))
        .collect::<Result<Vec<_>>>()?;
    Ok((cek, iv, RecipientInfos(SetOfVec::try_from(infos)?)))
}

/// How to encrypt: [`EncryptOptions::new`] (or `default()`: AES-256-CBC, RSAES-PKCS1-v1_5
/// to RSA certificates, ECDH with the curve's KDF to elliptic-curve ones), then the
/// `with_*` setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EncryptOptions {
    /// Content encryption; a GCM algorithm produces AuthEnvelopedData.
    pub algorithm: ContentEncryption,
    /// RSA key transport for every RSA recipient.
    pub key_transport: KeyTransport,
    /// Key agreement for every elliptic-curve recipient.
    pub key_agreement: KeyAgreement,
}

impl EncryptOptions {
    /// Content encryption with `algorithm`, the default key transport.
    #[must_use]
    pub fn new(algorithm: ContentEncryption) -> Self {
        Self {
            algorithm,
            key_transport: KeyTransport::default(),
            key_agreement: KeyAgreement::default(),
        }
    }

    /// With `algorithm` for the content.
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: ContentEncryption) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// With `key_transport` for every RSA recipient.
    #[must_use]
    pub fn with_key_transport(mut self, key_transport: KeyTransport) -> Self {
        self.key_transport = key_transport;
        self
    }

    /// With `key_agreement` for every elliptic-curve recipient.
    #[must_use]
    pub fn with_key_agreement(mut self, key_agreement: KeyAgreement) -> Self {
        self.key_agreement = key_agreement;
        self
    }
}

/// Encrypt content for the recipients; returns a DER ContentInfo (EnvelopedData, or
/// AuthEnvelopedData for AES-GCM). The key, IV and key-transport padding come from
/// `provider`.
///
/// # Errors
/// No recipient, a certificate with neither an RSA nor a P-256/P-384 key, or an encoding
/// failure.
pub fn encrypt(
    provider: &CryptoProvider,
    content: &[u8],
    recipients: &[&Certificate],
    opts: EncryptOptions,
) -> Result<Vec<u8>> {
    let alg = opts.algorithm;
    let (cek, iv, recip_infos) = key_and_recipients(provider, recipients, opts)?;
    if !alg.is_aead() {
        return CbcSealer::with_key(alg, cek, iv, &recip_infos)?.encrypt(content);
    }
    let ciphertext = alg.encrypt(&cek, &iv, &[], content)?;
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
    let ci = ContentInfo {
        content_type: oids::AUTH_ENVELOPED_DATA,
        content: Any::from_der(&aed.to_der()?)?,
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
/// key-transport failure continues with a random key (RFC 3218) from `provider`.
///
/// # Errors
/// [`Error::Decryption`], or [`Error::UnsupportedAlgorithm`] for an unknown cipher.
pub fn decrypt(
    provider: &CryptoProvider,
    data: &[u8],
    keys: &[DecryptionKey<'_>],
) -> Result<Decrypted> {
    // DER EnvelopedData (what almost every sender produces): borrow the ciphertext.
    if let Some(ed) = parse_enveloped_der(data) {
        let eci = &ed.encrypted_content;
        return open(
            provider,
            &ed.recip_infos,
            &eci.content_enc_alg,
            eci.encrypted_content.map(OctetStringRef::as_bytes),
            None,
            &[],
            keys,
        );
    }
    let ci = parse_content_info(data)?;
    if ci.content_type == oids::ENVELOPED_DATA {
        let ed: EnvelopedData = decode_content(&ci)?;
        let eci = &ed.encrypted_content;
        open(
            provider,
            &ed.recip_infos,
            &eci.content_enc_alg,
            eci.encrypted_content.as_ref().map(OctetString::as_bytes),
            None,
            &[],
            keys,
        )
    } else if ci.content_type == oids::AUTH_ENVELOPED_DATA {
        let aed: AuthEnvelopedData = decode_content(&ci)?;
        let aad = match &aed.auth_attrs {
            Some(a) => a.to_der()?,
            None => Vec::new(),
        };
        let eci = &aed.auth_encrypted_content_info;
        open(
            provider,
            &aed.recip_infos,
            &eci.content_enc_alg,
            eci.encrypted_content.as_ref().map(OctetString::as_bytes),
            Some(aed.mac.as_bytes()),
            &aad,
            keys,
        )
    } else {
        Err(Error::UnsupportedFormat(format!(
            "CMS content type {} is not enveloped data",
            ci.content_type
        )))
    }
}

/// Unwrap the content-encryption key and decrypt `ciphertext` (followed by `mac` for
/// AuthEnvelopedData) into a new buffer.
fn open(
    provider: &CryptoProvider,
    infos: &RecipientInfos,
    enc_alg: &AlgorithmIdentifierOwned,
    ciphertext: Option<&[u8]>,
    mac: Option<&[u8]>,
    aad: &[u8],
    keys: &[DecryptionKey<'_>],
) -> Result<Decrypted> {
    let alg = ContentEncryption::from_oid(&enc_alg.oid)?;
    let params = enc_alg
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
    let ciphertext = ciphertext.ok_or(Error::Decryption)?;
    let mac = mac.unwrap_or_default();
    if mac.len() != tag_len {
        return Err(Error::Decryption);
    }
    // the ciphertext is decrypted straight from the input; only AuthEnvelopedData, whose
    // tag is stored apart, needs them joined
    let joined;
    let data = if mac.is_empty() {
        ciphertext
    } else {
        joined = [ciphertext, mac].concat();
        joined.as_slice()
    };
    // at most one content decryption per key of ours
    for cand in cek_candidates(provider, infos, keys, alg)? {
        let res = alg.decrypt(&cand.key, &iv, aad, tag_len, data);
        // A substitute key is never a success, even when the content happened to decrypt
        // (a valid CBC padding, about 1 in 256): the same error as a bad padding.
        let opened = Choice::from(u8::from(res.is_ok())) & cand.genuine;
        if let (Ok(content), true) = (res, bool::from(opened)) {
            return Ok(Decrypted {
                content,
                algorithm: alg,
            });
        }
    }
    Err(Error::Decryption)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
#[path = "enveloped_tests.rs"]
mod tests;
