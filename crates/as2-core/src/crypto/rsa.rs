//! RSA through the `rsa` 0.10 crate: PKCS#1 v1.5 and PSS signatures, PKCS#1 v1.5 and
//! OAEP key transport, and their CMS AlgorithmIdentifiers. `rsa` 0.10 does its private-key
//! arithmetic in constant time (crypto-bigint) and uses implicit rejection for PKCS#1 v1.5
//! decryption, so a padding failure is not observable through timing.

use der::asn1::Any;
use der::{Decode as _, Encode as _, Tagged as _};
use pkcs1::{RsaOaepParams, RsaPssParams};
use rsa::{Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, PrivateKey, PublicKey, pss::Pss};
use spki::AlgorithmIdentifierOwned;

use super::digest::DigestAlgorithm;
use super::oids;
use super::provider::{Rng, SecureRandom};
use crate::error::{Error, Result};

/// Run `$body` with `$d` bound to the digest type of `$alg`.
macro_rules! with_digest {
    ($alg:expr, $d:ident => $body:expr) => {
        match $alg {
            DigestAlgorithm::Md5 => {
                type $d = md5::Md5;
                $body
            }
            DigestAlgorithm::Sha1 => {
                type $d = sha1::Sha1;
                $body
            }
            DigestAlgorithm::Sha224 => {
                type $d = sha2::Sha224;
                $body
            }
            DigestAlgorithm::Sha256 => {
                type $d = sha2::Sha256;
                $body
            }
            DigestAlgorithm::Sha384 => {
                type $d = sha2::Sha384;
                $body
            }
            DigestAlgorithm::Sha512 => {
                type $d = sha2::Sha512;
                $body
            }
            DigestAlgorithm::Sha3_256 => {
                type $d = sha3::Sha3_256;
                $body
            }
            DigestAlgorithm::Sha3_384 => {
                type $d = sha3::Sha3_384;
                $body
            }
            DigestAlgorithm::Sha3_512 => {
                type $d = sha3::Sha3_512;
                $body
            }
        }
    };
}

/// The signature scheme: RSA PKCS#1 v1.5 or PSS, or ECDSA (what an elliptic-curve key
/// always signs with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5
    #[default]
    Pkcs1v15,
    /// RSASSA-PSS (RFC 4056), salt length = digest length, MGF1 with the same digest.
    Pss,
    /// ECDSA (RFC 5753, RFC 5758, RFC 8702): `ecdsa-with-SHAxxx` / `id-ecdsa-with-sha3-xxx`.
    Ecdsa,
}

impl SignatureScheme {
    /// The signatureAlgorithm identifier for a SignerInfo: `rsaEncryption` for PKCS#1
    /// v1.5 with SHA-1/SHA-2 (what OpenSSL writes), `id-rsassa-pkcs1-v1_5-with-sha3-xxx`
    /// with SHA-3 (RFC 8702 §3.2, parameters absent), `ecdsa-with-xxx` for ECDSA
    /// (parameters absent).
    ///
    /// # Errors
    /// Encoding failure, or ECDSA with MD5.
    pub fn algorithm_identifier(self, digest: DigestAlgorithm) -> Result<AlgorithmIdentifierOwned> {
        match self {
            Self::Pkcs1v15 if digest.is_sha3() => Ok(AlgorithmIdentifierOwned {
                oid: digest.rsa_signature_oid(),
                parameters: None,
            }),
            Self::Pkcs1v15 => Ok(AlgorithmIdentifierOwned {
                oid: oids::RSA_ENCRYPTION,
                parameters: Some(Any::null()),
            }),
            Self::Ecdsa => Ok(AlgorithmIdentifierOwned {
                oid: digest
                    .ecdsa_signature_oid()
                    .ok_or_else(|| Error::UnsupportedAlgorithm(format!("ECDSA with {digest}")))?,
                parameters: None,
            }),
            Self::Pss => {
                let salt = u8::try_from(digest.output_len())
                    .map_err(|_| Error::Crypto("salt length".into()))?;
                let params =
                    with_digest!(digest, D => pkcs1::RsaPssParamsRef::new::<D>(salt).to_der()?);
                Ok(AlgorithmIdentifierOwned {
                    oid: oids::RSASSA_PSS,
                    parameters: Some(Any::from_der(&params)?),
                })
            }
        }
    }
}

/// Parsed signature algorithm of a SignerInfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SigAlg {
    pub scheme: SignatureScheme,
    /// For PSS: the hash in the params, and the salt length.
    pub pss: Option<(DigestAlgorithm, usize)>,
}

impl SigAlg {
    /// The digest the signed message is hashed with: the PSS parameters' hash, else the
    /// SignerInfo's `digest`.
    pub(crate) fn message_digest(self, digest: DigestAlgorithm) -> DigestAlgorithm {
        self.pss.map_or(digest, |(hash, _)| hash)
    }
}

/// Interpret a SignerInfo signatureAlgorithm.
pub(crate) fn parse_signature_algorithm(alg: &AlgorithmIdentifierOwned) -> Result<SigAlg> {
    if alg.oid == oids::EC_PUBLIC_KEY || is_ecdsa_oid(alg.oid) {
        return Ok(SigAlg {
            scheme: SignatureScheme::Ecdsa,
            pss: None,
        });
    }
    if alg.oid == oids::RSASSA_PSS {
        let params: RsaPssParams<Any> = match &alg.parameters {
            Some(p) => RsaPssParams::from_der(&p.to_der()?)?,
            None => RsaPssParams::default(),
        };
        let hash = DigestAlgorithm::from_oid(&params.hash.oid)?;
        return Ok(SigAlg {
            scheme: SignatureScheme::Pss,
            pss: Some((hash, usize::from(params.salt_len))),
        });
    }
    if alg.oid == oids::RSA_ENCRYPTION || DigestAlgorithm::from_oid(&alg.oid).is_ok() {
        return Ok(SigAlg {
            scheme: SignatureScheme::Pkcs1v15,
            pss: None,
        });
    }
    Err(Error::UnsupportedAlgorithm(format!(
        "signature {}",
        alg.oid
    )))
}

/// Whether `oid` is one of the `ecdsa-with-xxx` signature algorithms.
fn is_ecdsa_oid(oid: der::asn1::ObjectIdentifier) -> bool {
    DigestAlgorithm::ALL
        .iter()
        .any(|d| d.ecdsa_signature_oid() == Some(oid))
}

/// Sign `message` (hashed here with `digest`).
///
/// # Errors
/// MD5 requested, or the RSA operation failed.
pub(crate) fn sign(
    key: &PrivateKey,
    scheme: SignatureScheme,
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
    let mut rng = Rng(random);
    let res = match scheme {
        SignatureScheme::Pkcs1v15 => {
            with_digest!(digest, D => key.sign_with_rng(&mut rng, Pkcs1v15Sign::new::<D>(), &hashed))
        }
        SignatureScheme::Pss => with_digest!(digest, D => key.sign_with_rng(
            &mut rng,
            Pss::<D>::new_with_salt(digest.output_len()),
            &hashed
        )),
        SignatureScheme::Ecdsa => {
            return Err(Error::UnsupportedAlgorithm(
                "ECDSA signature with an RSA key".into(),
            ));
        }
    };
    res.map_err(|e| Error::Crypto(format!("RSA signing: {e}")))
}

/// Verify a signature over `message` (hashed here).
///
/// # Errors
/// [`Error::Signature`] when it does not verify.
#[cfg(test)]
pub(crate) fn verify(
    key: &PublicKey,
    alg: SigAlg,
    digest: DigestAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let hashed = alg.message_digest(digest).digest(message);
    verify_prehashed(key, alg, digest, &hashed, signature)
}

/// [`verify`] of a message already hashed with [`SigAlg::message_digest`], so that one
/// hash serves every signer and certificate tried.
///
/// # Errors
/// [`Error::Signature`] when it does not verify.
pub(crate) fn verify_prehashed(
    key: &PublicKey,
    alg: SigAlg,
    digest: DigestAlgorithm,
    hashed: &[u8],
    signature: &[u8],
) -> Result<()> {
    let res = match (alg.scheme, alg.pss) {
        (SignatureScheme::Pss, Some((hash, salt))) => {
            with_digest!(hash, D => key.verify(Pss::<D>::new_with_salt(salt), hashed, signature))
        }
        (SignatureScheme::Ecdsa, _) => {
            return Err(Error::Signature(
                "an ECDSA signature cannot verify with an RSA key".into(),
            ));
        }
        _ => with_digest!(digest, D => key.verify(Pkcs1v15Sign::new::<D>(), hashed, signature)),
    };
    res.map_err(|_| Error::Signature("RSA signature does not verify".into()))
}

/// RSA key transport for EnvelopedData recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KeyTransport {
    /// RSAES-PKCS1-v1_5
    #[default]
    RsaPkcs1v15,
    /// RSAES-OAEP (RFC 4055) with this hash for both OAEP and MGF1, empty label.
    RsaOaep(DigestAlgorithm),
}

impl KeyTransport {
    /// The keyEncryptionAlgorithm identifier.
    ///
    /// # Errors
    /// Encoding failure.
    pub fn algorithm_identifier(self) -> Result<AlgorithmIdentifierOwned> {
        match self {
            Self::RsaPkcs1v15 => Ok(AlgorithmIdentifierOwned {
                oid: oids::RSA_ENCRYPTION,
                parameters: Some(Any::null()),
            }),
            Self::RsaOaep(d) => {
                let params = with_digest!(d, D => pkcs1::RsaOaepParamsRef::new::<D>().to_der()?);
                Ok(AlgorithmIdentifierOwned {
                    oid: oids::RSAES_OAEP,
                    parameters: Some(Any::from_der(&params)?),
                })
            }
        }
    }

    /// From a keyEncryptionAlgorithm identifier.
    ///
    /// # Errors
    /// Unsupported algorithm or parameters (an MGF1 hash different from the OAEP hash,
    /// or a non-empty label).
    pub fn from_algorithm_identifier(alg: &AlgorithmIdentifierOwned) -> Result<Self> {
        if alg.oid == oids::RSA_ENCRYPTION {
            return Ok(Self::RsaPkcs1v15);
        }
        if alg.oid != oids::RSAES_OAEP {
            return Err(Error::UnsupportedAlgorithm(format!(
                "key transport {}",
                alg.oid
            )));
        }
        let params: RsaOaepParams<Any> = match &alg.parameters {
            Some(p) if p.tag() != der::Tag::Null => RsaOaepParams::from_der(&p.to_der()?)?,
            _ => RsaOaepParams::default(),
        };
        let hash = DigestAlgorithm::from_oid(&params.hash.oid)?;
        let mgf_hash = params
            .mask_gen
            .parameters
            .as_ref()
            .map_or(Ok(DigestAlgorithm::Sha1), |p| {
                DigestAlgorithm::from_oid(&p.oid)
            })?;
        if mgf_hash != hash {
            return Err(Error::UnsupportedAlgorithm(format!(
                "OAEP with {hash} and MGF1-{mgf_hash}"
            )));
        }
        if params.p_source.oid != oids::P_SPECIFIED {
            return Err(Error::UnsupportedAlgorithm("OAEP pSource".into()));
        }
        Ok(Self::RsaOaep(hash))
    }

    /// Encrypt a content-encryption key for a recipient, with padding from `random`.
    ///
    /// # Errors
    /// The RSA operation failed (key too small).
    pub fn encrypt(
        self,
        key: &PublicKey,
        cek: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<Vec<u8>> {
        let mut rng = Rng(random);
        let res = match self {
            Self::RsaPkcs1v15 => key.encrypt(&mut rng, Pkcs1v15Encrypt, cek),
            Self::RsaOaep(d) => with_digest!(d, D => key.encrypt(&mut rng, Oaep::<D>::new(), cek)),
        };
        res.map_err(|e| Error::Crypto(format!("RSA key transport: {e}")))
    }

    /// Decrypt a content-encryption key, blinded with `random`. Every failure is
    /// [`Error::Decryption`].
    ///
    /// # Errors
    /// [`Error::Decryption`].
    pub fn decrypt(
        self,
        key: &PrivateKey,
        encrypted_key: &[u8],
        random: &dyn SecureRandom,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut rng = Rng(random);
        let res = match self {
            Self::RsaPkcs1v15 => key.decrypt_blinded(&mut rng, Pkcs1v15Encrypt, encrypted_key),
            Self::RsaOaep(d) => {
                with_digest!(d, D => key.decrypt_blinded(&mut rng, Oaep::<D>::new(), encrypted_key))
            }
        };
        res.map(zeroize::Zeroizing::new)
            .map_err(|_| Error::Decryption)
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
pub(crate) mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// A shared 2048-bit test key (generation is slow).
    pub(crate) fn test_key() -> &'static PrivateKey {
        static KEY: OnceLock<PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| PrivateKey::new(&mut Rng(crate::testutil::R), 2048).unwrap())
    }

    #[test]
    fn sign_verify_and_transport() {
        let key = test_key();
        let public = key.to_public_key();
        for scheme in [SignatureScheme::Pkcs1v15, SignatureScheme::Pss] {
            for d in [
                DigestAlgorithm::Sha1,
                DigestAlgorithm::Sha256,
                DigestAlgorithm::Sha512,
            ] {
                let sig = sign(key, scheme, d, b"msg", crate::testutil::R).unwrap();
                let alg =
                    parse_signature_algorithm(&scheme.algorithm_identifier(d).unwrap()).unwrap();
                verify(&public, alg, d, b"msg", &sig).unwrap();
                assert!(verify(&public, alg, d, b"msh", &sig).is_err());
            }
        }
        for kt in [
            KeyTransport::RsaPkcs1v15,
            KeyTransport::RsaOaep(DigestAlgorithm::Sha1),
            KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
            KeyTransport::RsaOaep(DigestAlgorithm::Sha512),
        ] {
            let ai = kt.algorithm_identifier().unwrap();
            assert_eq!(KeyTransport::from_algorithm_identifier(&ai).unwrap(), kt);
            let ct = kt
                .encrypt(&public, b"0123456789abcdef", crate::testutil::R)
                .unwrap();
            assert_eq!(
                kt.decrypt(key, &ct, crate::testutil::R).unwrap().as_slice(),
                b"0123456789abcdef"
            );
        }
    }
}
