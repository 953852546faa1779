//! Content-encryption algorithms: 3DES-CBC, AES-CBC (PKCS#7 padding) and AES-GCM.

use aes_gcm::aead::{Aead as _, Payload};
use aes_gcm::{AesGcm, KeyInit as _};
use cipher::block_padding::Pkcs7;
use cipher::consts::{U12, U16};
use cipher::{BlockModeDecrypt as _, BlockModeEncrypt as _, KeyIvInit as _};
use der::asn1::ObjectIdentifier;

use super::oids;
use super::provider::CryptoProvider;
use crate::error::{Error, Result};

/// A content-encryption algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ContentEncryption {
    /// Triple-DES (EDE3) CBC, for partners who require it.
    Des3Cbc,
    /// AES-128-CBC
    Aes128Cbc,
    /// AES-192-CBC
    Aes192Cbc,
    /// AES-256-CBC (the default)
    #[default]
    Aes256Cbc,
    /// AES-128-GCM in AuthEnvelopedData
    Aes128Gcm,
    /// AES-256-GCM in AuthEnvelopedData
    Aes256Gcm,
}

impl ContentEncryption {
    /// Every algorithm.
    pub const ALL: [Self; 6] = [
        Self::Des3Cbc,
        Self::Aes128Cbc,
        Self::Aes192Cbc,
        Self::Aes256Cbc,
        Self::Aes128Gcm,
        Self::Aes256Gcm,
    ];

    /// A stable name: `3des`, `aes128-cbc`, ..., `aes256-gcm`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Des3Cbc => "3des",
            Self::Aes128Cbc => "aes128-cbc",
            Self::Aes192Cbc => "aes192-cbc",
            Self::Aes256Cbc => "aes256-cbc",
            Self::Aes128Gcm => "aes128-gcm",
            Self::Aes256Gcm => "aes256-gcm",
        }
    }

    /// Parse a name leniently (`3des`, `des-ede3-cbc`, `tripledes`, `aes_128_cbc`, `aes128`, ...).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let n: String = name
            .to_ascii_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        match n.as_str() {
            "3des" | "des3" | "desede3cbc" | "desede3" | "tripledes" | "3descbc" => {
                Some(Self::Des3Cbc)
            }
            "aes128cbc" | "aes128" => Some(Self::Aes128Cbc),
            "aes192cbc" | "aes192" => Some(Self::Aes192Cbc),
            "aes256cbc" | "aes256" => Some(Self::Aes256Cbc),
            "aes128gcm" => Some(Self::Aes128Gcm),
            "aes256gcm" => Some(Self::Aes256Gcm),
            _ => None,
        }
    }

    /// The algorithm OID.
    #[must_use]
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Des3Cbc => oids::DES_EDE3_CBC,
            Self::Aes128Cbc => oids::AES128_CBC,
            Self::Aes192Cbc => oids::AES192_CBC,
            Self::Aes256Cbc => oids::AES256_CBC,
            Self::Aes128Gcm => oids::AES128_GCM,
            Self::Aes256Gcm => oids::AES256_GCM,
        }
    }

    /// From an OID.
    ///
    /// # Errors
    /// Unknown or unsupported algorithm.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.oid() == *oid)
            .ok_or_else(|| Error::UnsupportedAlgorithm(format!("content encryption {oid}")))
    }

    /// Key length in bytes.
    #[must_use]
    pub fn key_len(self) -> usize {
        match self {
            Self::Des3Cbc | Self::Aes192Cbc => 24,
            Self::Aes128Cbc | Self::Aes128Gcm => 16,
            Self::Aes256Cbc | Self::Aes256Gcm => 32,
        }
    }

    /// IV (CBC) or nonce (GCM) length in bytes.
    #[must_use]
    pub fn iv_len(self) -> usize {
        match self {
            Self::Des3Cbc => 8,
            Self::Aes128Cbc | Self::Aes192Cbc | Self::Aes256Cbc => 16,
            Self::Aes128Gcm | Self::Aes256Gcm => 12,
        }
    }

    /// Whether this is an AEAD (AuthEnvelopedData) algorithm.
    #[must_use]
    pub fn is_aead(self) -> bool {
        matches!(self, Self::Aes128Gcm | Self::Aes256Gcm)
    }

    /// A fresh random key from `provider`.
    ///
    /// # Errors
    /// The random generator failed.
    pub fn random_key(self, provider: &CryptoProvider) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        Ok(zeroize::Zeroizing::new(
            provider.random_bytes(self.key_len())?,
        ))
    }

    /// A fresh random IV / nonce from `provider`.
    ///
    /// # Errors
    /// The random generator failed.
    pub fn random_iv(self, provider: &CryptoProvider) -> Result<Vec<u8>> {
        provider.random_bytes(self.iv_len())
    }

    /// Encrypt. CBC: PKCS#7 padding, returns the ciphertext. GCM: returns ciphertext
    /// followed by the 16-byte tag, `aad` authenticated.
    ///
    /// # Errors
    /// Wrong key or IV length.
    pub fn encrypt(self, key: &[u8], iv: &[u8], aad: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        let bad = |_| Error::Crypto("bad key or iv length".into());
        Ok(match self {
            Self::Des3Cbc => cbc::Encryptor::<des::TdesEde3>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec::<Pkcs7>(data),
            Self::Aes128Cbc => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec::<Pkcs7>(data),
            Self::Aes192Cbc => cbc::Encryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec::<Pkcs7>(data),
            Self::Aes256Cbc => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec::<Pkcs7>(data),
            Self::Aes128Gcm => gcm_encrypt::<aes::Aes128>(key, iv, aad, data)?,
            Self::Aes256Gcm => gcm_encrypt::<aes::Aes256>(key, iv, aad, data)?,
        })
    }

    /// Decrypt. For GCM, `data` is ciphertext followed by a tag of `tag_len` bytes
    /// (12 or 16). Every failure is the same [`Error::Decryption`].
    ///
    /// # Errors
    /// [`Error::Decryption`] on any failure.
    pub fn decrypt(
        self,
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        tag_len: usize,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let fail = |_| Error::Decryption;
        match self {
            Self::Des3Cbc => cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
                .map_err(fail)?
                .decrypt_padded_vec::<Pkcs7>(data)
                .map_err(|_| Error::Decryption),
            Self::Aes128Cbc => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(fail)?
                .decrypt_padded_vec::<Pkcs7>(data)
                .map_err(|_| Error::Decryption),
            Self::Aes192Cbc => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(fail)?
                .decrypt_padded_vec::<Pkcs7>(data)
                .map_err(|_| Error::Decryption),
            Self::Aes256Cbc => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(fail)?
                .decrypt_padded_vec::<Pkcs7>(data)
                .map_err(|_| Error::Decryption),
            Self::Aes128Gcm => gcm_decrypt::<aes::Aes128>(key, iv, aad, tag_len, data),
            Self::Aes256Gcm => gcm_decrypt::<aes::Aes256>(key, iv, aad, tag_len, data),
        }
    }
}

impl ContentEncryption {
    /// The cipher block length of a CBC algorithm (8 or 16); 1 for GCM (no padding).
    pub(crate) fn block_len(self) -> usize {
        match self {
            Self::Des3Cbc => 8,
            Self::Aes128Cbc | Self::Aes192Cbc | Self::Aes256Cbc => 16,
            Self::Aes128Gcm | Self::Aes256Gcm => 1,
        }
    }

    /// The CBC ciphertext length of `msg_len` bytes of plaintext (PKCS#7 always pads).
    pub(crate) fn cbc_ciphertext_len(self, msg_len: usize) -> usize {
        let bs = self.block_len();
        (msg_len / bs + 1) * bs
    }

    /// CBC only: encrypt `msg` with PKCS#7 padding into `out`, which is exactly
    /// [`Self::cbc_ciphertext_len`] long: the same ciphertext as [`Self::encrypt`], written
    /// where the caller wants it (after a DER header, say).
    pub(crate) fn encrypt_cbc_into(
        self,
        key: &[u8],
        iv: &[u8],
        msg: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let bad = |_| Error::Crypto("bad key or iv length".into());
        let pad = |_| Error::Crypto("CBC output buffer too short".into());
        match self {
            Self::Des3Cbc => cbc::Encryptor::<des::TdesEde3>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_b2b::<Pkcs7>(msg, out)
                .map(|_| ())
                .map_err(pad),
            Self::Aes128Cbc => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_b2b::<Pkcs7>(msg, out)
                .map(|_| ())
                .map_err(pad),
            Self::Aes192Cbc => cbc::Encryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_b2b::<Pkcs7>(msg, out)
                .map(|_| ())
                .map_err(pad),
            Self::Aes256Cbc => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_b2b::<Pkcs7>(msg, out)
                .map(|_| ())
                .map_err(pad),
            Self::Aes128Gcm | Self::Aes256Gcm => {
                Err(Error::Crypto("GCM has no CBC encryption".into()))
            }
        }
    }
}

fn gcm_encrypt<C>(key: &[u8], nonce: &[u8], aad: &[u8], data: &[u8]) -> Result<Vec<u8>>
where
    C: cipher::BlockCipherEncrypt + cipher::BlockSizeUser<BlockSize = U16> + cipher::KeyInit,
{
    let c = AesGcm::<C, U12, U16>::new_from_slice(key)
        .map_err(|_| Error::Crypto("bad key length".into()))?;
    let nonce = aes_gcm::Nonce::<U12>::try_from(nonce)
        .map_err(|_| Error::Crypto("bad nonce length".into()))?;
    c.encrypt(&nonce, Payload { msg: data, aad })
        .map_err(|_| Error::Crypto("GCM encryption failed".into()))
}

fn gcm_decrypt<C>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    tag_len: usize,
    data: &[u8],
) -> Result<Vec<u8>>
where
    C: cipher::BlockCipherEncrypt + cipher::BlockSizeUser<BlockSize = U16> + cipher::KeyInit,
{
    let nonce = aes_gcm::Nonce::<U12>::try_from(nonce).map_err(|_| Error::Decryption)?;
    let payload = Payload { msg: data, aad };
    match tag_len {
        16 => AesGcm::<C, U12, U16>::new_from_slice(key)
            .map_err(|_| Error::Decryption)?
            .decrypt(&nonce, payload)
            .map_err(|_| Error::Decryption),
        12 => AesGcm::<C, U12, U12>::new_from_slice(key)
            .map_err(|_| Error::Decryption)?
            .decrypt(&nonce, payload)
            .map_err(|_| Error::Decryption),
        _ => Err(Error::Decryption),
    }
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
    fn round_trips() {
        for alg in ContentEncryption::ALL {
            let key = alg.random_key(crate::testutil::P).unwrap();
            let iv = alg.random_iv(crate::testutil::P).unwrap();
            let ct = alg.encrypt(&key, &iv, b"aad", b"hello world").unwrap();
            let tag = if alg.is_aead() { 16 } else { 0 };
            assert_eq!(
                alg.decrypt(&key, &iv, b"aad", tag, &ct).unwrap(),
                b"hello world"
            );
            assert_eq!(ContentEncryption::from_oid(&alg.oid()).unwrap(), alg);
            assert_eq!(ContentEncryption::from_name(alg.name()), Some(alg));
            if !alg.is_aead() {
                let mut out = vec![0; alg.cbc_ciphertext_len(11)];
                alg.encrypt_cbc_into(&key, &iv, b"hello world", &mut out)
                    .unwrap();
                assert_eq!(out, ct);
                assert!(
                    alg.encrypt_cbc_into(&key, &iv, b"hello world", &mut out[1..])
                        .is_err()
                );
            }
            let other = alg.random_key(crate::testutil::P).unwrap();
            if alg.is_aead() {
                assert!(matches!(
                    alg.decrypt(&other, &iv, b"aad", 16, &ct),
                    Err(Error::Decryption)
                ));
            }
        }
    }
}
