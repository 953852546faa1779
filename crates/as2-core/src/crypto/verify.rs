//! Signature verification behind the provider: [`SignatureVerifier`] checks a signature
//! over a digest with a public key given as a DER SubjectPublicKeyInfo, and
//! [`RustCryptoVerifier`] does it on `rsa` 0.10 and RustCrypto's `p256`/`p384`.

use super::digest::DigestAlgorithm;
use super::public_key::PublicKey;
use super::rsa::{SigAlg, SignatureScheme, verify_prehashed as rsa_verify_prehashed};
use crate::error::{Error, Result};

/// How a signature was made: its scheme, the digest the signed message was hashed with,
/// and for PSS the salt length (MGF1 uses the same digest).
///
/// ```
/// use as2_core::crypto::{DigestAlgorithm, SignatureParams, SignatureScheme};
///
/// let params = SignatureParams::pss(DigestAlgorithm::Sha256, 32);
/// assert_eq!(params.scheme, SignatureScheme::Pss);
/// assert_eq!(params.pss_salt_len, Some(32));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureParams {
    /// PKCS#1 v1.5, PSS or ECDSA.
    pub scheme: SignatureScheme,
    /// The digest the signed message was hashed with (for PSS, the hash of its parameters).
    pub digest: DigestAlgorithm,
    /// The PSS salt length; `None` for the other schemes.
    pub pss_salt_len: Option<usize>,
}

impl SignatureParams {
    /// RSASSA-PKCS1-v1_5 over `digest`.
    #[must_use]
    pub fn pkcs1v15(digest: DigestAlgorithm) -> Self {
        Self {
            scheme: SignatureScheme::Pkcs1v15,
            digest,
            pss_salt_len: None,
        }
    }

    /// RSASSA-PSS over `digest`, MGF1 with `digest`, a salt of `salt_len` bytes.
    #[must_use]
    pub fn pss(digest: DigestAlgorithm, salt_len: usize) -> Self {
        Self {
            scheme: SignatureScheme::Pss,
            digest,
            pss_salt_len: Some(salt_len),
        }
    }

    /// ECDSA over `digest`.
    #[must_use]
    pub fn ecdsa(digest: DigestAlgorithm) -> Self {
        Self {
            scheme: SignatureScheme::Ecdsa,
            digest,
            pss_salt_len: None,
        }
    }

    /// From a SignerInfo's parsed signature algorithm and digest algorithm.
    pub(crate) fn from_signer(alg: SigAlg, digest: DigestAlgorithm) -> Self {
        match (alg.scheme, alg.pss) {
            (SignatureScheme::Pss, Some((hash, salt))) => Self::pss(hash, salt),
            (SignatureScheme::Pss, None) => Self::pss(digest, digest.output_len()),
            (SignatureScheme::Ecdsa, _) => Self::ecdsa(digest),
            (SignatureScheme::Pkcs1v15, _) => Self::pkcs1v15(digest),
        }
    }
}

/// Verifies signatures with public keys: the part of a provider that checks partners'
/// signatures (CMS SignedData on messages and MDNs).
pub trait SignatureVerifier: std::fmt::Debug + Send + Sync {
    /// Verify `signature` over a message whose `params.digest` digest is `hashed`, with the
    /// public key `spki_der` (a DER SubjectPublicKeyInfo). A scheme that does not fit the
    /// key does not verify.
    ///
    /// # Errors
    /// [`Error::Signature`] when it does not verify, [`Error::Key`] when the key cannot be
    /// read.
    fn verify_prehashed(
        &self,
        spki_der: &[u8],
        params: SignatureParams,
        hashed: &[u8],
        signature: &[u8],
    ) -> Result<()>;
}

/// Verification on `rsa` 0.10 (PKCS#1 v1.5 and PSS with every digest, SHA-3 and MD5
/// included) and `p256`/`p384` (ECDSA).
#[derive(Debug, Clone, Copy, Default)]
#[allow(clippy::exhaustive_structs)]
pub struct RustCryptoVerifier;

impl SignatureVerifier for RustCryptoVerifier {
    fn verify_prehashed(
        &self,
        spki_der: &[u8],
        params: SignatureParams,
        hashed: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        match (PublicKey::from_spki_der(spki_der)?, params.scheme) {
            (PublicKey::Ec(k), SignatureScheme::Ecdsa) => k.verify_prehashed(hashed, signature),
            (PublicKey::Rsa(k), SignatureScheme::Pkcs1v15 | SignatureScheme::Pss) => {
                let alg = SigAlg {
                    scheme: params.scheme,
                    pss: (params.scheme == SignatureScheme::Pss).then(|| {
                        let salt = params.pss_salt_len.unwrap_or(params.digest.output_len());
                        (params.digest, salt)
                    }),
                };
                rsa_verify_prehashed(&k, alg, params.digest, hashed, signature)
            }
            _ => Err(Error::Signature(
                "the signature algorithm does not fit the certificate's key".into(),
            )),
        }
    }
}
