//! Interop with the `openssl ts` CLI (OpenSSL 3): our tokens and responses verify with
//! `openssl ts -verify`, we answer requests made by `openssl ts -query`, openssl parses our
//! requests, and we verify what OpenSSL's own TSA (`openssl ts -reply`) issues.
//!
//! Each test skips with a notice when `openssl` is not on PATH, and fails instead when `CI` is
//! set.

// The skip notice goes to stderr on purpose: a skipped interop check must be visible.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use as2_core::cert::Certificate;
use as2_evidence::authority::{TimeStampAuthority, generate_tsa_certificate};
use as2_evidence::request::TimeStampRequest;
use as2_evidence::verify::{token_from_response, verify_response, verify_token};
use as2_evidence::{ObjectIdentifier, PolicyId, sha256};

const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.7");

fn have_openssl() -> bool {
    as2_test_support::openssl::available("the openssl ts interop test")
}

/// Run openssl, assert success, return stdout.
fn openssl(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "openssl {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A TSA with a fresh key and certificate, and a temp dir holding `tsa.pem`, `key.pem`
/// and `data.txt`.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    tsa: TimeStampAuthority,
    cert: Certificate,
    tsa_pem: PathBuf,
    key_pem: PathBuf,
    data: PathBuf,
    data_hash: [u8; 32],
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let key =
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .expect("key");
    let cert = generate_tsa_certificate(
        &key,
        "CN=as2-evidence interop TSA,O=Example",
        SystemTime::now() - Duration::from_secs(3600),
        Duration::from_secs(86_400),
    )
    .expect("TSA certificate");
    let tsa_pem = dir.join("tsa.pem");
    std::fs::write(&tsa_pem, cert.to_pem()).expect("write tsa.pem");
    let key_pem = dir.join("key.pem");
    let pem = as2_core::keys::private_key_to_pem(&key).expect("key pem");
    std::fs::write(&key_pem, pem.as_bytes()).expect("write key.pem");
    let data = dir.join("data.txt");
    let content = b"certificate 7 of partner acme: activated\n";
    std::fs::write(&data, content).expect("write data");
    Fixture {
        _tmp: tmp,
        tsa: TimeStampAuthority::new(cert.clone(), Box::new(key), POLICY),
        cert,
        tsa_pem,
        key_pem,
        data_hash: sha256(content),
        data,
        dir,
    }
}

#[test]
fn our_token_and_response_verify_with_openssl() {
    if !have_openssl() {
        return;
    }
    let f = fixture();
    let token = f
        .tsa
        .issue(&f.data_hash, Some(0x5eed), SystemTime::now(), 0x1234)
        .expect("issue");
    let token_der = f.dir.join("token.der");
    std::fs::write(&token_der, &token).expect("write token");
    // openssl ts -verify -digest <hex sha256> -in token.der -token_in -CAfile tsa.pem
    let out = openssl(&[
        "ts",
        "-verify",
        "-digest",
        &hex(&f.data_hash),
        "-in",
        s(&token_der),
        "-token_in",
        "-CAfile",
        s(&f.tsa_pem),
    ]);
    assert!(out.contains("Verification: OK"), "{out}");

    // the same against another hash fails
    // openssl ts -verify -digest <other hex> -in token.der -token_in -CAfile tsa.pem
    let other = run(&[
        "ts",
        "-verify",
        "-digest",
        &hex(&sha256(b"other")),
        "-in",
        s(&token_der),
        "-token_in",
        "-CAfile",
        s(&f.tsa_pem),
    ]);
    assert!(!other.status.success());

    // a response to our own request: openssl prints our policy and serial
    let req = TimeStampRequest::new(&f.data_hash, Some(99))
        .to_der()
        .expect("request");
    let resp = f.tsa.respond(&req, SystemTime::now(), 0xabcdef);
    let resp_der = f.dir.join("resp.der");
    std::fs::write(&resp_der, &resp).expect("write resp");
    // openssl ts -reply -in resp.der -text
    let text = openssl(&["ts", "-reply", "-in", s(&resp_der), "-text"]);
    assert!(text.contains("Status: Granted."), "{text}");
    assert!(text.contains("Policy OID: 1.3.6.1.4.1.99999.7"), "{text}");
    assert!(text.contains("Serial number: 0xABCDEF"), "{text}");
    assert!(text.contains("Nonce: 0x63"), "{text}");
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    // openssl ts -verify -data data.txt -in resp.der -CAfile tsa.pem
    let out = openssl(&[
        "ts",
        "-verify",
        "-data",
        s(&f.data),
        "-in",
        s(&resp_der),
        "-CAfile",
        s(&f.tsa_pem),
    ]);
    assert!(out.contains("Verification: OK"), "{out}");
}

#[test]
fn a_uuid_policy_reads_the_same_in_openssl() {
    if !have_openssl() {
        return;
    }
    let mut f = fixture();
    // 2.25.<UUID> (X.667): an arc of 128 bits, beyond const-oid's 32-bit arcs
    f.tsa.policy = PolicyId::from_uuid(0xf81d_4fae_7dec_11d0_a765_00a0_c91e_6bf6);
    let req = TimeStampRequest::new(&f.data_hash, Some(1))
        .to_der()
        .expect("request");
    let resp = f.tsa.respond(&req, SystemTime::now(), 7);
    let resp_der = f.dir.join("resp.der");
    std::fs::write(&resp_der, &resp).expect("write resp");
    // openssl ts -reply -in resp.der -text
    let text = openssl(&["ts", "-reply", "-in", s(&resp_der), "-text"]);
    assert!(
        text.contains("Policy OID: 2.25.329800735698586629295641978511506172918"),
        "{text}"
    );
    // openssl ts -verify -data data.txt -in resp.der -CAfile tsa.pem
    let out = openssl(&[
        "ts",
        "-verify",
        "-data",
        s(&f.data),
        "-in",
        s(&resp_der),
        "-CAfile",
        s(&f.tsa_pem),
    ]);
    assert!(out.contains("Verification: OK"), "{out}");
    let info = verify_response(&resp, &f.data_hash, Some(1), std::slice::from_ref(&f.cert))
        .expect("verify");
    assert_eq!(info.policy, f.tsa.policy);
}

#[test]
fn we_answer_an_openssl_query() {
    if !have_openssl() {
        return;
    }
    let f = fixture();
    let req_tsq = f.dir.join("req.tsq");
    // openssl ts -query -data data.txt -sha256 -cert -out req.tsq
    openssl(&[
        "ts",
        "-query",
        "-data",
        s(&f.data),
        "-sha256",
        "-cert",
        "-out",
        s(&req_tsq),
    ]);
    let req = std::fs::read(&req_tsq).expect("read req.tsq");
    let parsed = as2_evidence::request::parse_request(&req).expect("parse openssl request");
    assert_eq!(parsed.hashed_message, f.data_hash);
    assert!(parsed.cert_req);
    assert!(parsed.nonce.is_some(), "openssl adds a nonce by default");

    let resp = f.tsa.respond(&req, SystemTime::now(), 1);
    let resp_tsr = f.dir.join("resp.tsr");
    std::fs::write(&resp_tsr, &resp).expect("write resp.tsr");
    // openssl ts -verify -data data.txt -in resp.tsr -CAfile tsa.pem
    let out = openssl(&[
        "ts",
        "-verify",
        "-data",
        s(&f.data),
        "-in",
        s(&resp_tsr),
        "-CAfile",
        s(&f.tsa_pem),
    ]);
    assert!(out.contains("Verification: OK"), "{out}");
    // openssl ts -verify -queryfile req.tsq -in resp.tsr -CAfile tsa.pem (checks the nonce)
    let out = openssl(&[
        "ts",
        "-verify",
        "-queryfile",
        s(&req_tsq),
        "-in",
        s(&resp_tsr),
        "-CAfile",
        s(&f.tsa_pem),
    ]);
    assert!(out.contains("Verification: OK"), "{out}");
    verify_response(
        &resp,
        &f.data_hash,
        parsed.nonce_u64(),
        std::slice::from_ref(&f.cert),
    )
    .expect("our own verification");
}

#[test]
fn openssl_parses_our_request() {
    if !have_openssl() {
        return;
    }
    let f = fixture();
    let req = TimeStampRequest::new(&f.data_hash, Some(0x0102_0304))
        .with_policy(POLICY)
        .to_der()
        .expect("request");
    let req_tsq = f.dir.join("ours.tsq");
    std::fs::write(&req_tsq, req).expect("write request");
    // openssl ts -query -in ours.tsq -text
    let text = openssl(&["ts", "-query", "-in", s(&req_tsq), "-text"]);
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    assert!(text.contains("Policy OID: 1.3.6.1.4.1.99999.7"), "{text}");
    assert!(text.contains("Nonce: 0x01020304"), "{text}");
    assert!(text.contains("Certificate required: yes"), "{text}");
    assert!(text.contains("Message data:"), "{text}");
}

#[test]
fn we_verify_openssl_tsa_tokens() {
    if !have_openssl() {
        return;
    }
    let f = fixture();
    let req_tsq = f.dir.join("req.tsq");
    // openssl ts -query -data data.txt -sha256 -cert -out req.tsq
    openssl(&[
        "ts",
        "-query",
        "-data",
        s(&f.data),
        "-sha256",
        "-cert",
        "-out",
        s(&req_tsq),
    ]);
    let nonce = as2_evidence::request::parse_request(&std::fs::read(&req_tsq).expect("read"))
        .expect("parse")
        .nonce_u64();
    // sha1: the RFC 2634 signingCertificate; sha256: the RFC 5035 signingCertificateV2
    for ess_alg in ["sha1", "sha256"] {
        let config = f.dir.join(format!("tsa-{ess_alg}.cnf"));
        let serial = f.dir.join(format!("serial-{ess_alg}"));
        std::fs::write(&serial, "0A\n").expect("write serial");
        std::fs::write(
            &config,
            format!(
                "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {}\n\
                 signer_digest = sha256\ndefault_policy = 1.3.6.1.4.1.99999.7\n\
                 digests = sha256\naccuracy = secs:1, millisecs:500, microsecs:100\n\
                 ordering = yes\ntsa_name = yes\ness_cert_id_chain = no\n\
                 ess_cert_id_alg = {ess_alg}\n",
                s(&serial)
            ),
        )
        .expect("write config");
        let resp_tsr = f.dir.join(format!("openssl-{ess_alg}.tsr"));
        // openssl ts -reply -config tsa.cnf -queryfile req.tsq -inkey key.pem
        //   -signer tsa.pem -out openssl.tsr
        openssl(&[
            "ts",
            "-reply",
            "-config",
            s(&config),
            "-queryfile",
            s(&req_tsq),
            "-inkey",
            s(&f.key_pem),
            "-signer",
            s(&f.tsa_pem),
            "-out",
            s(&resp_tsr),
        ]);
        let resp = std::fs::read(&resp_tsr).expect("read openssl response");
        let info = verify_response(&resp, &f.data_hash, nonce, std::slice::from_ref(&f.cert))
            .unwrap_or_else(|e| panic!("ess_cert_id_alg = {ess_alg}: {e}"));
        // the serial file holds the last serial used: openssl issues the next one
        assert_eq!(info.serial_u128(), Some(0x0b));
        assert_eq!(info.policy, POLICY);
        assert_eq!(
            info.accuracy,
            Some(Duration::from_secs(1) + Duration::from_micros(500_100))
        );
        let token = token_from_response(&resp).expect("token");
        assert!(matches!(
            verify_token(&token, &sha256(b"other"), std::slice::from_ref(&f.cert)),
            Err(as2_evidence::Error::ImprintMismatch)
        ));
    }
}
