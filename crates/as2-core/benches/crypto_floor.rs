//! The crypto floor of a message: one RSA-2048 private-key operation (sign, and PKCS#1
//! v1.5 key-transport decrypt) with `rsa` 0.10 and with aws-lc-rs, the public operations
//! (verify with both, key-transport encrypt with `rsa` 0.10, which the codec always uses
//! for encrypting to a certificate), and AES-256-CBC and SHA-256 over 1 KB / 1 MB / 100 MB
//! with the implementations as2-core uses (RustCrypto) and with aws-lc-rs; and a partner's
//! CMS signature (SHA-256 PKCS#1 v1.5 over 1 KiB, signed attributes) verified through each
//! provider's `SignatureVerifier`.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]

mod common;

use std::hint::black_box;

use as2_core::crypto::SignatureScheme;
use as2_core::crypto::{ContentEncryption, DigestAlgorithm, KeyTransport, PrivateKeyOps};
use aws_lc_rs::cipher::{
    AES_256, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rsa::Pkcs1v15Sign;
use sha2::Digest as _;

/// What the signer signs: the DER of the signed attributes is about this long.
const SIGNED_ATTRS: &[u8] = &[0x31; 105];

fn rsa_ops(c: &mut Criterion<common::cpu_time::CpuTime>) {
    let id = common::identity();
    let mut group = c.benchmark_group("rsa2048");
    group.sample_size(50);
    for (backend, key) in common::backends(id) {
        group.bench_function(BenchmarkId::new("sign", backend), |b| {
            b.iter(|| {
                key.sign(
                    SignatureScheme::Pkcs1v15,
                    DigestAlgorithm::Sha256,
                    black_box(SIGNED_ATTRS),
                    as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
                )
            });
        });
        let public = id.rsa.to_public_key();
        let ct = KeyTransport::RsaPkcs1v15
            .encrypt(
                &public,
                &[7; 32],
                as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
            )
            .unwrap();
        group.bench_function(BenchmarkId::new("decrypt", backend), |b| {
            b.iter(|| {
                key.decrypt_key(
                    KeyTransport::RsaPkcs1v15,
                    black_box(&ct),
                    as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
                )
            });
        });
    }
    let public = id.rsa.to_public_key();
    let sig = id
        .aws
        .sign(
            SignatureScheme::Pkcs1v15,
            DigestAlgorithm::Sha256,
            SIGNED_ATTRS,
            as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
        )
        .unwrap();
    let hashed = sha2::Sha256::digest(SIGNED_ATTRS);
    group.bench_function(BenchmarkId::new("verify", "rsa-0.10"), |b| {
        b.iter(|| {
            public.verify(
                Pkcs1v15Sign::new::<sha2::Sha256>(),
                &hashed,
                black_box(&sig),
            )
        });
    });
    // the same verification in aws-lc-rs, for the comparison with `openssl speed`
    let der = pkcs8::EncodePrivateKey::to_pkcs8_der(&id.rsa).unwrap();
    let pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(der.as_bytes()).unwrap();
    let aws_public = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        aws_lc_rs::signature::KeyPair::public_key(&pair)
            .as_ref()
            .to_vec(),
    );
    aws_public.verify(SIGNED_ATTRS, &sig).unwrap();
    group.bench_function(BenchmarkId::new("verify", "aws-lc-rs"), |b| {
        b.iter(|| aws_public.verify(SIGNED_ATTRS, black_box(&sig)));
    });
    group.bench_function(BenchmarkId::new("encrypt", "rsa-0.10"), |b| {
        b.iter(|| {
            KeyTransport::RsaPkcs1v15.encrypt(
                &public,
                black_box(&[7; 32]),
                as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
            )
        });
    });
    group.finish();
}

/// `cms::verify_detached` of a 1 KiB SignedData-signed content, and the verifier alone,
/// with each provider.
fn provider_verify(c: &mut Criterion<common::cpu_time::CpuTime>) {
    let id = common::identity();
    let content = common::payload(1024);
    let signature = as2_core::cms::sign_detached(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &content,
        &id.cert,
        &id.aws,
        &as2_core::cms::SignOptions::without_signing_time(),
    )
    .unwrap();
    let trusted = std::slice::from_ref(&id.cert);
    let spki = id.cert.subject_public_key_der().unwrap();
    let sig = id
        .aws
        .sign(
            SignatureScheme::Pkcs1v15,
            DigestAlgorithm::Sha256,
            SIGNED_ATTRS,
            as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
        )
        .unwrap();
    let hashed = DigestAlgorithm::Sha256.digest(SIGNED_ATTRS);
    let params = as2_core::crypto::SignatureParams::pkcs1v15(DigestAlgorithm::Sha256);
    let mut group = c.benchmark_group("provider_verify");
    group.sample_size(50);
    for (name, provider) in [
        (
            "rust_crypto",
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        ),
        ("aws-lc", &as2_crypto_aws_lc::DEFAULT_PROVIDER),
    ] {
        group.bench_function(BenchmarkId::new("cms_verify_detached_1k", name), |b| {
            b.iter(|| {
                as2_core::cms::verify_detached(
                    provider,
                    black_box(&signature),
                    &[&content],
                    trusted,
                )
                .unwrap()
            });
        });
        group.bench_function(BenchmarkId::new("verify_prehashed", name), |b| {
            b.iter(|| {
                provider
                    .signature_verifier
                    .verify_prehashed(&spki, params, &hashed, black_box(&sig))
                    .unwrap();
            });
        });
    }
    group.finish();
}

fn aws_cbc_encrypt(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k =
        PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, key).unwrap()).unwrap();
    let mut buf = data.to_vec();
    k.encrypt(&mut buf).unwrap();
    buf
}

fn symmetric(c: &mut Criterion<common::cpu_time::CpuTime>) {
    let alg = ContentEncryption::Aes256Cbc;
    let key = [0x42; 32];
    let iv = [0x24; 16];
    for (label, len) in common::SIZES {
        let data = common::payload(len);
        let mut group = c.benchmark_group(format!("floor_{label}"));
        common::tune(&mut group, len);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::new("sha256", "rustcrypto"), |b| {
            b.iter(|| sha2::Sha256::digest(black_box(&data)));
        });
        group.bench_function(BenchmarkId::new("sha256", "aws-lc-rs"), |b| {
            b.iter(|| aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, black_box(&data)));
        });
        group.bench_function(BenchmarkId::new("aes256cbc_encrypt", "rustcrypto"), |b| {
            b.iter(|| alg.encrypt(&key, &iv, &[], black_box(&data)).unwrap());
        });
        let ct = alg.encrypt(&key, &iv, &[], &data).unwrap();
        group.bench_function(BenchmarkId::new("aes256cbc_decrypt", "rustcrypto"), |b| {
            b.iter(|| alg.decrypt(&key, &iv, &[], 0, black_box(&ct)).unwrap());
        });
        group.bench_function(BenchmarkId::new("aes256cbc_encrypt", "aws-lc-rs"), |b| {
            b.iter(|| aws_cbc_encrypt(&key, black_box(&data)));
        });
        group.bench_function(BenchmarkId::new("aes256cbc_decrypt", "aws-lc-rs"), |b| {
            b.iter(|| {
                let k = PaddedBlockDecryptingKey::cbc_pkcs7(
                    UnboundCipherKey::new(&AES_256, &key).unwrap(),
                )
                .unwrap();
                let mut buf = black_box(&ct).clone();
                k.decrypt(
                    &mut buf,
                    aws_lc_rs::cipher::DecryptionContext::Iv128(iv.into()),
                )
                .map(|p| p.len())
                .unwrap()
            });
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = rsa_ops, provider_verify, symmetric
}
criterion_main!(benches);
