//! A public key of any kind the codec handles (RSA, or P-256/P-384), as certificates and
//! private keys give it: what chooses the signature algorithm and the recipient kind
//! (key transport for RSA, key agreement for elliptic curves).

use pkcs8::{DecodePublicKey as _, EncodePublicKey as _};

use super::digest::DigestAlgorithm;
use super::ec::EcPublicKey;
use super::oids;
use super::rsa::SignatureScheme;
use crate::error::{Error, Result};

/// A public key: RSA or elliptic-curve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// An RSA key.
    Rsa(rsa::PublicKey),
    /// A P-256 or P-384 key.
    Ec(EcPublicKey),
}

impl PublicKey {
    /// From a DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// Neither RSA nor P-256/P-384.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let spki = spki::SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| Error::Key(format!("public key: {e}")))?;
        if spki.algorithm.oid == oids::EC_PUBLIC_KEY {
            return EcPublicKey::from_spki_der(der).map(Self::Ec);
        }
        rsa::PublicKey::from_public_key_der(der)
            .map(Self::Rsa)
            .map_err(|e| Error::Key(format!("public key (RSA, P-256 or P-384 only): {e}")))
    }

    /// The DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// Encoding failure.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        match self {
            Self::Rsa(k) => Ok(k
                .to_public_key_der()
                .map_err(|e| Error::Key(format!("public key: {e}")))?
                .into_vec()),
            Self::Ec(k) => k.to_spki_der(),
        }
    }

    /// The RSA key, if it is one.
    #[must_use]
    pub fn as_rsa(&self) -> Option<&rsa::PublicKey> {
        match self {
            Self::Rsa(k) => Some(k),
            Self::Ec(_) => None,
        }
    }

    /// The longest signature the matching private key makes (an RSA signature is as long
    /// as the modulus; ours with ECDSA are always the longest DER encoding).
    #[must_use]
    pub fn max_signature_len(&self) -> usize {
        use rsa::traits::PublicKeyParts as _;
        match self {
            Self::Rsa(k) => k.size(),
            Self::Ec(k) => k.curve().max_signature_len(),
        }
    }

    /// The signature scheme the matching private key signs with when `requested` is asked
    /// for: `requested` for RSA, ECDSA for an elliptic-curve key.
    #[must_use]
    pub fn signature_scheme(&self, requested: SignatureScheme) -> SignatureScheme {
        match self {
            Self::Rsa(_) => requested,
            Self::Ec(_) => SignatureScheme::Ecdsa,
        }
    }

    /// Short description for people: `RSA-2048`, `EC P-256`.
    #[must_use]
    pub fn describe(&self) -> String {
        use rsa::traits::PublicKeyParts as _;
        match self {
            Self::Rsa(k) => format!("RSA-{}", k.size() * 8),
            Self::Ec(k) => match k.curve() {
                super::ec::EcCurve::P256 => "EC P-256".to_owned(),
                super::ec::EcCurve::P384 => "EC P-384".to_owned(),
            },
        }
    }

    /// The signature algorithm OID used in certificates signed with this key over
    /// `digest` (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`, ...).
    ///
    /// # Errors
    /// MD5 with an elliptic-curve key.
    pub fn certificate_signature_oid(
        &self,
        digest: DigestAlgorithm,
    ) -> Result<der::asn1::ObjectIdentifier> {
        match self {
            Self::Rsa(_) => Ok(digest.rsa_signature_oid()),
            Self::Ec(_) => digest
                .ecdsa_signature_oid()
                .ok_or_else(|| Error::UnsupportedAlgorithm(format!("ECDSA with {digest}"))),
        }
    }
}

impl From<rsa::PublicKey> for PublicKey {
    fn from(key: rsa::PublicKey) -> Self {
        Self::Rsa(key)
    }
}

impl From<EcPublicKey> for PublicKey {
    fn from(key: EcPublicKey) -> Self {
        Self::Ec(key)
    }
}
