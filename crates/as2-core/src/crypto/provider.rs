//! The crypto provider: where the codec's randomness and private-key implementation come
//! from, passed in by the caller (the rustls `CryptoProvider` shape). The codec has no
//! process-wide default: every operation that needs randomness or loads a key is given a
//! [`CryptoProvider`], and the binaries choose which one. Partners' signatures are checked
//! with its [`SignatureVerifier`].

use std::sync::Arc;

use super::key_ops::PrivateKeyOps;
use super::verify::SignatureVerifier;
use crate::error::{Error, Result};

/// The parts of a crypto backend the codec uses.
///
/// It is a plain struct of `&'static` parts, so one part can be replaced while the others
/// are kept:
///
/// ```
/// use as2_core::crypto::{CryptoProvider, GetRandomFailed, SecureRandom, rust_crypto};
///
/// /// Not random at all: for reproducible test vectors only.
/// #[derive(Debug)]
/// struct Zeros;
///
/// impl SecureRandom for Zeros {
///     fn fill(&self, dest: &mut [u8]) -> Result<(), GetRandomFailed> {
///         dest.fill(0);
///         Ok(())
///     }
/// }
///
/// static ZEROS: CryptoProvider = CryptoProvider {
///     secure_random: &Zeros,
///     ..rust_crypto::DEFAULT_PROVIDER
/// };
/// assert_eq!(ZEROS.random_bytes(2).unwrap(), [0, 0]);
/// ```
///
/// A backend crate exports its provider as a `static` (`rust_crypto::DEFAULT_PROVIDER`
/// here, `as2_crypto_aws_lc::DEFAULT_PROVIDER` for aws-lc-rs); the caller passes a
/// reference to it into the codec's functions and configurations. Deliberately exhaustive,
/// as rustls's is: a provider is built with a struct literal.
#[derive(Debug, Clone, Copy)]
#[allow(clippy::exhaustive_structs)]
pub struct CryptoProvider {
    /// Random bytes: content-encryption keys and IVs, the RFC 3218 substitute key, RSA
    /// blinding and padding, certificate serial numbers, MIME boundaries, Message-IDs.
    pub secure_random: &'static dyn SecureRandom,
    /// Turns stored private keys into key objects behind [`PrivateKeyOps`].
    pub key_provider: &'static dyn KeyProvider,
    /// Checks signatures with public keys: partners' signatures on messages and MDNs.
    pub signature_verifier: &'static dyn SignatureVerifier,
}

impl CryptoProvider {
    /// `len` random bytes from [`Self::secure_random`].
    ///
    /// # Errors
    /// [`Error::Crypto`] when the generator fails.
    pub fn random_bytes(&self, len: usize) -> Result<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.fill_random(&mut v)?;
        Ok(v)
    }

    /// Fill `dest` from [`Self::secure_random`].
    ///
    /// # Errors
    /// [`Error::Crypto`] when the generator fails.
    pub fn fill_random(&self, dest: &mut [u8]) -> Result<()> {
        self.secure_random
            .fill(dest)
            .map_err(|GetRandomFailed| Error::Crypto("random generation failed".into()))
    }

    /// Load a private key (PKCS#8 DER, or any form [`crate::keys::load_private_key`]
    /// reads) with [`Self::key_provider`].
    ///
    /// # Errors
    /// The bytes are not a usable private key.
    pub fn load_private_key(&self, bytes: &[u8]) -> Result<Arc<dyn PrivateKeyOps>> {
        self.key_provider.load_private_key(bytes)
    }
}

/// A cryptographically secure random generator.
pub trait SecureRandom: std::fmt::Debug + Send + Sync {
    /// Fill `dest` with random bytes.
    ///
    /// # Errors
    /// The generator failed; nothing may be assumed about `dest`.
    fn fill(&self, dest: &mut [u8]) -> std::result::Result<(), GetRandomFailed>;
}

/// A random generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::exhaustive_structs)]
pub struct GetRandomFailed;

impl std::fmt::Display for GetRandomFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("random generation failed")
    }
}

impl std::error::Error for GetRandomFailed {}

/// Loads private keys for a backend.
pub trait KeyProvider: std::fmt::Debug + Send + Sync {
    /// Load a private key (PKCS#8 DER, or any form [`crate::keys::load_private_key`]
    /// reads).
    ///
    /// # Errors
    /// The bytes are not a usable private key.
    fn load_private_key(&self, bytes: &[u8]) -> Result<Arc<dyn PrivateKeyOps>>;
}

/// A [`SecureRandom`] as the random generator the RustCrypto crates (`rsa`) take.
pub(crate) struct Rng<'a>(pub(crate) &'a dyn SecureRandom);

impl rand_core::TryRng for Rng<'_> {
    type Error = GetRandomFailed;

    fn try_next_u32(&mut self) -> std::result::Result<u32, GetRandomFailed> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> std::result::Result<u64, GetRandomFailed> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), GetRandomFailed> {
        self.0.fill(dst)
    }
}

impl rand_core::TryCryptoRng for Rng<'_> {}

/// The RustCrypto provider: randomness from `rand`'s thread-local CSPRNG (ChaCha, seeded
/// and reseeded from the operating system), private keys on the pure-Rust, constant-time
/// `rsa` 0.10 crate and RustCrypto's `p256`/`p384`. What library crates and tests use; the binaries choose
/// `as2_crypto_aws_lc::DEFAULT_PROVIDER` for faster RSA private-key operations.
pub mod rust_crypto {
    use std::sync::Arc;

    use super::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom};
    use crate::crypto::PrivateKeyOps;
    pub use crate::crypto::RustCryptoVerifier;
    use crate::error::Result;

    /// The RustCrypto provider.
    pub static DEFAULT_PROVIDER: CryptoProvider = CryptoProvider {
        secure_random: &ThreadRandom,
        key_provider: &RsaKeyProvider,
        signature_verifier: &RustCryptoVerifier,
    };

    /// `rand`'s thread-local CSPRNG.
    #[derive(Debug, Clone, Copy, Default)]
    #[allow(clippy::exhaustive_structs)]
    pub struct ThreadRandom;

    impl SecureRandom for ThreadRandom {
        #[allow(
            clippy::disallowed_methods,
            reason = "the provider is the one place the codec's randomness comes from"
        )]
        fn fill(&self, dest: &mut [u8]) -> Result<(), GetRandomFailed> {
            rand::Rng::fill_bytes(&mut rand::rng(), dest);
            Ok(())
        }
    }

    /// RSA keys on `rsa` 0.10, elliptic-curve keys on `p256`/`p384`.
    #[derive(Debug, Clone, Copy, Default)]
    #[allow(clippy::exhaustive_structs)]
    pub struct RsaKeyProvider;

    impl KeyProvider for RsaKeyProvider {
        fn load_private_key(&self, bytes: &[u8]) -> Result<Arc<dyn PrivateKeyOps>> {
            Ok(crate::keys::load_any_private_key(bytes, None)?.into_ops())
        }
    }
}
