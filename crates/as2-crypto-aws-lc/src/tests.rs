//! Cross-checks of [`AwsLcKey`] against as2-core's own `rsa` 0.10 implementation.

use std::sync::OnceLock;
use std::time::Duration;

use as2_core::cert::{Certificate, generate_self_signed};
use as2_core::cms::{self, DecryptionKey, EncryptOptions, SignOptions};
use as2_core::crypto::{
    ContentEncryption, DigestAlgorithm, KeyTransport, PrivateKeyOps, SignatureScheme,
};
use as2_core::{Error, keys};
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};

use super::AwsLcKey;

struct Fixture {
    rsa: rsa::PrivateKey,
    aws: AwsLcKey,
    cert: Certificate,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rsa =
            keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048).unwrap();
        let aws = AwsLcKey::new(&rsa).unwrap();
        let cert = generate_self_signed(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            &rsa,
            "CN=aws-lc",
            std::time::SystemTime::now(),
            Duration::from_secs(3600),
        )
        .unwrap();
        Fixture { rsa, aws, cert }
    })
}

const DIGESTS: [DigestAlgorithm; 5] = [
    DigestAlgorithm::Sha1,
    DigestAlgorithm::Sha224,
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
];

/// The public key in the PKCS#1 DER form aws-lc-rs verifies with.
fn aws_public(key: &rsa::PrivateKey) -> Vec<u8> {
    rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&key.to_public_key())
        .unwrap()
        .into_vec()
}

#[test]
fn pkcs1v15_signatures_are_identical() {
    let f = fixture();
    for d in DIGESTS {
        let a = f
            .aws
            .sign(
                SignatureScheme::Pkcs1v15,
                d,
                b"payload",
                as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
            )
            .unwrap();
        let r = PrivateKeyOps::sign(
            &f.rsa,
            SignatureScheme::Pkcs1v15,
            d,
            b"payload",
            as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
        )
        .unwrap();
        assert_eq!(a, r, "{d}");
    }
}

#[test]
fn cms_signatures_verify_both_ways() {
    let f = fixture();
    let trusted = [f.cert.clone()];
    for scheme in [SignatureScheme::Pkcs1v15, SignatureScheme::Pss] {
        for digest in DIGESTS {
            let opts = SignOptions::new(std::time::SystemTime::now())
                .with_digest(digest)
                .with_scheme(scheme);
            for key in [&f.aws as &dyn PrivateKeyOps, &f.rsa] {
                let s = cms::sign_detached(
                    &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                    b"content",
                    &f.cert,
                    key,
                    &opts,
                )
                .unwrap();
                let v = cms::verify_detached(&crate::DEFAULT_PROVIDER, &s, &[b"content"], &trusted)
                    .unwrap();
                assert_eq!(v.digest, digest);
                assert!(
                    cms::verify_detached(&crate::DEFAULT_PROVIDER, &s, &[b"contenT"], &trusted)
                        .is_err()
                );
            }
        }
    }
}

#[test]
fn rsa_pss_signature_verifies_with_aws_lc() {
    let f = fixture();
    let public = aws_public(&f.rsa);
    for (d, alg) in [
        (DigestAlgorithm::Sha256, &sig::RSA_PSS_2048_8192_SHA256),
        (DigestAlgorithm::Sha384, &sig::RSA_PSS_2048_8192_SHA384),
        (DigestAlgorithm::Sha512, &sig::RSA_PSS_2048_8192_SHA512),
    ] {
        let s = PrivateKeyOps::sign(
            &f.rsa,
            SignatureScheme::Pss,
            d,
            b"m",
            as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
        )
        .unwrap();
        UnparsedPublicKey::new(alg, &public)
            .verify(b"m", &s)
            .unwrap();
        assert!(
            UnparsedPublicKey::new(alg, &public)
                .verify(b"n", &s)
                .is_err()
        );
    }
}

#[test]
fn key_transport_encrypted_by_as2_core_decrypts() {
    let f = fixture();
    let public = f.rsa.to_public_key();
    for kt in [
        KeyTransport::RsaPkcs1v15,
        KeyTransport::RsaOaep(DigestAlgorithm::Sha1),
        KeyTransport::RsaOaep(DigestAlgorithm::Sha224),
        KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
        KeyTransport::RsaOaep(DigestAlgorithm::Sha384),
        KeyTransport::RsaOaep(DigestAlgorithm::Sha512),
    ] {
        let cek = b"0123456789abcdef0123456789abcdef";
        let ct = kt
            .encrypt(
                &public,
                cek,
                as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
            )
            .unwrap();
        assert_eq!(
            f.aws
                .decrypt_key(
                    kt,
                    &ct,
                    as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random
                )
                .unwrap()
                .as_slice(),
            cek
        );
        let mut bad = ct.clone();
        bad[7] ^= 1;
        assert!(matches!(
            f.aws.decrypt_key(
                kt,
                &bad,
                as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random
            ),
            Err(Error::Decryption)
        ));
        assert!(matches!(
            f.aws.decrypt_key(
                kt,
                &ct[1..],
                as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random
            ),
            Err(Error::Decryption)
        ));
    }
}

#[test]
fn enveloped_data_round_trip() {
    let f = fixture();
    for (algorithm, key_transport) in [
        (ContentEncryption::Aes256Cbc, KeyTransport::RsaPkcs1v15),
        (
            ContentEncryption::Aes128Gcm,
            KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
        ),
    ] {
        let opts = EncryptOptions::default()
            .with_algorithm(algorithm)
            .with_key_transport(key_transport);
        let data = cms::encrypt(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            b"secret payload",
            &[&f.cert],
            opts,
        )
        .unwrap();
        let keys = [DecryptionKey {
            certificate: &f.cert,
            key: &f.aws,
        }];
        assert_eq!(
            cms::decrypt(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                &data,
                &keys
            )
            .unwrap()
            .content,
            b"secret payload"
        );
    }
}

#[test]
fn public_half_and_debug() {
    let f = fixture();
    assert_eq!(
        f.aws.public_key(),
        as2_core::crypto::PublicKey::Rsa(f.rsa.to_public_key())
    );
    assert_eq!(f.aws.rsa_key(), &f.rsa);
    assert!(format!("{:?}", f.aws).contains("2048"));
    let der = pkcs8::EncodePrivateKey::to_pkcs8_der(&f.rsa).unwrap();
    assert!(AwsLcKey::from_pkcs8_der(der.as_bytes()).is_ok());
    assert!(AwsLcKey::from_pkcs8_der(b"junk").is_err());
}

#[test]
fn load_key_takes_aws_lc_and_falls_back_for_short_keys() {
    let f = fixture();
    let der = pkcs8::EncodePrivateKey::to_pkcs8_der(&f.rsa).unwrap();
    let fast = super::load_key(der.as_bytes()).unwrap();
    assert!(format!("{fast:?}").starts_with("AwsLcKey"), "{fast:?}");
    let signed = fast
        .sign(
            SignatureScheme::Pkcs1v15,
            DigestAlgorithm::Sha256,
            b"x",
            as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
        )
        .unwrap();
    let expected = PrivateKeyOps::sign(
        &f.rsa,
        SignatureScheme::Pkcs1v15,
        DigestAlgorithm::Sha256,
        b"x",
        as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
    )
    .unwrap();
    assert_eq!(signed, expected);
    // aws-lc-rs refuses keys under 2048 bits; they still work, on rsa 0.10
    let short = rsa::PrivateKey::new(&mut rand::rng(), 1024).unwrap();
    let der = pkcs8::EncodePrivateKey::to_pkcs8_der(&short).unwrap();
    let slow = super::load_key(der.as_bytes()).unwrap();
    assert!(!format!("{slow:?}").starts_with("AwsLcKey"), "{slow:?}");
    assert!(
        slow.sign(
            SignatureScheme::Pkcs1v15,
            DigestAlgorithm::Sha256,
            b"x",
            as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random
        )
        .is_ok()
    );
    assert!(super::load_key(b"not a key").is_err());
}

/// An elliptic-curve key loads under this provider too (on as2-core's curves): it signs
/// with ECDSA a SignedData that verifies, and opens what is encrypted to its certificate
/// with ECDH.
#[test]
fn ec_keys_load_sign_and_decrypt() {
    let provider = &super::DEFAULT_PROVIDER;
    for curve in [
        as2_core::crypto::EcCurve::P256,
        as2_core::crypto::EcCurve::P384,
    ] {
        let key = keys::generate_ec_key(provider, curve).unwrap();
        let der = keys::AnyPrivateKey::Ec(key).to_pkcs8_der().unwrap();
        let loaded = provider.load_private_key(&der).unwrap();
        let cert = as2_core::cert::generate_self_signed_for(
            provider,
            loaded.as_ref(),
            "CN=aws-lc ec",
            std::time::SystemTime::now(),
            Duration::from_secs(3600),
        )
        .unwrap();
        let sig = cms::sign_detached(
            provider,
            b"content",
            &cert,
            loaded.as_ref(),
            &SignOptions::without_signing_time(),
        )
        .unwrap();
        cms::verify_detached(
            &crate::DEFAULT_PROVIDER,
            &sig,
            &[b"content"],
            std::slice::from_ref(&cert),
        )
        .unwrap();
        let env = cms::encrypt(
            provider,
            b"secret",
            &[&cert],
            EncryptOptions::new(ContentEncryption::Aes128Gcm),
        )
        .unwrap();
        let keys = [DecryptionKey {
            certificate: &cert,
            key: loaded.as_ref(),
        }];
        assert_eq!(
            cms::decrypt(provider, &env, &keys).unwrap().content,
            b"secret"
        );
    }
}
