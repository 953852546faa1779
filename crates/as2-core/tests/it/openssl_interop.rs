//! Interop with the `openssl` CLI (3.0): what as2-core signs and encrypts, `openssl cms`
//! verifies and decrypts, and what `openssl cms -sign`/`-encrypt` produces, as2-core
//! verifies and decrypts. Compression is checked as far as openssl can: Debian's openssl has no
//! zlib, so it decrypts and verifies a compressed message and parses its CompressedData.
//!
//! Each test skips with a notice when `openssl` is not on PATH, and fails instead when `CI` is
//! set.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]
// The skip notice goes to stderr on purpose: a skipped interop check must be visible.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use as2_core::cert::Certificate;
use as2_core::cms::{self, DecryptionKey, EncryptOptions, SignOptions};
use as2_core::crypto::{ContentEncryption, DigestAlgorithm, KeyTransport, SignatureScheme};
use as2_core::message::{self, InboundConfig, OutboundMessage, Signer};
use as2_core::mime::Headers;

fn have_openssl() -> bool {
    as2_test_support::openssl::available("the openssl interop test")
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

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

struct Pair {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    key_pem: PathBuf,
    cert_pem: PathBuf,
    key: rsa::PrivateKey,
    cert: Certificate,
}

/// `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2
///  -subj /CN=interop -sha256`
fn pair() -> Pair {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_pem = dir.path().join("key.pem");
    let cert_pem = dir.path().join("cert.pem");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        s(&key_pem),
        "-out",
        s(&cert_pem),
        "-days",
        "2",
        "-subj",
        "/CN=interop",
        "-sha256",
    ]);
    let key = as2_core::keys::load_private_key(&std::fs::read(&key_pem).expect("key"), None)
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

const CONTENT: &[u8] =
    b"Content-Type: application/edi-x12\r\n\r\nISA*00*~\nGS*PO~\r\n\x00\xff bytes\r\n";

const DIGESTS: [DigestAlgorithm; 4] = [
    DigestAlgorithm::Sha1,
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
];

fn md_flag(d: DigestAlgorithm) -> &'static str {
    match d {
        DigestAlgorithm::Sha1 => "sha1",
        DigestAlgorithm::Sha256 => "sha256",
        DigestAlgorithm::Sha384 => "sha384",
        _ => "sha512",
    }
}

#[test]
fn openssl_verifies_our_signatures() {
    if !have_openssl() {
        return;
    }
    let p = pair();
    let content = p.dir.join("content.bin");
    std::fs::write(&content, CONTENT).expect("write");
    let mut cases: Vec<(DigestAlgorithm, SignatureScheme, bool)> = DIGESTS
        .iter()
        .map(|d| (*d, SignatureScheme::Pkcs1v15, true))
        .collect();
    cases.push((DigestAlgorithm::Sha256, SignatureScheme::Pss, true));
    cases.push((DigestAlgorithm::Sha512, SignatureScheme::Pss, true));
    cases.push((DigestAlgorithm::Sha256, SignatureScheme::Pkcs1v15, false));
    for (digest, scheme, signed_attributes) in cases {
        let opts = SignOptions::new(std::time::SystemTime::now())
            .with_digest(digest)
            .with_scheme(scheme)
            .with_signed_attributes(signed_attributes);
        let sig = cms::sign_detached(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            CONTENT,
            &p.cert,
            &p.key,
            &opts,
        )
        .expect("sign");
        let sig_file = p.dir.join("sig.der");
        std::fs::write(&sig_file, &sig).expect("write");
        // openssl cms -verify -binary -inform DER -in sig.der -content content.bin
        //   -CAfile cert.pem -purpose any -out /dev/null
        openssl(&[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            s(&sig_file),
            "-content",
            s(&content),
            "-CAfile",
            s(&p.cert_pem),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ]);
        // and a different content must not verify
        let other = p.dir.join("other.bin");
        std::fs::write(&other, b"tampered").expect("write");
        let bad = Command::new("openssl")
            .args([
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                s(&sig_file),
                "-content",
                s(&other),
                "-CAfile",
                s(&p.cert_pem),
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ])
            .output()
            .expect("openssl");
        assert!(
            !bad.status.success(),
            "{digest:?} {scheme:?}: tampered content verified"
        );
    }
}

const CIPHERS: [ContentEncryption; 6] = [
    ContentEncryption::Des3Cbc,
    ContentEncryption::Aes128Cbc,
    ContentEncryption::Aes192Cbc,
    ContentEncryption::Aes256Cbc,
    ContentEncryption::Aes128Gcm,
    ContentEncryption::Aes256Gcm,
];

#[test]
fn openssl_decrypts_what_we_encrypt() {
    if !have_openssl() {
        return;
    }
    let p = pair();
    let transports = [
        KeyTransport::RsaPkcs1v15,
        KeyTransport::RsaOaep(DigestAlgorithm::Sha1),
        KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
    ];
    for algorithm in CIPHERS {
        for key_transport in transports {
            let env = cms::encrypt(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                CONTENT,
                &[&p.cert],
                EncryptOptions::default()
                    .with_algorithm(algorithm)
                    .with_key_transport(key_transport),
            )
            .expect("encrypt");
            let env_file = p.dir.join("env.der");
            let out_file = p.dir.join("dec.bin");
            std::fs::write(&env_file, &env).expect("write");
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
                "{algorithm:?} {key_transport:?}"
            );
        }
    }
}

#[test]
fn we_verify_openssl_signatures() {
    if !have_openssl() {
        return;
    }
    let p = pair();
    let content = p.dir.join("content.bin");
    std::fs::write(&content, CONTENT).expect("write");
    let trusted = [p.cert.clone()];
    for digest in DIGESTS {
        for pss in [false, true] {
            let sig_file = p.dir.join("sig.der");
            // openssl cms -sign -binary -in content.bin -signer cert.pem -inkey key.pem
            //   -md sha256 [-keyopt rsa_padding_mode:pss] -outform DER -out sig.der
            let mut args = vec![
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
            ];
            if pss {
                args.extend(["-keyopt", "rsa_padding_mode:pss"]);
            }
            openssl(&args);
            let sig = std::fs::read(&sig_file).expect("read");
            let v = cms::verify_detached(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                &sig,
                &[CONTENT],
                &trusted,
            )
            .unwrap_or_else(|e| panic!("{digest:?} pss={pss}: {e}"));
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
        }
    }
}

#[test]
fn we_decrypt_what_openssl_encrypts() {
    if !have_openssl() {
        return;
    }
    let p = pair();
    let content = p.dir.join("content.bin");
    std::fs::write(&content, CONTENT).expect("write");
    let keys = [DecryptionKey {
        certificate: &p.cert,
        key: &p.key,
    }];
    let ciphers = [
        ("-des3", ContentEncryption::Des3Cbc),
        ("-aes128", ContentEncryption::Aes128Cbc),
        ("-aes192", ContentEncryption::Aes192Cbc),
        ("-aes256", ContentEncryption::Aes256Cbc),
        ("-aes-128-gcm", ContentEncryption::Aes128Gcm),
        ("-aes-256-gcm", ContentEncryption::Aes256Gcm),
    ];
    let transports: [&[&str]; 3] = [
        &[],
        &["-keyopt", "rsa_padding_mode:oaep"],
        &[
            "-keyopt",
            "rsa_padding_mode:oaep",
            "-keyopt",
            "rsa_oaep_md:sha256",
            "-keyopt",
            "rsa_mgf1_md:sha256",
        ],
    ];
    for (flag, alg) in ciphers {
        for transport in transports {
            let env_file = p.dir.join("env.der");
            // openssl cms -encrypt -binary -aes256 -in content.bin -outform DER -out env.der
            //   -recip cert.pem [-keyopt rsa_padding_mode:oaep ...]
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
            args.extend_from_slice(transport);
            openssl(&args);
            let d = cms::decrypt(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                &std::fs::read(&env_file).expect("read"),
                &keys,
            )
            .unwrap_or_else(|e| panic!("{flag} {transport:?}: {e}"));
            assert_eq!(d.content, CONTENT, "{flag} {transport:?}");
            assert_eq!(d.algorithm, alg);
        }
    }
}

/// A whole AS2 message both ways: openssl signs (S/MIME multipart/signed) and encrypts,
/// as2-core's `parse_inbound` unpacks it and computes the MIC openssl's digest gives.
#[test]
fn openssl_built_message_parses_inbound() {
    if !have_openssl() {
        return;
    }
    let p = pair();
    let entity = p.dir.join("entity.mime");
    std::fs::write(&entity, CONTENT).expect("write");
    let signed = p.dir.join("signed.mime");
    let env_file = p.dir.join("env.der");
    // openssl cms -sign -binary -in entity.mime -signer cert.pem -inkey key.pem -md sha256
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
        "sha256",
        "-out",
        s(&signed),
    ]);
    // openssl cms -encrypt -binary -aes256 -in signed.mime -outform DER -out env.der cert.pem
    openssl(&[
        "cms",
        "-encrypt",
        "-binary",
        "-aes256",
        "-in",
        s(&signed),
        "-outform",
        "DER",
        "-out",
        s(&env_file),
        s(&p.cert_pem),
    ]);
    // openssl dgst -sha256 -binary entity.mime  (the MIC: over the signed entity)
    let mic = openssl(&["dgst", "-sha256", "-binary", s(&entity)]).stdout;
    let headers = Headers::from_pairs([
        ("AS2-From", "openssl"),
        ("AS2-To", "us"),
        ("Message-ID", "<openssl-1@test>"),
        ("AS2-Version", "1.2"),
        (
            "Content-Type",
            "application/pkcs7-mime; smime-type=enveloped-data",
        ),
        ("Disposition-Notification-To", "x@y"),
        (
            "Disposition-Notification-Options",
            "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256",
        ),
    ]);
    let keys = [DecryptionKey {
        certificate: &p.cert,
        key: &p.key,
    }];
    let trusted = [p.cert.clone()];
    let cfg = InboundConfig::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &keys,
        &trusted,
    );
    let body = std::fs::read(&env_file).expect("read");
    let m = message::parse_inbound(&headers, &body, &cfg).expect("parse_inbound");
    assert!(
        m.payload.starts_with(b"ISA*00*~\nGS*PO~\r\n"),
        "{:?}",
        m.payload
    );
    assert_eq!(m.encryption, Some(ContentEncryption::Aes256Cbc));
    assert_eq!(m.mic.algorithm, DigestAlgorithm::Sha256);
    assert_eq!(m.mic.value, mic);
}

/// An as2-core message (signed, encrypted, binary) opened by openssl: decrypt, then
/// verify the multipart/signed with `-binary -crlfeol`, which gives back the signed bytes.
#[test]
fn our_message_opens_with_openssl() {
    if !have_openssl() {
        return;
    }
    let p = pair();
    let payload = b"line one\nline two\r\n\x00\x01\x02".to_vec();
    for digest in DIGESTS {
        let mut out = OutboundMessage::new(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            "us",
            "openssl",
            &payload,
            "application/octet-stream",
        );
        out.signer = Some(Signer::new(
            &p.cert,
            &p.key,
            SignOptions::new(std::time::SystemTime::now()).with_digest(digest),
        ));
        out.encryption = Some(message::Encryption::new(
            vec![&p.cert],
            EncryptOptions::default(),
        ));
        let built = message::build_outbound(&out).expect("build");
        let env_file = p.dir.join("body.der");
        let dec = p.dir.join("dec.mime");
        let verified = p.dir.join("verified.mime");
        std::fs::write(&env_file, &built.body).expect("write");
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
        let signed = std::fs::read(&verified).expect("read");
        // the MIC we promised is the digest of exactly what openssl verified
        let dgst = openssl(&[
            "dgst",
            &format!("-{}", md_flag(digest)),
            "-binary",
            s(&verified),
        ])
        .stdout;
        assert_eq!(built.mic.value, dgst, "{digest:?}");
        assert!(
            signed.ends_with(&payload),
            "{digest:?}: payload inside the signed entity"
        );
    }
}

/// A compressed message is written with BER indefinite lengths (the streaming encoder
/// cannot know the compressed length up front): openssl decrypts its EnvelopedData and
/// AuthEnvelopedData, verifies the signature over the compressed entity (the MIC is its
/// digest), and parses the CompressedData (Debian's openssl cannot inflate it).
#[test]
fn openssl_opens_our_ber_compressed_message() {
    if !have_openssl() {
        return;
    }
    let p = pair();
    let payload = b"ISA*00*~\nGS*PO~\r\n".repeat(500);
    for algorithm in [ContentEncryption::Aes256Cbc, ContentEncryption::Aes128Gcm] {
        let mut out = OutboundMessage::new(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            "us",
            "openssl",
            &payload,
            "application/edi-x12",
        );
        out.compression = message::Compression::BeforeSigning;
        out.signer = Some(Signer::new(
            &p.cert,
            &p.key,
            SignOptions::new(std::time::SystemTime::now()),
        ));
        out.encryption = Some(message::Encryption::new(
            vec![&p.cert],
            EncryptOptions::new(algorithm),
        ));
        let built = message::build_outbound(&out).expect("build");
        assert_eq!(built.body.get(1), Some(&0x80), "indefinite length");
        let env_file = p.dir.join("ber.der");
        let dec = p.dir.join("ber-dec.mime");
        let verified = p.dir.join("ber-verified.mime");
        let compressed = p.dir.join("compressed.der");
        std::fs::write(&env_file, &built.body).expect("write");
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
        let dgst = openssl(&["dgst", "-sha256", "-binary", s(&verified)]).stdout;
        assert_eq!(built.mic.value, dgst, "{algorithm:?}");
        let signed = std::fs::read(&verified).expect("read");
        let body_at = signed
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block")
            + 4;
        std::fs::write(&compressed, &signed[body_at..]).expect("write");
        let parsed = openssl(&["asn1parse", "-inform", "DER", "-in", s(&compressed)]).stdout;
        assert!(
            String::from_utf8_lossy(&parsed).contains("id-smime-ct-compressedData"),
            "{algorithm:?}"
        );
    }
}

/// The certs-only SignedData of a CEM request lists its certificates in openssl, and what
/// `openssl crl2pkcs7` writes parses back, with a certificate of ours next to openssl's.
#[test]
fn certs_only_both_ways() {
    if !have_openssl() {
        return;
    }
    let p = pair();
    let ours = as2_core::cert::generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &p.key,
        "CN=cem interop,O=Example",
        std::time::SystemTime::now(),
        std::time::Duration::from_secs(86_400),
    )
    .expect("self-signed");
    let der = cms::certs_only(&[p.cert.clone(), ours.clone()]).expect("certs-only");
    let p7c = p.dir.join("certs.p7c");
    std::fs::write(&p7c, &der).expect("write");
    // openssl pkcs7 -inform DER -print_certs -in certs.p7c
    let listed = openssl(&["pkcs7", "-inform", "DER", "-print_certs", "-in", s(&p7c)]).stdout;
    let mut printed = Certificate::load_all(&listed).expect("printed PEM");
    printed.sort_by_key(Certificate::subject);
    let mut expected = vec![p.cert.clone(), ours.clone()];
    expected.sort_by_key(Certificate::subject);
    assert_eq!(printed, expected);
    let text = String::from_utf8_lossy(&listed);
    assert!(
        text.contains("interop") && text.contains("cem interop"),
        "{text}"
    );

    // openssl crl2pkcs7 -nocrl -certfile cert.pem -outform DER -out theirs.p7c
    let theirs = p.dir.join("theirs.p7c");
    openssl(&[
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        s(&p.cert_pem),
        "-outform",
        "DER",
        "-out",
        s(&theirs),
    ]);
    let back = cms::parse_certs_only(&std::fs::read(&theirs).expect("read")).expect("parse");
    assert_eq!(back, vec![p.cert.clone()]);
    // and its PEM form (-----BEGIN PKCS7-----)
    let pem = openssl(&["crl2pkcs7", "-nocrl", "-certfile", s(&p.cert_pem)]).stdout;
    assert_eq!(
        cms::parse_certs_only(&pem).expect("parse PEM"),
        vec![p.cert]
    );
}
