//! Elliptic-curve keys on P-256 and P-384 (RustCrypto `p256`/`p384`): ECDSA signatures
//! over a digest of any [`DigestAlgorithm`], and the ECDH shared secret of RFC 5753 key
//! agreement. Private keys are PKCS#8 (`id-ecPublicKey` with the curve's OID).

use ecdsa::signature::hazmat::{PrehashVerifier as _, RandomizedPrehashSigner as _};
use pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _};
use zeroize::Zeroizing;

use super::digest::DigestAlgorithm;
use super::oids;
use super::provider::{CryptoProvider, Rng, SecureRandom};
use crate::error::{Error, Result};

/// A named elliptic curve the codec supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcCurve {
    /// NIST P-256 (secp256r1, prime256v1)
    P256,
    /// NIST P-384 (secp384r1)
    P384,
}

impl EcCurve {
    /// The curve's OID (the parameters of `id-ecPublicKey`).
    #[must_use]
    pub fn oid(self) -> der::asn1::ObjectIdentifier {
        match self {
            Self::P256 => oids::SECP256R1,
            Self::P384 => oids::SECP384R1,
        }
    }

    /// The length of a field element (and of the shared secret) in bytes.
    #[must_use]
    pub fn field_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }

    /// The longest DER ECDSA-Sig-Value: `r` and `s` each one byte longer than a field
    /// element (a leading zero), in a SEQUENCE with a short-form length.
    #[must_use]
    pub fn max_signature_len(self) -> usize {
        2 + 2 * (2 + self.field_len() + 1)
    }

    /// The KDF digest RFC 5753 pairs with the curve for key agreement: SHA-256 for P-256,
    /// SHA-384 for P-384.
    #[must_use]
    pub fn default_kdf(self) -> DigestAlgorithm {
        match self {
            Self::P256 => DigestAlgorithm::Sha256,
            Self::P384 => DigestAlgorithm::Sha384,
        }
    }
}

/// An elliptic-curve public key (the curve types stay private: no foreign type in the
/// codec's interface).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcPublicKey(PublicInner);

#[derive(Debug, Clone, PartialEq, Eq)]
enum PublicInner {
    P256(p256::PublicKey),
    P384(p384::PublicKey),
}

impl EcPublicKey {
    /// From a DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// Not a P-256 or P-384 key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Ok(Self(PublicInner::P256(k)));
        }
        p384::PublicKey::from_public_key_der(der)
            .map(|k| Self(PublicInner::P384(k)))
            .map_err(|e| Error::Key(format!("EC public key (P-256 or P-384 only): {e}")))
    }

    /// From an uncompressed or compressed SEC1 point on `curve`.
    ///
    /// # Errors
    /// Not a point of the curve.
    pub fn from_sec1(curve: EcCurve, bytes: &[u8]) -> Result<Self> {
        let bad = |_| Error::Key("not a point of the curve".into());
        Ok(match curve {
            EcCurve::P256 => Self(PublicInner::P256(
                p256::PublicKey::from_sec1_bytes(bytes).map_err(bad)?,
            )),
            EcCurve::P384 => Self(PublicInner::P384(
                p384::PublicKey::from_sec1_bytes(bytes).map_err(bad)?,
            )),
        })
    }

    /// The curve.
    #[must_use]
    pub fn curve(&self) -> EcCurve {
        match &self.0 {
            PublicInner::P256(_) => EcCurve::P256,
            PublicInner::P384(_) => EcCurve::P384,
        }
    }

    /// The uncompressed SEC1 point (`04 || x || y`).
    #[must_use]
    pub fn to_sec1(&self) -> Vec<u8> {
        match &self.0 {
            PublicInner::P256(k) => k.to_sec1_bytes().into_vec(),
            PublicInner::P384(k) => k.to_sec1_bytes().into_vec(),
        }
    }

    /// The DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// Encoding failure.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        use pkcs8::EncodePublicKey as _;
        let der = match &self.0 {
            PublicInner::P256(k) => k.to_public_key_der(),
            PublicInner::P384(k) => k.to_public_key_der(),
        }
        .map_err(|e| Error::Key(format!("encode EC public key: {e}")))?;
        Ok(der.into_vec())
    }

    /// Verify a DER ECDSA signature over `hashed` (a digest of any length: it is truncated
    /// or padded to the curve's order as ECDSA says).
    ///
    /// # Errors
    /// [`Error::Signature`] when it does not verify.
    pub(crate) fn verify_prehashed(&self, hashed: &[u8], signature: &[u8]) -> Result<()> {
        let ok = match &self.0 {
            PublicInner::P256(k) => ecdsa::Signature::<p256::NistP256>::from_der(signature)
                .ok()
                .is_some_and(|sig| {
                    p256::ecdsa::VerifyingKey::from(k)
                        .verify_prehash(hashed, &sig)
                        .is_ok()
                }),
            PublicInner::P384(k) => ecdsa::Signature::<p384::NistP384>::from_der(signature)
                .ok()
                .is_some_and(|sig| {
                    p384::ecdsa::VerifyingKey::from(k)
                        .verify_prehash(hashed, &sig)
                        .is_ok()
                }),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Signature("ECDSA signature does not verify".into()))
        }
    }
}

/// An elliptic-curve private key, on the pure-Rust constant-time RustCrypto curves.
#[derive(Clone)]
pub struct EcPrivateKey(SecretInner);

#[derive(Clone)]
enum SecretInner {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
}

impl std::fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EcPrivateKey")
            .field(&self.curve())
            .finish_non_exhaustive()
    }
}

impl EcPrivateKey {
    /// A new key on `curve` from `provider`'s randomness.
    ///
    /// # Errors
    /// The generator failed.
    pub fn generate(provider: &CryptoProvider, curve: EcCurve) -> Result<Self> {
        generate(provider.secure_random, curve)
    }

    /// From unencrypted PKCS#8 DER.
    ///
    /// # Errors
    /// Not a P-256 or P-384 PKCS#8 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
            return Ok(Self(SecretInner::P256(k)));
        }
        p384::SecretKey::from_pkcs8_der(der)
            .map(|k| Self(SecretInner::P384(k)))
            .map_err(|e| Error::Key(format!("EC PKCS#8 key (P-256 or P-384 only): {e}")))
    }

    /// From encrypted PKCS#8 DER.
    ///
    /// # Errors
    /// A wrong password, or not a P-256 or P-384 key.
    pub fn from_pkcs8_encrypted_der(der: &[u8], password: &str) -> Result<Self> {
        if let Ok(k) = p256::SecretKey::from_pkcs8_encrypted_der(der, password) {
            return Ok(Self(SecretInner::P256(k)));
        }
        p384::SecretKey::from_pkcs8_encrypted_der(der, password)
            .map(|k| Self(SecretInner::P384(k)))
            .map_err(|e| Error::Key(format!("encrypted PKCS#8 key (wrong password?): {e}")))
    }

    /// The SEC 1 `ECPrivateKey` DER (`EC PRIVATE KEY` PEM blocks).
    ///
    /// # Errors
    /// Not a P-256 or P-384 key.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
            return Ok(Self(SecretInner::P256(k)));
        }
        p384::SecretKey::from_sec1_der(der)
            .map(|k| Self(SecretInner::P384(k)))
            .map_err(|e| Error::Key(format!("EC key (P-256 or P-384 only): {e}")))
    }

    /// Unencrypted PKCS#8 DER.
    ///
    /// # Errors
    /// Encoding failure.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let doc = match &self.0 {
            SecretInner::P256(k) => k.to_pkcs8_der(),
            SecretInner::P384(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| Error::Key(format!("encode EC key: {e}")))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// The curve.
    #[must_use]
    pub fn curve(&self) -> EcCurve {
        match &self.0 {
            SecretInner::P256(_) => EcCurve::P256,
            SecretInner::P384(_) => EcCurve::P384,
        }
    }

    /// The public half.
    #[must_use]
    pub fn public_key(&self) -> EcPublicKey {
        match &self.0 {
            SecretInner::P256(k) => EcPublicKey(PublicInner::P256(k.public_key())),
            SecretInner::P384(k) => EcPublicKey(PublicInner::P384(k.public_key())),
        }
    }

    /// An ECDSA signature (DER) over `message` hashed with `digest`, always of the
    /// curve's [`EcCurve::max_signature_len`], so that a SignedData's length is known
    /// before signing: a signature whose `r` or `s` encodes shorter is made again with
    /// fresh randomness from `random` (about four signatures on average).
    ///
    /// # Errors
    /// MD5, or the generator failed.
    pub(crate) fn sign(
        &self,
        digest: DigestAlgorithm,
        message: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Vec<u8>> {
        if !digest.can_sign() {
            return Err(Error::UnsupportedAlgorithm(format!(
                "signing with {digest}"
            )));
        }
        let hashed = digest.digest(message);
        let want = self.curve().max_signature_len();
        let failed = |e: ecdsa::Error| Error::Crypto(format!("ECDSA signing: {e}"));
        // (3/4)^256: never in practice
        for _ in 0..256 {
            let mut rng = Rng(random);
            let der = match &self.0 {
                SecretInner::P256(k) => {
                    let sig: ecdsa::der::Signature<p256::NistP256> =
                        p256::ecdsa::SigningKey::from(k)
                            .sign_prehash_with_rng(&mut rng, &hashed)
                            .map_err(failed)?;
                    sig.to_bytes().into_vec()
                }
                SecretInner::P384(k) => {
                    let sig: ecdsa::der::Signature<p384::NistP384> =
                        p384::ecdsa::SigningKey::from(k)
                            .sign_prehash_with_rng(&mut rng, &hashed)
                            .map_err(failed)?;
                    sig.to_bytes().into_vec()
                }
            };
            if der.len() == want {
                return Ok(der);
            }
        }
        Err(Error::Crypto(
            "ECDSA signing: no full-length signature".into(),
        ))
    }

    /// The ECDH shared secret (the x-coordinate, RFC 5753's `Z`) with `peer`.
    ///
    /// # Errors
    /// [`Error::Decryption`] when `peer` is on another curve.
    pub(crate) fn agree(&self, peer: &EcPublicKey) -> Result<Zeroizing<Vec<u8>>> {
        match (&self.0, &peer.0) {
            (SecretInner::P256(k), PublicInner::P256(p)) => Ok(Zeroizing::new(
                k.diffie_hellman(p).raw_secret_bytes().to_vec(),
            )),
            (SecretInner::P384(k), PublicInner::P384(p)) => Ok(Zeroizing::new(
                k.diffie_hellman(p).raw_secret_bytes().to_vec(),
            )),
            _ => Err(Error::Decryption),
        }
    }
}

/// A uniformly random private key: candidates drawn from `random` until one is in range.
pub(crate) fn generate(random: &dyn SecureRandom, curve: EcCurve) -> Result<EcPrivateKey> {
    let mut bytes = Zeroizing::new(vec![0u8; curve.field_len()]);
    for _ in 0..64 {
        random
            .fill(&mut bytes)
            .map_err(|_| Error::Crypto("random generation failed".into()))?;
        let key = match curve {
            EcCurve::P256 => {
                p256::SecretKey::from_slice(&bytes).map(|k| EcPrivateKey(SecretInner::P256(k)))
            }
            EcCurve::P384 => {
                p384::SecretKey::from_slice(&bytes).map(|k| EcPrivateKey(SecretInner::P384(k)))
            }
        };
        if let Ok(key) = key {
            return Ok(key);
        }
    }
    Err(Error::Key("EC key generation failed".into()))
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn sign_verify_agree_every_curve_and_digest() {
        for curve in [EcCurve::P256, EcCurve::P384] {
            let key = generate(crate::testutil::R, curve).unwrap();
            let public = key.public_key();
            for d in [
                DigestAlgorithm::Sha1,
                DigestAlgorithm::Sha256,
                DigestAlgorithm::Sha384,
                DigestAlgorithm::Sha512,
                DigestAlgorithm::Sha3_256,
                DigestAlgorithm::Sha3_512,
            ] {
                let sig = key.sign(d, b"msg", crate::testutil::R).unwrap();
                assert_eq!(sig.len(), curve.max_signature_len());
                public.verify_prehashed(&d.digest(b"msg"), &sig).unwrap();
                assert!(public.verify_prehashed(&d.digest(b"msh"), &sig).is_err());
            }
            assert!(
                key.sign(DigestAlgorithm::Md5, b"m", crate::testutil::R)
                    .is_err()
            );
            let other = generate(crate::testutil::R, curve).unwrap();
            assert_eq!(
                *key.agree(&other.public_key()).unwrap(),
                *other.agree(&public).unwrap()
            );
            let der = key.to_pkcs8_der().unwrap();
            assert_eq!(
                EcPrivateKey::from_pkcs8_der(&der).unwrap().public_key(),
                public
            );
            let spki = public.to_spki_der().unwrap();
            assert_eq!(EcPublicKey::from_spki_der(&spki).unwrap(), public);
            assert_eq!(
                EcPublicKey::from_sec1(curve, &public.to_sec1()).unwrap(),
                public
            );
        }
    }
}
