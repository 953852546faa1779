//! Both verifiers accept the same signatures and refuse the same tampered ones, over
//! every digest and both RSA schemes, raw and inside CMS.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use as2_core::cert::{Certificate, generate_self_signed};
use as2_core::cms::{self, SignOptions};
use as2_core::crypto::{
    CryptoProvider, DigestAlgorithm, EcCurve, PrivateKeyOps, RustCryptoVerifier, SignatureParams,
    SignatureScheme, SignatureVerifier, rust_crypto,
};
use as2_core::keys;

use super::{AwsLcVerifier, aws_lc_parameters};

const RC: &CryptoProvider = &rust_crypto::DEFAULT_PROVIDER;

struct Fixture {
    key: rsa::PrivateKey,
    spki: Vec<u8>,
    cert: Certificate,
}

fn fixture(bits: usize) -> &'static Fixture {
    static F2048: OnceLock<Fixture> = OnceLock::new();
    static F1024: OnceLock<Fixture> = OnceLock::new();
    let cell = if bits == 1024 { &F1024 } else { &F2048 };
    cell.get_or_init(|| {
        // the platform makes no key under 2048 bits, but partners may still have one
        let key = rsa::PrivateKey::new(&mut rand::rng(), bits).unwrap();
        let spki = pkcs8::EncodePublicKey::to_public_key_der(&key.to_public_key())
            .unwrap()
            .into_vec();
        let cert = generate_self_signed(
            RC,
            &key,
            "CN=verify",
            SystemTime::now(),
            Duration::from_secs(3600),
        )
        .unwrap();
        Fixture { key, spki, cert }
    })
}

/// Every digest a signature is made with (MD5 signs nothing).
fn signing_digests() -> impl Iterator<Item = DigestAlgorithm> {
    DigestAlgorithm::ALL.into_iter().filter(|d| d.can_sign())
}

fn params(scheme: SignatureScheme, digest: DigestAlgorithm) -> SignatureParams {
    match scheme {
        SignatureScheme::Pss => SignatureParams::pss(digest, digest.output_len()),
        _ => SignatureParams::pkcs1v15(digest),
    }
}

const VERIFIERS: [&dyn SignatureVerifier; 2] = [&RustCryptoVerifier, &AwsLcVerifier];

#[test]
fn both_verifiers_agree_on_every_digest_and_scheme() {
    for bits in [2048, 1024] {
        let f = fixture(bits);
        let spki = &f.spki;
        for scheme in [SignatureScheme::Pkcs1v15, SignatureScheme::Pss] {
            for d in signing_digests() {
                if scheme == SignatureScheme::Pss && 2 * d.output_len() + 2 > bits / 8 {
                    continue; // the digest and its salt do not fit a 1024-bit PSS block
                }
                let sig =
                    PrivateKeyOps::sign(&f.key, scheme, d, b"message", RC.secure_random).unwrap();
                let hashed = d.digest(b"message");
                let p = params(scheme, d);
                for v in VERIFIERS {
                    v.verify_prehashed(spki, p, &hashed, &sig)
                        .unwrap_or_else(|e| panic!("{v:?} {bits} {scheme:?} {d}: {e}"));
                    let mut tampered = sig.clone();
                    tampered[10] ^= 1;
                    assert!(v.verify_prehashed(spki, p, &hashed, &tampered).is_err());
                    let other = d.digest(b"massage");
                    assert!(v.verify_prehashed(spki, p, &other, &sig).is_err());
                    // the other scheme over the same digest does not verify
                    let wrong = match scheme {
                        SignatureScheme::Pss => SignatureParams::pkcs1v15(d),
                        _ => SignatureParams::pss(d, d.output_len()),
                    };
                    assert!(v.verify_prehashed(spki, wrong, &hashed, &sig).is_err());
                    assert!(v.verify_prehashed(spki, p, &hashed[1..], &sig).is_err());
                }
            }
        }
    }
}

/// Which combinations run on aws-lc-rs; the rest fall back to `rsa` 0.10 (aws-lc-rs has
/// no RSA verification with SHA-224 or SHA-3, no PSS with SHA-1, and none for keys under
/// 2048 bits).
#[test]
fn aws_lc_runs_sha1_and_sha2_and_falls_back_for_the_rest() {
    for d in DigestAlgorithm::ALL {
        let on_aws = matches!(
            d,
            DigestAlgorithm::Sha256 | DigestAlgorithm::Sha384 | DigestAlgorithm::Sha512
        );
        assert_eq!(
            aws_lc_parameters(SignatureParams::pkcs1v15(d), 256).is_some(),
            on_aws || d == DigestAlgorithm::Sha1,
            "{d}"
        );
        assert_eq!(
            aws_lc_parameters(SignatureParams::pss(d, d.output_len()), 512).is_some(),
            on_aws,
            "{d}"
        );
        assert!(aws_lc_parameters(SignatureParams::pkcs1v15(d), 128).is_none());
        assert!(aws_lc_parameters(SignatureParams::pss(d, 7), 256).is_none());
        assert!(aws_lc_parameters(SignatureParams::ecdsa(d), 256).is_none());
    }
}

#[test]
fn cms_signatures_verify_with_both_providers() {
    let f = fixture(2048);
    let trusted = [f.cert.clone()];
    for scheme in [SignatureScheme::Pkcs1v15, SignatureScheme::Pss] {
        for d in signing_digests() {
            let opts = SignOptions::new(SystemTime::now())
                .with_digest(d)
                .with_scheme(scheme);
            let s = cms::sign_detached(RC, b"content", &f.cert, &f.key, &opts).unwrap();
            for provider in [RC, &crate::DEFAULT_PROVIDER] {
                let v = cms::verify_detached(provider, &s, &[b"x", b"content"], &trusted)
                    .unwrap_or_else(|e| panic!("{scheme:?} {d}: {e}"));
                assert_eq!((v.digest, v.content_index), (d, 1));
                assert!(cms::verify_detached(provider, &s, &[b"contenT"], &trusted).is_err());
                let mut bad = s.clone();
                let at = bad.len() - 5;
                bad[at] ^= 1; // inside the signature value, the SignerInfo's last field
                assert!(matches!(
                    cms::verify_detached(provider, &bad, &[b"content"], &trusted),
                    Err(as2_core::Error::Signature(_))
                ));
            }
        }
    }
}

#[test]
fn ecdsa_and_mismatched_keys_fall_back_alike() {
    let ec = keys::generate_ec_key(RC, EcCurve::P256).unwrap();
    let cert = as2_core::cert::generate_self_signed_for(
        RC,
        &ec,
        "CN=ec",
        SystemTime::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let spki = cert.subject_public_key_der().unwrap();
    let sig = ec
        .sign(
            SignatureScheme::Ecdsa,
            DigestAlgorithm::Sha256,
            b"m",
            RC.secure_random,
        )
        .unwrap();
    let hashed = DigestAlgorithm::Sha256.digest(b"m");
    let rsa_spki = &fixture(2048).spki;
    assert_eq!(
        *rsa_spki,
        fixture(2048).cert.subject_public_key_der().unwrap()
    );
    let rsa_sig = PrivateKeyOps::sign(
        &fixture(2048).key,
        SignatureScheme::Pkcs1v15,
        DigestAlgorithm::Sha256,
        b"m",
        RC.secure_random,
    )
    .unwrap();
    for v in VERIFIERS {
        let p = SignatureParams::ecdsa(DigestAlgorithm::Sha256);
        v.verify_prehashed(&spki, p, &hashed, &sig).unwrap();
        assert!(
            v.verify_prehashed(&spki, p, &hashed, &sig[..sig.len() - 1])
                .is_err()
        );
        // an RSA signature checked with the EC key, and the other way round
        let rsa_p = SignatureParams::pkcs1v15(DigestAlgorithm::Sha256);
        assert!(v.verify_prehashed(&spki, rsa_p, &hashed, &rsa_sig).is_err());
        assert!(v.verify_prehashed(rsa_spki, p, &hashed, &sig).is_err());
        v.verify_prehashed(rsa_spki, rsa_p, &hashed, &rsa_sig)
            .unwrap();
        assert!(
            v.verify_prehashed(b"not a key", rsa_p, &hashed, &rsa_sig)
                .is_err()
        );
    }
}
