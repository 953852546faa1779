//! aws-lc-rs RSA private-key operations for as2-core: an implementation of
//! [`as2_core::crypto::PrivateKeyOps`].
//!
//! The codec's cost per message is dominated by one RSA private-key operation (signing
//! when sending, key-transport decryption when receiving). The pure-Rust `rsa` 0.10 crate
//! does it in constant time but is about six times slower than AWS-LC. [`AwsLcKey`] does
//! these operations with aws-lc-rs (constant-time, blinded, FIPS-capable):
//!
//! * signing: RSASSA-PKCS1-v1_5 and RSASSA-PSS (salt = digest length) with SHA-256,
//!   SHA-384 and SHA-512;
//! * key transport: RSAES-PKCS1-v1_5 and RSAES-OAEP with SHA-1, SHA-256, SHA-384 and
//!   SHA-512 (MGF1 with the same hash, empty label).
//!
//! aws-lc-rs does not sign with SHA-1 or SHA-224 and has no OAEP with SHA-224; those
//! (legacy) combinations fall back to the `rsa` 0.10 implementation of the same key, so an
//! [`AwsLcKey`] accepts everything the default implementation accepts. Every decryption
//! failure is [`as2_core::Error::Decryption`], with no detail; as2-core adds the RFC 3218
//! random-key substitution on top, so a PKCS#1 v1.5 padding failure continues like a
//! success.
//!
//! Partners' RSA signatures are verified on aws-lc-rs too ([`AwsLcVerifier`], with the same
//! fallback for what aws-lc-rs lacks).
//!
//! [`DEFAULT_PROVIDER`] is the whole backend as an `as2_core::crypto::CryptoProvider`:
//! aws-lc-rs randomness, keys loaded as [`AwsLcKey`] (see [`load_key`]) and
//! [`AwsLcVerifier`]. The binaries
//! pass it where the codec takes a provider; nothing installs it globally.
//!
//! ```no_run
//! # fn main() -> as2_core::Result<()> {
//! let provider = &as2_crypto_aws_lc::DEFAULT_PROVIDER;
//! let key = as2_core::keys::generate_rsa_key(provider, 2048)?;
//! let fast = as2_crypto_aws_lc::AwsLcKey::new(&key)?;
//! // use `&fast` wherever as2-core takes a `&dyn PrivateKeyOps`
//! # let _ = fast; Ok(())
//! # }
//! ```

use as2_core::crypto::{
    CryptoProvider, DigestAlgorithm, GetRandomFailed, KeyProvider, KeyTransport, PrivateKeyOps,
    SecureRandom, SignatureScheme,
};
use as2_core::{Error, Result};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
    OaepAlgorithm, OaepPrivateDecryptingKey, Pkcs1PrivateDecryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{self, RsaEncoding, RsaKeyPair};
use zeroize::Zeroizing;

mod parsed_keys;
mod verify;
pub use verify::AwsLcVerifier;

/// The aws-lc-rs provider: randomness from aws-lc-rs, private keys as [`AwsLcKey`],
/// signatures checked by [`AwsLcVerifier`].
pub static DEFAULT_PROVIDER: CryptoProvider = CryptoProvider {
    secure_random: &AwsLcRandom,
    key_provider: &AwsLcKeyProvider,
    signature_verifier: &AwsLcVerifier,
};

/// aws-lc-rs's random generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsLcRandom;

impl SecureRandom for AwsLcRandom {
    fn fill(&self, dest: &mut [u8]) -> std::result::Result<(), GetRandomFailed> {
        aws_lc_rs::rand::fill(dest).map_err(|_| GetRandomFailed)
    }
}

/// Loads keys with [`load_key`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsLcKeyProvider;

impl KeyProvider for AwsLcKeyProvider {
    fn load_private_key(&self, bytes: &[u8]) -> Result<std::sync::Arc<dyn PrivateKeyOps>> {
        load_key(bytes)
    }
}

/// An RSA private key whose private-key operations run on aws-lc-rs.
pub struct AwsLcKey {
    signing: RsaKeyPair,
    pkcs1: Pkcs1PrivateDecryptingKey,
    oaep: OaepPrivateDecryptingKey,
    /// The same key for the combinations aws-lc-rs lacks, and for the public half.
    fallback: rsa::PrivateKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for AwsLcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsLcKey")
            .field("bits", &(self.signing.public_modulus_len() * 8))
            .finish_non_exhaustive()
    }
}

impl AwsLcKey {
    /// Load a key already read by as2-core ([`as2_core::keys`]).
    ///
    /// # Errors
    /// [`Error::Key`] when aws-lc-rs rejects the key (fewer than 2048 or more than 8192
    /// bits, or an inconsistent key).
    pub fn new(key: &rsa::PrivateKey) -> Result<Self> {
        let der = pkcs8::EncodePrivateKey::to_pkcs8_der(key)
            .map_err(|e| Error::Key(format!("encode key: {e}")))?;
        let der = der.as_bytes();
        let rejected = |e: aws_lc_rs::error::KeyRejected| Error::Key(format!("aws-lc-rs: {e}"));
        let unspecified = |_| Error::Key("aws-lc-rs rejected the key".into());
        let signing = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
        let pkcs1 = Pkcs1PrivateDecryptingKey::new(
            PrivateDecryptingKey::from_pkcs8(der).map_err(rejected)?,
        )
        .map_err(unspecified)?;
        let oaep =
            OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(der).map_err(rejected)?)
                .map_err(unspecified)?;
        Ok(Self {
            signing,
            pkcs1,
            oaep,
            fallback: key.clone(),
            rng: SystemRandom::new(),
        })
    }

    /// Load an unencrypted PKCS#8 DER key.
    ///
    /// # Errors
    /// [`Error::Key`] for anything but a usable RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let key = <rsa::PrivateKey as pkcs8::DecodePrivateKey>::from_pkcs8_der(der)
            .map_err(|e| Error::Key(format!("PKCS#8 key: {e}")))?;
        Self::new(&key)
    }

    /// The `rsa` 0.10 form of the same key.
    #[must_use]
    pub fn rsa_key(&self) -> &rsa::PrivateKey {
        &self.fallback
    }
}

/// Loads a stored private key (PKCS#8 DER, or any form
/// [`as2_core::keys::load_any_private_key`] reads) for use behind the codec's seam: an RSA
/// key on aws-lc-rs when it takes the key, else (keys under 2048 bits, which old partners'
/// tooling still makes) on `rsa` 0.10; an elliptic-curve key (P-256, P-384) on as2-core's
/// RustCrypto curves (ECDSA and ECDH cost a fraction of an RSA private-key operation).
///
/// # Errors
/// The bytes are not a private key.
pub fn load_key(bytes: &[u8]) -> Result<std::sync::Arc<dyn PrivateKeyOps>> {
    let key = match as2_core::keys::load_any_private_key(bytes, None)? {
        as2_core::keys::AnyPrivateKey::Rsa(key) => key,
        other => return Ok(other.into_ops()),
    };
    Ok(match AwsLcKey::new(&key) {
        Ok(fast) => std::sync::Arc::new(fast),
        Err(_) => std::sync::Arc::new(key),
    })
}

/// The aws-lc-rs signature encoding, when it has one.
fn encoding(scheme: SignatureScheme, digest: DigestAlgorithm) -> Option<&'static dyn RsaEncoding> {
    Some(match (scheme, digest) {
        (SignatureScheme::Pkcs1v15, DigestAlgorithm::Sha256) => &signature::RSA_PKCS1_SHA256,
        (SignatureScheme::Pkcs1v15, DigestAlgorithm::Sha384) => &signature::RSA_PKCS1_SHA384,
        (SignatureScheme::Pkcs1v15, DigestAlgorithm::Sha512) => &signature::RSA_PKCS1_SHA512,
        (SignatureScheme::Pss, DigestAlgorithm::Sha256) => &signature::RSA_PSS_SHA256,
        (SignatureScheme::Pss, DigestAlgorithm::Sha384) => &signature::RSA_PSS_SHA384,
        (SignatureScheme::Pss, DigestAlgorithm::Sha512) => &signature::RSA_PSS_SHA512,
        _ => return None,
    })
}

/// The aws-lc-rs OAEP parameters, when it has them.
fn oaep(digest: DigestAlgorithm) -> Option<&'static OaepAlgorithm> {
    Some(match digest {
        DigestAlgorithm::Sha1 => &OAEP_SHA1_MGF1SHA1,
        DigestAlgorithm::Sha256 => &OAEP_SHA256_MGF1SHA256,
        DigestAlgorithm::Sha384 => &OAEP_SHA384_MGF1SHA384,
        DigestAlgorithm::Sha512 => &OAEP_SHA512_MGF1SHA512,
        _ => return None,
    })
}

impl PrivateKeyOps for AwsLcKey {
    fn public_key(&self) -> as2_core::crypto::PublicKey {
        as2_core::crypto::PublicKey::Rsa(self.fallback.to_public_key())
    }

    fn sign(
        &self,
        scheme: SignatureScheme,
        digest: DigestAlgorithm,
        message: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Vec<u8>> {
        let Some(encoding) = encoding(scheme, digest) else {
            return PrivateKeyOps::sign(&self.fallback, scheme, digest, message, random);
        };
        let mut sig = vec![0; self.signing.public_modulus_len()];
        self.signing
            .sign(encoding, &self.rng, message, &mut sig)
            .map_err(|_| Error::Crypto("RSA signing (aws-lc-rs) failed".into()))?;
        Ok(sig)
    }

    fn decrypt_key(
        &self,
        transport: KeyTransport,
        encrypted_key: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(vec![0; self.signing.public_modulus_len()]);
        let len = match transport {
            KeyTransport::RsaPkcs1v15 => self
                .pkcs1
                .decrypt(encrypted_key, &mut out)
                .map_err(|_| Error::Decryption)?
                .len(),
            KeyTransport::RsaOaep(d) => {
                let Some(alg) = oaep(d) else {
                    return PrivateKeyOps::decrypt_key(
                        &self.fallback,
                        transport,
                        encrypted_key,
                        random,
                    );
                };
                self.oaep
                    .decrypt(alg, encrypted_key, &mut out, None)
                    .map_err(|_| Error::Decryption)?
                    .len()
            }
            _ => {
                return PrivateKeyOps::decrypt_key(
                    &self.fallback,
                    transport,
                    encrypted_key,
                    random,
                );
            }
        };
        out.truncate(len);
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
