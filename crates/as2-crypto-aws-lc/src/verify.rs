//! Signature verification on aws-lc-rs: RSA PKCS#1 v1.5 and PSS public-key operations
//! through `aws_lc_rs::signature::ParsedPublicKey::verify_digest_sig` (each key parsed once
//! per process, [`crate::parsed_keys`]), the digest given (CMS hashes the DER of the signed
//! attributes, or the content, once for every certificate tried).

use as2_core::crypto::{
    DigestAlgorithm, RustCryptoVerifier, SignatureParams, SignatureScheme, SignatureVerifier,
};
use as2_core::{Error, Result};
use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::{self, RsaParameters};

/// RSA signatures verified with aws-lc-rs.
///
/// aws-lc-rs has RSA verification with SHA-1, SHA-256, SHA-384 and SHA-512 for keys of
/// 2048 to 8192 bits (PSS with the salt as long as the digest, MGF1 with the same hash).
/// What it lacks falls back to [`RustCryptoVerifier`], so this verifier accepts exactly
/// what the default one accepts: MD5, SHA-224 and SHA-3 (RFC 8702) digests, PSS with
/// another salt length, keys under 2048 bits (told by the signature's length, which a
/// valid signature shares with the modulus) and ECDSA (our own ECDSA signatures are
/// always at their longest DER length, which aws-lc-rs's stricter parser is not asked to
/// accept; ECDSA is not on the gateway's hot path).
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsLcVerifier;

/// The smallest RSA signature aws-lc-rs's 2048–8192 parameters take.
const MIN_RSA_SIGNATURE_LEN: usize = 2048 / 8;
/// The largest.
const MAX_RSA_SIGNATURE_LEN: usize = 8192 / 8;

impl SignatureVerifier for AwsLcVerifier {
    fn verify_prehashed(
        &self,
        spki_der: &[u8],
        params: SignatureParams,
        hashed: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let Some((algorithm, digest_alg)) = aws_lc_parameters(params, signature.len()) else {
            return RustCryptoVerifier.verify_prehashed(spki_der, params, hashed, signature);
        };
        if !is_rsa_key(spki_der) {
            return RustCryptoVerifier.verify_prehashed(spki_der, params, hashed, signature);
        }
        let digest = Digest::import_less_safe(hashed, digest_alg)
            .map_err(|_| Error::Signature("RSA signature does not verify".into()))?;
        crate::parsed_keys::parsed(algorithm, spki_der)
            .ok()
            .and_then(|key| key.verify_digest_sig(&digest, signature).ok())
            .ok_or_else(|| Error::Signature("RSA signature does not verify".into()))
    }
}

/// The aws-lc-rs parameters and digest for `params`, or `None` where aws-lc-rs has none.
fn aws_lc_parameters(
    params: SignatureParams,
    signature_len: usize,
) -> Option<(&'static RsaParameters, &'static digest::Algorithm)> {
    if !(MIN_RSA_SIGNATURE_LEN..=MAX_RSA_SIGNATURE_LEN).contains(&signature_len) {
        return None;
    }
    let pss_default_salt = params.pss_salt_len == Some(params.digest.output_len());
    match (params.scheme, params.digest) {
        (SignatureScheme::Pkcs1v15, DigestAlgorithm::Sha1) => Some((
            &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
        )),
        (SignatureScheme::Pkcs1v15, DigestAlgorithm::Sha256) => {
            Some((&signature::RSA_PKCS1_2048_8192_SHA256, &digest::SHA256))
        }
        (SignatureScheme::Pkcs1v15, DigestAlgorithm::Sha384) => {
            Some((&signature::RSA_PKCS1_2048_8192_SHA384, &digest::SHA384))
        }
        (SignatureScheme::Pkcs1v15, DigestAlgorithm::Sha512) => {
            Some((&signature::RSA_PKCS1_2048_8192_SHA512, &digest::SHA512))
        }
        (SignatureScheme::Pss, DigestAlgorithm::Sha256) if pss_default_salt => {
            Some((&signature::RSA_PSS_2048_8192_SHA256, &digest::SHA256))
        }
        (SignatureScheme::Pss, DigestAlgorithm::Sha384) if pss_default_salt => {
            Some((&signature::RSA_PSS_2048_8192_SHA384, &digest::SHA384))
        }
        (SignatureScheme::Pss, DigestAlgorithm::Sha512) if pss_default_salt => {
            Some((&signature::RSA_PSS_2048_8192_SHA512, &digest::SHA512))
        }
        _ => None,
    }
}

/// Whether `spki_der` is an `rsaEncryption` SubjectPublicKeyInfo (an RSA-PSS or EC key
/// goes the RustCrypto way, which tells a scheme that does not fit the key).
fn is_rsa_key(spki_der: &[u8]) -> bool {
    as2_core::spki::SubjectPublicKeyInfoRef::try_from(spki_der)
        .is_ok_and(|spki| spki.algorithm.oid == as2_core::crypto::oids::RSA_ENCRYPTION)
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
