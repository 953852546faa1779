//! Interop with the `openssl` CLI (3.0) for the algorithms of issue 16, both ways: ECDSA
//! signatures on P-256 and P-384 (bare SignedData and in an AS2 multipart/signed), ECDH key
//! agreement (RFC 5753, KeyAgreeRecipientInfo) with AES-CBC and AES-GCM content, and the
//! SHA-3 digests (RFC 8702) in RSA signatures and MICs. Every key and certificate is made
//! by openssl at test time in a temp dir; the command of each step is in the comment above
//! it.
//!
//! OpenSSL 3.0 cannot sign with ECDSA over SHA-3 in CMS ("unsupported signature
//! algorithm") nor with RSASSA-PSS over SHA-3: those directions are checked where openssl
//! can (it verifies ours), and by the codec's own tests otherwise.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use as2_core::cert::Certificate;
use as2_core::cms::{self, DecryptionKey, EncryptOptions, SignOptions};
use as2_core::crypto::{
    ContentEncryption, DigestAlgorithm, KeyAgreement, PrivateKeyOps, PublicKey,
};
use as2_core::keys::AnyPrivateKey;
use as2_core::message::{self, InboundConfig, OutboundMessage, Signer};
use as2_core::mime::Headers;

const P: &as2_core::crypto::CryptoProvider = &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;

fn have_openssl() -> bool {
    as2_test_support::openssl::available("the openssl EC/SHA-3 interop test")
}

fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn openssl_fails(args: &[&str]) -> bool {
    !Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl")
        .status
        .success()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

struct Pair {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    key_pem: PathBuf,
    cert_pem: PathBuf,
    key: AnyPrivateKey,
    cert: Certificate,
}

impl Pair {
    fn ops(&self) -> &dyn PrivateKeyOps {
        self.key.as_ops()
    }

    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, data).expect("write");
        path
    }
}

/// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem
///  -out cert.pem -days 2 -subj /CN=ec-interop -sha256` (or `-newkey rsa:2048`)
fn pair(newkey: &[&str]) -> Pair {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_pem = dir.path().join("key.pem");
    let cert_pem = dir.path().join("cert.pem");
    let mut args = vec!["req", "-x509"];
    args.extend_from_slice(newkey);
    args.extend([
        "-nodes",
        "-keyout",
        s(&key_pem),
        "-out",
        s(&cert_pem),
        "-days",
        "2",
        "-subj",
        "/CN=ec-interop",
        "-sha256",
    ]);
    openssl(&args);
    let key = as2_core::keys::load_any_private_key(&std::fs::read(&key_pem).expect("key"), None)
        .expect("load key");
    let cert = Certificate::load(&std::fs::read(&cert_pem).expect("cert")).expect("load cert");
    Pair {
        dir: dir.path().to_path_buf(),
        _dir: dir,
        key_pem,
        cert_pem,
        key,
        cert,
    }
}

fn p256() -> Pair {
    pair(&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
}

fn p384() -> Pair {
    pair(&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"])
}

fn rsa() -> Pair {
    pair(&["-newkey", "rsa:2048"])
}

const CONTENT: &[u8] =
    b"Content-Type: application/edi-x12\r\n\r\nISA*00*~\nGS*PO~\r\n\x00\xff bytes\r\n";

fn md_flag(d: DigestAlgorithm) -> &'static str {
    match d {
        DigestAlgorithm::Sha1 => "sha1",
        DigestAlgorithm::Sha256 => "sha256",
        DigestAlgorithm::Sha384 => "sha384",
        DigestAlgorithm::Sha512 => "sha512",
        DigestAlgorithm::Sha3_256 => "sha3-256",
        DigestAlgorithm::Sha3_384 => "sha3-384",
        DigestAlgorithm::Sha3_512 => "sha3-512",
        other => panic!("no openssl name for {other}"),
    }
}

/// `openssl cms -verify -binary -inform DER -in sig.der -content content.bin -CAfile cert.pem
///  -purpose any -out /dev/null`, on the content and on a tampered one.
fn openssl_verifies(p: &Pair, sig: &[u8], what: &str) {
    let sig_file = p.file("sig.der", sig);
    let content = p.file("content.bin", CONTENT);
    let other = p.file("other.bin", b"tampered");
    let args = |content: &Path| {
        vec![
            "cms".to_owned(),
            "-verify".to_owned(),
            "-binary".to_owned(),
            "-inform".to_owned(),
            "DER".to_owned(),
            "-in".to_owned(),
            s(&sig_file).to_owned(),
            "-content".to_owned(),
            s(content).to_owned(),
            "-CAfile".to_owned(),
            s(&p.cert_pem).to_owned(),
            "-purpose".to_owned(),
            "any".to_owned(),
            "-out".to_owned(),
            "/dev/null".to_owned(),
        ]
    };
    let good = args(&content);
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    let out = Command::new("openssl")
        .args(&good)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = args(&other);
    let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
    assert!(openssl_fails(&bad), "{what}: tampered content verified");
}

#[test]
fn openssl_verifies_our_ecdsa_signatures() {
    if !have_openssl() {
        return;
    }
    for p in [p256(), p384()] {
        assert!(matches!(p.ops().public_key(), PublicKey::Ec(_)));
        for digest in [
            DigestAlgorithm::Sha1,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ] {
            for signed_attributes in [true, false] {
                let opts = SignOptions::new(std::time::SystemTime::now())
                    .with_digest(digest)
                    .with_signed_attributes(signed_attributes);
                let sig = cms::sign_detached(P, CONTENT, &p.cert, p.ops(), &opts).expect("sign");
                openssl_verifies(&p, &sig, &format!("{digest:?} attrs={signed_attributes}"));
                // and ourselves
                let v = cms::verify_detached(
                    &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                    &sig,
                    &[CONTENT],
                    std::slice::from_ref(&p.cert),
                )
                .expect("verify ours");
                assert_eq!(v.digest, digest);
            }
        }
    }
}

#[test]
fn we_verify_openssl_ecdsa_signatures() {
    if !have_openssl() {
        return;
    }
    for p in [p256(), p384()] {
        let content = p.file("content.bin", CONTENT);
        let trusted = [p.cert.clone()];
        for digest in [
            DigestAlgorithm::Sha1,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ] {
            let sig_file = p.dir.join("sig.der");
            // openssl cms -sign -binary -in content.bin -signer cert.pem -inkey key.pem
            //   -md sha384 -outform DER -out sig.der
            openssl(&[
                "cms",
                "-sign",
                "-binary",
                "-in",
                s(&content),
                "-signer",
                s(&p.cert_pem),
                "-inkey",
                s(&p.key_pem),
                "-md",
                md_flag(digest),
                "-outform",
                "DER",
                "-out",
                s(&sig_file),
            ]);
            let sig = std::fs::read(&sig_file).expect("read");
            let v = cms::verify_detached(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                &sig,
                &[CONTENT],
                &trusted,
            )
            .unwrap_or_else(|e| panic!("{digest:?}: {e}"));
            assert_eq!(v.digest, digest);
            assert!(
                cms::verify_detached(
                    &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                    &sig,
                    &[b"tampered"],
                    &trusted
                )
                .is_err()
            );
            // an RSA certificate with the same name does not verify it
            assert!(
                cms::verify_detached(
                    &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                    &sig,
                    &[CONTENT],
                    &[rsa().cert]
                )
                .is_err()
            );
        }
    }
}

/// RSA PKCS#1 v1.5 with SHA-3: ours (`id-rsassa-pkcs1-v1_5-with-sha3-*`) verified by
/// openssl, openssl's (`rsaEncryption` with a SHA-3 digest) verified by us.
#[test]
fn sha3_rsa_signatures_both_ways() {
    if !have_openssl() {
        return;
    }
    let p = rsa();
    let content = p.file("content.bin", CONTENT);
    let trusted = [p.cert.clone()];
    for digest in [
        DigestAlgorithm::Sha3_256,
        DigestAlgorithm::Sha3_384,
        DigestAlgorithm::Sha3_512,
    ] {
        let opts = SignOptions::new(std::time::SystemTime::now()).with_digest(digest);
        let sig = cms::sign_detached(P, CONTENT, &p.cert, p.ops(), &opts).expect("sign");
        openssl_verifies(&p, &sig, &format!("{digest:?}"));

        let sig_file = p.dir.join("theirs.der");
        // openssl cms -sign -binary -in content.bin -signer cert.pem -inkey key.pem
        //   -md sha3-256 -outform DER -out theirs.der
        openssl(&[
            "cms",
            "-sign",
            "-binary",
            "-in",
            s(&content),
            "-signer",
            s(&p.cert_pem),
            "-inkey",
            s(&p.key_pem),
            "-md",
            md_flag(digest),
            "-outform",
            "DER",
            "-out",
            s(&sig_file),
        ]);
        let theirs = std::fs::read(&sig_file).expect("read");
        let v = cms::verify_detached(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            &theirs,
            &[CONTENT],
            &trusted,
        )
        .unwrap_or_else(|e| panic!("{digest:?}: {e}"));
        assert_eq!(v.digest, digest);
        assert!(
            cms::verify_detached(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                &theirs,
                &[b"tampered"],
                &trusted
            )
            .is_err()
        );
    }
}

/// ECDSA with SHA-3 (`id-ecdsa-with-sha3-*`): openssl 3.0 cannot make one in CMS, but it
/// verifies ours.
#[test]
fn openssl_verifies_our_ecdsa_sha3_signatures() {
    if !have_openssl() {
        return;
    }
    for p in [p256(), p384()] {
        for digest in [
            DigestAlgorithm::Sha3_256,
            DigestAlgorithm::Sha3_384,
            DigestAlgorithm::Sha3_512,
        ] {
            let opts = SignOptions::new(std::time::SystemTime::now()).with_digest(digest);
            let sig = cms::sign_detached(P, CONTENT, &p.cert, p.ops(), &opts).expect("sign");
            openssl_verifies(&p, &sig, &format!("ECDSA {digest:?}"));
        }
    }
}

const CIPHERS: [(&str, ContentEncryption); 4] = [
    ("-aes128", ContentEncryption::Aes128Cbc),
    ("-aes256", ContentEncryption::Aes256Cbc),
    ("-aes-128-gcm", ContentEncryption::Aes128Gcm),
    ("-aes-256-gcm", ContentEncryption::Aes256Gcm),
];

#[test]
fn openssl_decrypts_our_ecdh() {
    if !have_openssl() {
        return;
    }
    for p in [p256(), p384()] {
        for (_, algorithm) in CIPHERS {
            for agreement in [
                KeyAgreement::MatchCurve,
                KeyAgreement::StdDh(DigestAlgorithm::Sha1),
                KeyAgreement::StdDh(DigestAlgorithm::Sha256),
                KeyAgreement::StdDh(DigestAlgorithm::Sha384),
                KeyAgreement::StdDh(DigestAlgorithm::Sha512),
            ] {
                let env = cms::encrypt(
                    P,
                    CONTENT,
                    &[&p.cert],
                    EncryptOptions::new(algorithm).with_key_agreement(agreement),
                )
                .expect("encrypt");
                let env_file = p.file("env.der", &env);
                let out_file = p.dir.join("dec.bin");
                // openssl cms -decrypt -binary -inform DER -in env.der -recip cert.pem
                //   -inkey key.pem -out dec.bin
                openssl(&[
                    "cms",
                    "-decrypt",
                    "-binary",
                    "-inform",
                    "DER",
                    "-in",
                    s(&env_file),
                    "-recip",
                    s(&p.cert_pem),
                    "-inkey",
                    s(&p.key_pem),
                    "-out",
                    s(&out_file),
                ]);
                assert_eq!(
                    std::fs::read(&out_file).expect("read"),
                    CONTENT,
                    "{algorithm:?} {agreement:?}"
                );
            }
        }
    }
}

#[test]
fn we_decrypt_openssl_ecdh() {
    if !have_openssl() {
        return;
    }
    for p in [p256(), p384()] {
        let content = p.file("content.bin", CONTENT);
        let keys = [DecryptionKey {
            certificate: &p.cert,
            key: p.ops(),
        }];
        // openssl's default KDF is SHA-1; the others through -keyopt ecdh_kdf_md
        let kdfs: [&[&str]; 3] = [
            &[],
            &["-keyopt", "ecdh_kdf_md:sha256"],
            &["-keyopt", "ecdh_kdf_md:sha384"],
        ];
        for (flag, algorithm) in CIPHERS {
            for kdf in kdfs {
                let env_file = p.dir.join("env.der");
                // openssl cms -encrypt -binary -aes-128-gcm -in content.bin -outform DER
                //   -out env.der -recip cert.pem [-keyopt ecdh_kdf_md:sha256]
                let mut args = vec![
                    "cms",
                    "-encrypt",
                    "-binary",
                    flag,
                    "-in",
                    s(&content),
                    "-outform",
                    "DER",
                    "-out",
                    s(&env_file),
                    "-recip",
                    s(&p.cert_pem),
                ];
                args.extend_from_slice(kdf);
                openssl(&args);
                let env = std::fs::read(&env_file).expect("read");
                let d =
                    cms::decrypt(P, &env, &keys).unwrap_or_else(|e| panic!("{flag} {kdf:?}: {e}"));
                assert_eq!(d.content, CONTENT, "{flag} {kdf:?}");
                assert_eq!(d.algorithm, algorithm);
                // the other curve's key does not open it
                let other = if matches!(p.ops().public_key(), PublicKey::Ec(ref k) if k.curve() == as2_core::crypto::EcCurve::P256)
                {
                    p384()
                } else {
                    p256()
                };
                let wrong = [DecryptionKey {
                    certificate: &other.cert,
                    key: other.ops(),
                }];
                assert!(cms::decrypt(P, &env, &wrong).is_err(), "{flag} {kdf:?}");
            }
        }
    }
}

/// An as2-core message signed with ECDSA and encrypted with ECDH (CBC and GCM), opened by
/// openssl: decrypt, verify the multipart/signed, and the MIC is the digest of what it
/// verified. The same with an RSA key and SHA-3.
#[test]
fn our_ec_and_sha3_messages_open_with_openssl() {
    if !have_openssl() {
        return;
    }
    let payload = b"line one\nline two\r\n\x00\x01\x02".to_vec();
    let cases = [
        (
            p256(),
            DigestAlgorithm::Sha256,
            ContentEncryption::Aes128Cbc,
        ),
        (
            p384(),
            DigestAlgorithm::Sha384,
            ContentEncryption::Aes256Gcm,
        ),
        (
            rsa(),
            DigestAlgorithm::Sha3_256,
            ContentEncryption::Aes256Cbc,
        ),
        (
            rsa(),
            DigestAlgorithm::Sha3_512,
            ContentEncryption::Aes128Gcm,
        ),
        (
            p256(),
            DigestAlgorithm::Sha3_384,
            ContentEncryption::Aes256Cbc,
        ),
    ];
    for (p, digest, algorithm) in cases {
        let mut out =
            OutboundMessage::new(P, "us", "openssl", &payload, "application/octet-stream");
        out.signer = Some(Signer::new(
            &p.cert,
            p.ops(),
            SignOptions::new(std::time::SystemTime::now()).with_digest(digest),
        ));
        out.encryption = Some(message::Encryption::new(
            vec![&p.cert],
            EncryptOptions::new(algorithm),
        ));
        let built = message::build_outbound(&out).expect("build");
        assert_eq!(built.mic.algorithm, digest);
        let env_file = p.file("body.der", &built.body);
        let dec = p.dir.join("dec.mime");
        let verified = p.dir.join("verified.mime");
        // openssl cms -decrypt -binary -inform DER -in body.der -recip cert.pem -inkey key.pem
        //   -out dec.mime
        openssl(&[
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            "DER",
            "-in",
            s(&env_file),
            "-recip",
            s(&p.cert_pem),
            "-inkey",
            s(&p.key_pem),
            "-out",
            s(&dec),
        ]);
        // openssl cms -verify -binary -crlfeol -in dec.mime -CAfile cert.pem -purpose any
        //   -out verified.mime
        openssl(&[
            "cms",
            "-verify",
            "-binary",
            "-crlfeol",
            "-in",
            s(&dec),
            "-CAfile",
            s(&p.cert_pem),
            "-purpose",
            "any",
            "-out",
            s(&verified),
        ]);
        let dec_text = std::fs::read(&dec).expect("read");
        let micalg = format!("micalg={}", digest.as2_name());
        assert!(
            String::from_utf8_lossy(&dec_text).contains(&micalg),
            "{digest:?}: {micalg} in the multipart/signed"
        );
        // openssl dgst -sha3-256 -binary verified.mime
        let dgst = openssl(&[
            "dgst",
            &format!("-{}", md_flag(digest)),
            "-binary",
            s(&verified),
        ])
        .stdout;
        assert_eq!(built.mic.value, dgst, "{digest:?}");
        assert!(std::fs::read(&verified).expect("read").ends_with(&payload));
    }
}

/// openssl signs (S/MIME multipart/signed) with an EC key or with RSA over SHA-3 and
/// encrypts (ECDH for the EC certificate); `parse_inbound` opens it, verifies it and
/// computes the MIC openssl's digest gives, under the name `micalg` carries.
#[test]
fn openssl_ec_and_sha3_messages_parse_inbound() {
    if !have_openssl() {
        return;
    }
    let cases = [
        (
            p256(),
            DigestAlgorithm::Sha256,
            "-aes-128-gcm",
            ContentEncryption::Aes128Gcm,
        ),
        (
            p384(),
            DigestAlgorithm::Sha384,
            "-aes256",
            ContentEncryption::Aes256Cbc,
        ),
        (
            rsa(),
            DigestAlgorithm::Sha3_256,
            "-aes256",
            ContentEncryption::Aes256Cbc,
        ),
        (
            rsa(),
            DigestAlgorithm::Sha3_384,
            "-aes-256-gcm",
            ContentEncryption::Aes256Gcm,
        ),
    ];
    for (p, digest, flag, algorithm) in cases {
        let entity = p.file("entity.mime", CONTENT);
        let signed = p.dir.join("signed.mime");
        let env_file = p.dir.join("env.der");
        // openssl cms -sign -binary -in entity.mime -signer cert.pem -inkey key.pem -md sha384
        //   -out signed.mime            (S/MIME multipart/signed, detached)
        openssl(&[
            "cms",
            "-sign",
            "-binary",
            "-in",
            s(&entity),
            "-signer",
            s(&p.cert_pem),
            "-inkey",
            s(&p.key_pem),
            "-md",
            md_flag(digest),
            "-out",
            s(&signed),
        ]);
        // openssl cms -encrypt -binary -aes256 -in signed.mime -outform DER -out env.der
        //   -keyopt ecdh_kdf_md:sha256 cert.pem     (the KDF option for EC recipients only)
        let mut args = vec![
            "cms",
            "-encrypt",
            "-binary",
            flag,
            "-in",
            s(&signed),
            "-outform",
            "DER",
            "-out",
            s(&env_file),
            "-recip",
            s(&p.cert_pem),
        ];
        if matches!(p.ops().public_key(), PublicKey::Ec(_)) {
            args.extend(["-keyopt", "ecdh_kdf_md:sha256"]);
        }
        openssl(&args);
        // openssl dgst -sha3-256 -binary entity.mime  (the MIC: over the signed entity)
        let mic = openssl(&[
            "dgst",
            &format!("-{}", md_flag(digest)),
            "-binary",
            s(&entity),
        ])
        .stdout;
        let smime_type = if algorithm.is_aead() {
            "authEnveloped-data"
        } else {
            "enveloped-data"
        };
        let headers = Headers::from_pairs([
            ("AS2-From", "openssl"),
            ("AS2-To", "us"),
            ("Message-ID", "<openssl-ec@test>"),
            ("AS2-Version", "1.2"),
            (
                "Content-Type",
                &format!("application/pkcs7-mime; smime-type={smime_type}") as &str,
            ),
            ("Disposition-Notification-To", "x@y"),
            (
                "Disposition-Notification-Options",
                &format!(
                    "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, {}",
                    digest.as2_name()
                ) as &str,
            ),
        ]);
        let keys = [DecryptionKey {
            certificate: &p.cert,
            key: p.ops(),
        }];
        let trusted = [p.cert.clone()];
        let cfg = InboundConfig::new(P, &keys, &trusted);
        let body = std::fs::read(&env_file).expect("read");
        let m = message::parse_inbound(&headers, &body, &cfg)
            .unwrap_or_else(|e| panic!("{digest:?} {flag}: {e}"));
        assert!(m.payload.starts_with(b"ISA*00*~\nGS*PO~\r\n"));
        assert_eq!(m.encryption, Some(algorithm));
        assert_eq!(m.mic.algorithm, digest);
        assert_eq!(m.mic.value, mic, "{digest:?}");
    }
}

/// The key forms openssl writes for EC keys load: PKCS#8, SEC 1 (`EC PRIVATE KEY`) and
/// encrypted PKCS#8; and a certificate we generate for an EC key is one openssl reads and
/// whose signature it checks.
#[test]
fn ec_key_forms_and_our_ec_certificates() {
    if !have_openssl() {
        return;
    }
    let p = p256();
    let sec1 = p.dir.join("sec1.pem");
    // openssl ec -in key.pem -out sec1.pem
    openssl(&["ec", "-in", s(&p.key_pem), "-out", s(&sec1)]);
    let text = std::fs::read(&sec1).expect("read");
    assert!(String::from_utf8_lossy(&text).contains("EC PRIVATE KEY"));
    let k = as2_core::keys::load_any_private_key(&text, None).expect("SEC 1");
    assert_eq!(k.public_key(), p.ops().public_key());
    let enc = p.dir.join("enc.pem");
    // openssl pkcs8 -topk8 -in key.pem -out enc.pem -passout pass:secret -v2 aes-256-cbc
    openssl(&[
        "pkcs8",
        "-topk8",
        "-in",
        s(&p.key_pem),
        "-out",
        s(&enc),
        "-passout",
        "pass:secret",
        "-v2",
        "aes-256-cbc",
    ]);
    let text = std::fs::read(&enc).expect("read");
    let k = as2_core::keys::load_any_private_key(&text, Some("secret")).expect("encrypted");
    assert_eq!(k.public_key(), p.ops().public_key());

    for curve in [
        as2_core::crypto::EcCurve::P256,
        as2_core::crypto::EcCurve::P384,
    ] {
        let key = as2_core::keys::generate_ec_key(P, curve).expect("generate");
        let cert = as2_core::cert::generate_self_signed_for(
            P,
            &key,
            "CN=our ec,O=Example",
            std::time::SystemTime::now(),
            std::time::Duration::from_secs(86_400),
        )
        .expect("self-signed");
        let cert_pem = p.file("ours.pem", cert.to_pem().as_bytes());
        // openssl verify -CAfile ours.pem ours.pem   (checks the self-signature)
        openssl(&["verify", "-CAfile", s(&cert_pem), s(&cert_pem)]);
        // and the key's PKCS#8 PEM is one openssl reads:
        // openssl pkey -in ourkey.pem -noout
        let pem = AnyPrivateKey::Ec(key).to_pkcs8_pem().expect("pem");
        let key_file = p.file("ourkey.pem", pem.as_bytes());
        openssl(&["pkey", "-in", s(&key_file), "-noout"]);
    }
}
