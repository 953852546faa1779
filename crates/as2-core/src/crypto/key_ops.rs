//! The seam for private-key operations. The codec signs, unwraps content keys and agrees
//! on key-encryption keys only through [`PrivateKeyOps`], so a faster or hardware-backed
//! implementation (aws-lc-rs, an HSM) can replace the pure-Rust ones implemented here:
//! RSA on `rsa` 0.10, and P-256/P-384 ([`EcPrivateKey`]) on RustCrypto's curves.

use zeroize::Zeroizing;

use super::digest::DigestAlgorithm;
use super::ec::{EcPrivateKey, EcPublicKey};
use super::provider::SecureRandom;
use super::public_key::PublicKey;
use super::rsa::{KeyTransport, SignatureScheme, sign};
use crate::error::{Error, Result};

/// A private key the codec can use: RSA (signatures and key transport) or elliptic-curve
/// (ECDSA signatures and ECDH key agreement).
///
/// Implementations must keep [`PrivateKeyOps::decrypt_key`] free of padding oracles: any
/// failure is [`crate::Error::Decryption`], ideally with implicit rejection (the codec adds
/// RFC 3218 random-key substitution on top).
pub trait PrivateKeyOps: std::fmt::Debug + Send + Sync {
    /// The public half (to match certificates, and to choose the signature algorithm).
    fn public_key(&self) -> PublicKey;

    /// Sign `message`, hashing it with `digest`; `random` is the provider's generator
    /// (for blinding, PSS salts and ECDSA nonces), which an implementation with its own may
    /// ignore. An elliptic-curve key signs with ECDSA whatever `scheme` says (the scheme
    /// chooses between the RSA ones).
    ///
    /// # Errors
    /// An unsupported combination or a failed operation.
    fn sign(
        &self,
        scheme: SignatureScheme,
        digest: DigestAlgorithm,
        message: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Vec<u8>>;

    /// Decrypt a content-encryption key; `random` is the provider's generator (for
    /// blinding), which an implementation with its own may ignore.
    ///
    /// # Errors
    /// [`crate::Error::Decryption`] on any failure.
    fn decrypt_key(
        &self,
        transport: KeyTransport,
        encrypted_key: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Zeroizing<Vec<u8>>>;

    /// The ECDH shared secret with `peer` (RFC 5753 key agreement, the recipient's side).
    /// Only elliptic-curve keys agree; the default is [`crate::Error::Decryption`].
    ///
    /// # Errors
    /// [`crate::Error::Decryption`] on any failure.
    fn agree(&self, peer: &EcPublicKey) -> Result<Zeroizing<Vec<u8>>> {
        let _ = peer;
        Err(Error::Decryption)
    }
}

impl PrivateKeyOps for rsa::PrivateKey {
    fn public_key(&self) -> PublicKey {
        PublicKey::Rsa(self.to_public_key())
    }

    fn sign(
        &self,
        scheme: SignatureScheme,
        digest: DigestAlgorithm,
        message: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Vec<u8>> {
        sign(self, scheme, digest, message, random)
    }

    fn decrypt_key(
        &self,
        transport: KeyTransport,
        encrypted_key: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Zeroizing<Vec<u8>>> {
        transport.decrypt(self, encrypted_key, random)
    }
}

impl PrivateKeyOps for EcPrivateKey {
    fn public_key(&self) -> PublicKey {
        PublicKey::Ec(Self::public_key(self))
    }

    fn sign(
        &self,
        _scheme: SignatureScheme,
        digest: DigestAlgorithm,
        message: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Vec<u8>> {
        Self::sign(self, digest, message, random)
    }

    fn decrypt_key(
        &self,
        _transport: KeyTransport,
        _encrypted_key: &[u8],
        _random: &dyn SecureRandom,
    ) -> Result<Zeroizing<Vec<u8>>> {
        Err(Error::Decryption)
    }

    fn agree(&self, peer: &EcPublicKey) -> Result<Zeroizing<Vec<u8>>> {
        Self::agree(self, peer)
    }
}
