//! ECDH key agreement for CMS recipients (RFC 5753 §3.1, ephemeral-static
//! `dhSinglePass-stdDH-shaXkdf-scheme`): the ANSI X9.63 KDF over the shared secret and the
//! `ECC-CMS-SharedInfo` (§7.2), and the content key wrapped with AES key wrap (RFC 3394)
//! under the key it derives.

use aes_kw::cipher::KeyInit as _;
use der::Encode as _;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::digest::DigestAlgorithm;
use super::ec::EcCurve;
use super::oids;
use crate::error::{Error, Result};

/// The key agreement for an elliptic-curve recipient: which digest the KDF uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KeyAgreement {
    /// The curve's own (RFC 5753 §8 pairing): SHA-256 on P-256, SHA-384 on P-384.
    #[default]
    MatchCurve,
    /// `dhSinglePass-stdDH` with the X9.63 KDF over this digest (SHA-1, SHA-224, SHA-256,
    /// SHA-384 or SHA-512).
    StdDh(DigestAlgorithm),
}

impl KeyAgreement {
    /// The KDF digest for a recipient on `curve`.
    #[must_use]
    pub fn kdf(self, curve: EcCurve) -> DigestAlgorithm {
        match self {
            Self::MatchCurve => curve.default_kdf(),
            Self::StdDh(d) => d,
        }
    }
}

/// The `dhSinglePass-stdDH-shaXkdf-scheme` OID of a KDF digest.
pub(crate) fn scheme_oid(kdf: DigestAlgorithm) -> Result<der::asn1::ObjectIdentifier> {
    Ok(match kdf {
        DigestAlgorithm::Sha1 => oids::ECDH_STD_SHA1_KDF,
        DigestAlgorithm::Sha224 => oids::ECDH_STD_SHA224_KDF,
        DigestAlgorithm::Sha256 => oids::ECDH_STD_SHA256_KDF,
        DigestAlgorithm::Sha384 => oids::ECDH_STD_SHA384_KDF,
        DigestAlgorithm::Sha512 => oids::ECDH_STD_SHA512_KDF,
        other => {
            return Err(Error::UnsupportedAlgorithm(format!(
                "ECDH with a {other} KDF"
            )));
        }
    })
}

/// The KDF digest of a `dhSinglePass-stdDH-shaXkdf-scheme` OID.
pub(crate) fn scheme_kdf(oid: &der::asn1::ObjectIdentifier) -> Result<DigestAlgorithm> {
    [
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha224,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|d| scheme_oid(*d).is_ok_and(|o| o == *oid))
    .ok_or_else(|| Error::UnsupportedAlgorithm(format!("key agreement {oid}")))
}

/// The AES key-wrap algorithm for a content key of `key_len` bytes (the wrap's key is as
/// long as the content key: aes128-wrap for AES-128, ...).
pub(crate) fn wrap_algorithm(key_len: usize) -> Result<AlgorithmIdentifierOwned> {
    let oid = match key_len {
        16 => oids::AES128_WRAP,
        24 => oids::AES192_WRAP,
        32 => oids::AES256_WRAP,
        n => return Err(Error::Crypto(format!("no key wrap for a {n}-byte key"))),
    };
    Ok(AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    })
}

/// The key length of an AES key-wrap algorithm.
fn wrap_key_len(wrap: &AlgorithmIdentifierOwned) -> Result<usize> {
    match wrap.oid {
        o if o == oids::AES128_WRAP => Ok(16),
        o if o == oids::AES192_WRAP => Ok(24),
        o if o == oids::AES256_WRAP => Ok(32),
        o => Err(Error::UnsupportedAlgorithm(format!("key wrap {o}"))),
    }
}

/// `ECC-CMS-SharedInfo` (RFC 5753 §7.2).
#[derive(Clone, Debug, der::Sequence)]
struct EccCmsSharedInfo {
    key_info: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    entity_u_info: Option<OctetString>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    supp_pub_info: OctetString,
}

/// The key-encryption key: ANSI X9.63 KDF (`Hash(Z || counter || SharedInfo)`, counter
/// from 1, big-endian 32 bits) truncated to the wrap's key length.
pub(crate) fn derive_kek(
    kdf: DigestAlgorithm,
    shared_secret: &[u8],
    wrap: &AlgorithmIdentifierOwned,
    ukm: Option<&[u8]>,
) -> Result<Zeroizing<Vec<u8>>> {
    let key_len = wrap_key_len(wrap)?;
    let bits = u32::try_from(key_len * 8).map_err(|_| Error::Crypto("KEK length".into()))?;
    let shared_info = EccCmsSharedInfo {
        key_info: wrap.clone(),
        entity_u_info: ukm.map(OctetString::new).transpose()?,
        supp_pub_info: OctetString::new(bits.to_be_bytes().to_vec())?,
    }
    .to_der()?;
    let mut out = Zeroizing::new(Vec::with_capacity(key_len + kdf.output_len()));
    let mut counter = 1u32;
    while out.len() < key_len {
        let mut h = super::Hasher::new(kdf);
        h.update(shared_secret);
        h.update(&counter.to_be_bytes());
        h.update(&shared_info);
        out.extend_from_slice(&Zeroizing::new(h.finalize()));
        counter += 1;
    }
    out.truncate(key_len);
    Ok(out)
}

/// Wrap `cek` under `kek` (RFC 3394).
pub(crate) fn wrap(kek: &[u8], cek: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![0u8; cek.len() + 8];
    let failed = |_| Error::Crypto("AES key wrap".into());
    let len = match kek.len() {
        16 => aes_kw::KwAes128::new_from_slice(kek)
            .map_err(|_| Error::Crypto("KEK length".into()))?
            .wrap_key(cek, &mut out)
            .map_err(failed)?
            .len(),
        24 => aes_kw::KwAes192::new_from_slice(kek)
            .map_err(|_| Error::Crypto("KEK length".into()))?
            .wrap_key(cek, &mut out)
            .map_err(failed)?
            .len(),
        32 => aes_kw::KwAes256::new_from_slice(kek)
            .map_err(|_| Error::Crypto("KEK length".into()))?
            .wrap_key(cek, &mut out)
            .map_err(failed)?
            .len(),
        n => return Err(Error::Crypto(format!("no key wrap with a {n}-byte key"))),
    };
    out.truncate(len);
    Ok(out)
}

/// Unwrap a content key (RFC 3394); any failure (the integrity check) is
/// [`Error::Decryption`].
pub(crate) fn unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if wrapped.len() < 16 {
        return Err(Error::Decryption);
    }
    let mut out = Zeroizing::new(vec![0u8; wrapped.len() - 8]);
    let len = match kek.len() {
        16 => aes_kw::KwAes128::new_from_slice(kek)
            .map_err(|_| Error::Decryption)?
            .unwrap_key(wrapped, &mut out)
            .map_err(|_| Error::Decryption)?
            .len(),
        24 => aes_kw::KwAes192::new_from_slice(kek)
            .map_err(|_| Error::Decryption)?
            .unwrap_key(wrapped, &mut out)
            .map_err(|_| Error::Decryption)?
            .len(),
        32 => aes_kw::KwAes256::new_from_slice(kek)
            .map_err(|_| Error::Decryption)?
            .unwrap_key(wrapped, &mut out)
            .map_err(|_| Error::Decryption)?
            .len(),
        _ => return Err(Error::Decryption),
    };
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3394 §4.1: 128 bits of key data wrapped with a 128-bit KEK.
    #[test]
    fn rfc3394_vector() {
        let kek: Vec<u8> = (0u8..16).collect();
        let data = [
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        let wrapped = wrap(&kek, &data).unwrap();
        assert_eq!(
            wrapped,
            [
                0x1f, 0xa6, 0x8b, 0x0a, 0x81, 0x12, 0xb4, 0x47, 0xae, 0xf3, 0x4b, 0xd8, 0xfb, 0x5a,
                0x7b, 0x82, 0x9d, 0x3e, 0x86, 0x23, 0x71, 0xd2, 0xcf, 0xe5
            ]
        );
        assert_eq!(*unwrap(&kek, &wrapped).unwrap(), data);
        let mut bad = wrapped.clone();
        bad[3] ^= 1;
        assert!(matches!(unwrap(&kek, &bad), Err(Error::Decryption)));
    }

    #[test]
    fn kdf_lengths_and_scheme_oids() {
        for d in [
            DigestAlgorithm::Sha1,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
        ] {
            assert_eq!(scheme_kdf(&scheme_oid(d).unwrap()).unwrap(), d);
            for len in [16, 24, 32] {
                let kek = derive_kek(d, b"z", &wrap_algorithm(len).unwrap(), None).unwrap();
                assert_eq!(kek.len(), len);
            }
        }
        assert!(scheme_oid(DigestAlgorithm::Sha3_256).is_err());
    }
}
