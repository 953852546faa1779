//! The seam for RSA private-key operations. The codec signs and unwraps content keys only
//! through [`PrivateKeyOps`], so a faster or hardware-backed implementation (aws-lc-rs, an
//! HSM) can replace the pure-Rust `rsa` 0.10 one, which is implemented here.

use zeroize::Zeroizing;

use super::digest::DigestAlgorithm;
use super::provider::SecureRandom;
use super::rsa::{KeyTransport, SignatureScheme, sign};
use crate::error::Result;

/// An RSA private key the codec can use.
///
/// Implementations must keep [`PrivateKeyOps::decrypt_key`] free of padding oracles: any
/// failure is [`crate::Error::Decryption`], ideally with implicit rejection (the codec adds
/// RFC 3218 random-key substitution on top).
pub trait PrivateKeyOps: std::fmt::Debug + Send + Sync {
    /// The public half (to match certificates).
    fn public_key(&self) -> rsa::PublicKey;

    /// Sign `message`, hashing it with `digest`; `random` is the provider's generator
    /// (for blinding and PSS salts), which an implementation with its own may ignore.
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
}

impl PrivateKeyOps for rsa::PrivateKey {
    fn public_key(&self) -> rsa::PublicKey {
        self.to_public_key()
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
