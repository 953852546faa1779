//! Runs the built `as2` binary on captures made by other AS2 products (../shared/vectors)
//! and on a pack → unpack → MDN round trip with key pairs made by the openssl CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context as _, Result, ensure};
use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/pyas2lib-fixtures")
}

fn v(name: &str) -> String {
    vectors().join(name).display().to_string()
}

fn as2(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_as2"))
        .args(args)
        .output()
        .expect("run as2")
}

fn as2_json(args: &[&str]) -> (i32, Value) {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let out = as2(&full);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout} / {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const MECAS2: [&str; 5] = [
    "mecas2_signed.as2",
    "mecas2_encrypted.as2",
    "mecas2_compressed.as2",
    "mecas2_signed_encrypted.as2",
    "mecas2_compressed_signed_encrypted.as2",
];

#[test]
fn unpack_mendelson_captures() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let expected = std::fs::read(vectors().join("payload.txt"))?;
    for name in MECAS2 {
        let out = dir.path().join(format!("{name}.payload"));
        let (code, j) = as2_json(&[
            "unpack",
            &v(name),
            "--key",
            &v("cert_test.p12"),
            "--key-password",
            "test",
            "--cert",
            &v("cert_mecas2_public.pem"),
            "--out",
            out.to_str().context("path")?,
        ]);
        ensure!(code == 0, "{name}: {j}");
        assert_eq!(std::fs::read(&out)?, expected, "{name}");
        assert_eq!(j["as2_from"], "mecas2");
        assert_eq!(j["as2_to"], "pyas2lib");
        assert_eq!(
            j["encryption"].as_str(),
            name.contains("encrypted").then_some("3des")
        );
        assert_eq!(j["compressed"], name.contains("compressed"));
        if name.contains("signed") {
            assert_eq!(j["signature"]["digest"], "sha-256", "{name}");
            assert!(j["mic"].as_str().is_some_and(|m| m.ends_with(", sha-256")));
        }
    }
    Ok(())
}

#[test]
fn signed_mics_agree_across_layers() {
    // the signed entity is the same whether or not it travels encrypted
    let mic = |name: &str| {
        let out = std::env::temp_dir().join(format!("as2-cli-mic-{}-{name}", std::process::id()));
        let (code, j) = as2_json(&[
            "unpack",
            &v(name),
            "--key",
            &v("cert_test.p12"),
            "--key-password",
            "test",
            "--cert",
            &v("cert_mecas2_public.pem"),
            "--out",
            out.to_str().unwrap_or_default(),
        ]);
        let _ = std::fs::remove_file(&out);
        assert_eq!(code, 0, "{j}");
        j["mic"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(mic("mecas2_signed.as2"), mic("mecas2_signed_encrypted.as2"));
    assert_eq!(
        mic("mecas2_compressed.as2"),
        mic("mecas2_compressed_signed_encrypted.as2")
    );
}

#[test]
fn unpack_sterling_signed_compressed_with_encrypted_pem_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("payload");
    let (code, j) = as2_json(&[
        "unpack",
        &v("sb2bi_signed_cmp.msg"),
        "--key",
        &v("cert_oldpyas2_private.pem"),
        "--key-password",
        "password",
        "--cert",
        &v("cert_sb2bi_public.pem"),
        "--out",
        out.to_str().context("path")?,
    ]);
    ensure!(code == 0, "{j}");
    assert_eq!(j["compressed"], true);
    assert_eq!(j["signature"]["digest"], "sha-1");
    assert_eq!(j["mic_algorithm"], "sha-1");
    let payload = std::fs::read(&out)?;
    assert_eq!(payload.len(), 2247);
    assert!(payload.starts_with(b"ISA"), "an X12 interchange");
    Ok(())
}

#[test]
fn unpack_with_wrong_key_is_decryption_failed() {
    let out = as2(&[
        "unpack",
        &v("mecas2_encrypted.as2"),
        "--key",
        &v("cert_oldpyas2_private.pem"),
        "--key-password",
        "password",
        "--cert",
        &v("cert_mecas2_public.pem"),
        "--out",
        "/dev/null",
    ]);
    // exit code 10: decryption-failed
    assert_eq!(out.status.code(), Some(10));
    let t = text(&out);
    assert!(t.contains("processed/error: decryption-failed"), "{t}");
}

#[test]
fn unpack_with_wrong_partner_cert_is_authentication_failed() {
    let (code, j) = as2_json(&[
        "unpack",
        &v("mecas2_signed_encrypted.as2"),
        "--key",
        &v("cert_test.p12"),
        "--key-password",
        "test",
        "--cert",
        &v("cert_sb2bi_public.pem"),
        "--out",
        "/dev/null",
    ]);
    assert_eq!(code, 11, "{j}");
    assert_eq!(j["ok"], false);
    assert_eq!(j["disposition_modifier"], "authentication-failed");
    assert_eq!(j["exit_code"], 11);
}

#[test]
fn unpack_with_wrong_p12_password_is_a_usage_error() {
    let out = as2(&[
        "unpack",
        &v("mecas2_encrypted.as2"),
        "--key",
        &v("cert_test.p12"),
        "--key-password",
        "wrong",
        "--cert",
        &v("cert_mecas2_public.pem"),
        "--out",
        "/dev/null",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn inspect_shows_recipient_and_layers() {
    let (code, j) = as2_json(&["inspect", &v("mecas2_compressed_signed_encrypted.as2")]);
    assert_eq!(code, 0, "{j}");
    let layer = &j["layers"][0];
    assert_eq!(layer["layer"], "encrypted");
    assert_eq!(layer["algorithm"], "3des");
    let r = &layer["recipients"][0];
    assert_eq!(r["serial"], "00d009b23e5ffe6697");
    assert!(
        r["issuer"]
            .as_str()
            .is_some_and(|i| i.contains("CN=pyas2lib"))
    );

    let (code, j) = as2_json(&["inspect", &v("sb2bi_signed_cmp.msg")]);
    assert_eq!(code, 0, "{j}");
    let kinds: Vec<&str> = j["layers"]
        .as_array()
        .map(|a| a.iter().filter_map(|l| l["layer"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["signed", "compressed", "payload"]);
    assert_eq!(j["layers"][0]["signers"][0]["digest"], "sha-1");
    assert_eq!(j["layers"][2]["bytes"], 2247);

    let out = as2(&["inspect", &v("mecas2_signed.as2")]);
    assert!(out.status.success());
    let t = text(&out);
    assert!(t.contains("- signed") && t.contains("- payload"), "{t}");
}

#[test]
fn inspect_mdns() {
    let (code, j) = as2_json(&["inspect", &v("mecas2_unsigned.mdn")]);
    assert_eq!(code, 0, "{j}");
    let mdn = &j["layers"][0];
    assert_eq!(mdn["layer"], "mdn");
    assert_eq!(mdn["delivered"], false);
    assert!(
        mdn["disposition"]
            .as_str()
            .is_some_and(|d| d.contains("authentication-failed"))
    );
    let (code, j) = as2_json(&["inspect", &v("sb2bi_signed.mdn")]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["layers"][0]["layer"], "signed");
    assert_eq!(j["layers"][1]["layer"], "mdn");
    assert_eq!(
        j["layers"][1]["original_message_id"],
        "<151694007918.24690.7052273208458909245@ip-172-31-14-209.ec2.internal>"
    );
}

#[test]
fn mdn_verify_captures() {
    let id = "<151694007918.24690.7052273208458909245@ip-172-31-14-209.ec2.internal>";
    let cert = v("cert_sb2bi_public.pem");
    let mdn = v("sb2bi_signed.mdn");
    let ok = |mic: &str| {
        as2_json(&[
            "mdn",
            "verify",
            &mdn,
            "--cert",
            &cert,
            "--message-id",
            id,
            "--mic",
            mic,
        ])
    };
    let (code, j) = ok("wNh76aEicfBurg/et2wio4zk/2I=, sha1");
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["signed"], true);
    assert_eq!(j["mic_matches"], true);
    assert!(
        j["signer"]["subject"]
            .as_str()
            .is_some_and(|s| s.contains("b2b.mclaneco.com"))
    );
    // another MIC: integrity failure
    let (code, j) = ok("AAAAAAAAAAAAAAAAAAAAAAAAAAA=, sha1");
    assert_eq!(code, 12, "{j}");
    assert_eq!(j["mic_matches"], false);
    assert_eq!(j["disposition_modifier"], "integrity-check-failed");
    // a certificate that did not sign it
    let out = as2(&[
        "mdn",
        "verify",
        &mdn,
        "--cert",
        &v("cert_mecas2_public.pem"),
        "--message-id",
        id,
    ]);
    assert_eq!(out.status.code(), Some(11), "{}", text(&out));
    // an error MDN names its disposition
    let out = as2(&[
        "mdn",
        "verify",
        &v("mecas2_unsigned.mdn"),
        "--cert",
        &v("cert_mecas2_public.pem"),
        "--message-id",
        "<whatever>",
    ]);
    // not our message: unexpected-processing-error
    assert_eq!(out.status.code(), Some(15), "{}", text(&out));
    let (_, j) = as2_json(&["inspect", &v("mecas2_unsigned.mdn")]);
    let original = j["layers"][0]["original_message_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let out = as2(&[
        "mdn",
        "verify",
        &v("mecas2_unsigned.mdn"),
        "--cert",
        &v("cert_mecas2_public.pem"),
        "--message-id",
        &original,
    ]);
    // the partner reports authentication-failed: that is the exit code
    assert_eq!(out.status.code(), Some(11), "{}", text(&out));
    assert!(
        text(&out).contains("authentication-failed"),
        "{}",
        text(&out)
    );
}

/// A key pair made with
/// `openssl req -x509 -newkey rsa:2048 -nodes -keyout NAME.key.pem -out NAME.cert.pem
///  -days 2 -subj /CN=NAME -sha256`
/// (the key is PKCS#8 PEM, the certificate separate).
fn openssl_pair(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf)> {
    let key = dir.join(format!("{name}.key.pem"));
    let cert = dir.join(format!("{name}.cert.pem"));
    let st = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "2", "-subj", &format!("/CN={name}"), "-sha256"])
        .output()
        .context("openssl req (the openssl CLI must be installed)")?;
    ensure!(st.status.success(), "openssl req: {}", text(&st));
    Ok((key, cert))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[test]
fn pack_unpack_mdn_round_trip() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let (a_key, a_cert) = openssl_pair(d, "alice")?;
    let (b_key, b_cert) = openssl_pair(d, "bob")?;
    let payload = d.join("order.edi");
    let mut data = b"ISA*00*          *00*\n".repeat(50);
    data.extend_from_slice(&[0, 1, 2, 255, b'\r', b'\n', b'\n']);
    std::fs::write(&payload, &data)?;
    let cases: &[&[&str]] = &[
        &[
            "--sign",
            "sha256",
            "--encrypt",
            "aes256-cbc",
            "--mdn",
            "sync",
            "--signed-mdn",
            "sha256",
        ],
        &[
            "--sign",
            "sha1",
            "--encrypt",
            "3des",
            "--compress",
            "before",
            "--mdn",
            "sync",
        ],
        &[
            "--sign",
            "sha512",
            "--pss",
            "--encrypt",
            "aes128-gcm",
            "--oaep",
            "--compress",
            "after",
            "--mdn",
            "async=http://127.0.0.1:9/mdn",
            "--signed-mdn",
            "sha512",
        ],
        &[
            "--encrypt",
            "aes192-cbc",
            "--mdn",
            "sync",
            "--signed-mdn",
            "sha384",
        ],
        &["--compress", "before", "--mdn", "sync"],
    ];
    for (i, extra) in cases.iter().enumerate() {
        let req = d.join(format!("req{i}.http"));
        let mut args = vec![
            "pack",
            s(&payload),
            "--from",
            "alice",
            "--to",
            "bob",
            "--key",
            s(&a_key),
            "--our-cert",
            s(&a_cert),
            "--cert",
            s(&b_cert),
            "--out",
            s(&req),
        ];
        args.extend_from_slice(extra);
        let (code, packed) = as2_json(&args);
        ensure!(code == 0, "case {i}: {packed}");
        let raw = std::fs::read(&req)?;
        assert!(raw.starts_with(b"POST /as2 HTTP/1.1\r\n"));
        assert_eq!(
            std::fs::read(d.join(format!("req{i}.http.body")))?.len() as u64,
            packed["body_bytes"].as_u64().unwrap_or(0)
        );
        let mic = packed["mic"].as_str().context("mic")?.to_owned();
        let id = packed["message_id"].as_str().context("id")?.to_owned();

        // the human output prints the same MIC
        let (_, inspected) = as2_json(&["inspect", s(&req)]);
        assert_eq!(inspected["as2_from"], "alice");

        let got = d.join(format!("got{i}"));
        let mdn = d.join(format!("mdn{i}.http"));
        let (code, un) = as2_json(&[
            "unpack",
            s(&req),
            "--key",
            s(&b_key),
            "--our-cert",
            s(&b_cert),
            "--cert",
            s(&a_cert),
            "--out",
            s(&got),
            "--mdn-out",
            s(&mdn),
        ]);
        ensure!(code == 0, "case {i}: {un}");
        assert_eq!(std::fs::read(&got)?, data, "case {i}: payload");
        assert_eq!(un["mic"].as_str(), Some(mic.as_str()), "case {i}: MIC");
        assert_eq!(un["message_id"].as_str(), Some(id.as_str()));

        let (code, ver) = as2_json(&[
            "mdn",
            "verify",
            s(&mdn),
            "--cert",
            s(&b_cert),
            "--message-id",
            &id,
            "--mic",
            &mic,
        ]);
        ensure!(code == 0, "case {i}: {ver}");
        assert_eq!(ver["mic_matches"], true);
        assert_eq!(ver["signed"], extra.contains(&"--signed-mdn"));

        // the receiver's key cannot stand in for the wrong certificate: decryption-failed
        let out = as2(&[
            "unpack",
            s(&req),
            "--key",
            s(&a_key),
            "--our-cert",
            s(&a_cert),
            "--cert",
            s(&a_cert),
            "--out",
            s(&got),
        ]);
        if extra.contains(&"--encrypt") {
            assert_eq!(out.status.code(), Some(10), "case {i}");
            assert!(
                text(&out).contains("decryption-failed"),
                "case {i}: {}",
                text(&out)
            );
        }
    }
    Ok(())
}

#[test]
fn tampered_request_is_authentication_failed_and_mdn_says_so() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let (a_key, a_cert) = openssl_pair(d, "alice")?;
    let (b_key, b_cert) = openssl_pair(d, "bob")?;
    let payload = d.join("p.txt");
    std::fs::write(&payload, b"hello partner\r\n")?;
    let req = d.join("req.http");
    let out = as2(&[
        "pack",
        s(&payload),
        "--from",
        "alice",
        "--to",
        "bob",
        "--key",
        s(&a_key),
        "--our-cert",
        s(&a_cert),
        "--sign",
        "sha256",
        "--mdn",
        "sync",
        "--signed-mdn",
        "sha256",
        "--out",
        s(&req),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    let mic_line = printed
        .lines()
        .find(|l| l.starts_with("expected MIC: "))
        .context("MIC line")?;
    let mic = mic_line.trim_start_matches("expected MIC: ").to_owned();
    let raw = std::fs::read(&req)?;
    let tampered = String::from_utf8_lossy(&raw).replace("hello partner", "hello pirate!");
    std::fs::write(&req, tampered)?;
    let mdn = d.join("mdn.http");
    let out = as2(&[
        "unpack",
        s(&req),
        "--key",
        s(&b_key),
        "--our-cert",
        s(&b_cert),
        "--cert",
        s(&a_cert),
        "--out",
        s(&d.join("x")),
        "--mdn-out",
        s(&mdn),
    ]);
    let code = out.status.code();
    let t = text(&out);
    assert!(
        (code == Some(12) && t.contains("processed/error: integrity-check-failed"))
            || (code == Some(11) && t.contains("processed/error: authentication-failed")),
        "{code:?} {t}"
    );
    let id_line = String::from_utf8_lossy(&raw)
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .map(|l| l[11..].trim().to_owned())
        .context("Message-ID")?;
    let out = as2(&[
        "mdn",
        "verify",
        s(&mdn),
        "--cert",
        s(&b_cert),
        "--message-id",
        &id_line,
        "--mic",
        &mic,
    ]);
    // the MDN reports the receiver's disposition, and the exit code is the same
    assert_eq!(out.status.code(), code, "{}", text(&out));
    assert!(text(&out).contains("processed/error"), "{}", text(&out));
    Ok(())
}

/// Every `pack` option lands in the request, and `unpack` reports it back.
#[test]
fn pack_options_reach_the_request() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let (a_key, a_cert) = openssl_pair(d, "alice")?;
    let (b_key, b_cert) = openssl_pair(d, "bob")?;
    let payload = d.join("invoice.xml");
    std::fs::write(&payload, b"<invoice>42</invoice>\r\n")?;
    let req = d.join("req.http");
    let (code, packed) = as2_json(&[
        "pack",
        s(&payload),
        "--from",
        "alice corp",
        "--to",
        "bob",
        "--key",
        s(&a_key),
        "--our-cert",
        s(&a_cert),
        "--cert",
        s(&b_cert),
        "--sign",
        "sha224",
        "--encrypt",
        "aes256-gcm",
        "--compress",
        "before",
        "--mdn",
        "async=https://alice.example/mdn",
        "--mdn-to",
        "edi@alice.example",
        "--signed-mdn",
        "sha224",
        "--content-type",
        "application/xml",
        "--filename",
        "invoice 42.xml",
        "--subject",
        "Invoice 42",
        "--message-id",
        "inv-42@alice.example",
        "--path",
        "/as2/bob",
        "--out",
        s(&req),
    ]);
    ensure!(code == 0, "{packed}");
    assert_eq!(packed["message_id"], "<inv-42@alice.example>");
    assert_eq!(packed["encryption"], "aes256-gcm");
    assert_eq!(packed["compress"], "before");
    assert_eq!(packed["mdn"], "async to https://alice.example/mdn");
    assert_eq!(packed["mic_algorithm"], "sha-224");
    let raw = String::from_utf8_lossy(&std::fs::read(&req)?).into_owned();
    assert!(raw.starts_with("POST /as2/bob HTTP/1.1\r\n"), "{raw}");
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let has = |needle: &str| {
        head.to_ascii_lowercase()
            .contains(&needle.to_ascii_lowercase())
    };
    assert!(has("AS2-From: \"alice corp\""), "{head}");
    assert!(has("Subject: Invoice 42"), "{head}");
    assert!(
        has("Disposition-Notification-To: edi@alice.example"),
        "{head}"
    );
    assert!(
        has("Receipt-Delivery-Option: https://alice.example/mdn"),
        "{head}"
    );
    assert!(has("signed-receipt-micalg"), "{head}");
    assert!(has("sha-224"), "{head}");
    // curl's header file has the same fields, one per line, without Content-Length
    let curl_headers = std::fs::read_to_string(d.join("req.http.headers"))?;
    assert!(curl_headers.lines().all(|l| l.contains(": ")));
    assert!(!curl_headers.to_ascii_lowercase().contains("content-length"));

    let got = d.join("got");
    let (code, un) = as2_json(&[
        "unpack",
        s(&req),
        "--key",
        s(&b_key),
        "--our-cert",
        s(&b_cert),
        "--cert",
        s(&a_cert),
        "--out",
        s(&got),
        "--require-signed",
        "--require-encrypted",
    ]);
    ensure!(code == 0, "{un}");
    assert_eq!(std::fs::read(&got)?, b"<invoice>42</invoice>\r\n");
    assert_eq!(un["as2_from"], "alice corp");
    assert_eq!(un["encryption"], "aes256-gcm");
    assert_eq!(un["compressed"], true);
    assert_eq!(un["signature"]["digest"], "sha-224");
    assert_eq!(un["filename"], "invoice 42.xml");
    assert_eq!(un["mdn_requested"]["signed"], true);
    assert_eq!(
        un["mdn_requested"]["async_url"],
        "https://alice.example/mdn"
    );
    assert_eq!(un["mic"], packed["mic"]);
    Ok(())
}

/// Bad `pack` options are usage errors (exit 1), also as JSON.
#[test]
fn pack_rejects_bad_options() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let (a_key, a_cert) = openssl_pair(d, "alice")?;
    let payload = d.join("p");
    std::fs::write(&payload, b"x")?;
    let out = d.join("req");
    let base = [
        "pack",
        s(&payload),
        "--from",
        "a",
        "--to",
        "b",
        "--key",
        s(&a_key),
        "--our-cert",
        s(&a_cert),
        "--out",
        s(&out),
    ];
    let bad: &[(&[&str], &str)] = &[
        (&["--sign", "md5"], "md5"),
        (&["--sign", "sha3"], "unknown digest"),
        (&["--encrypt", "aes256-cbc"], "--cert"),
        (
            &["--encrypt", "rc2", "--cert", s(&a_cert)],
            "unknown cipher",
        ),
        (&["--signed-mdn", "sha256"], "--mdn"),
        (&["--mdn", "later"], "sync or async=URL"),
        (&["--mdn", "sync", "--signed-mdn", "md5"], "md5"),
    ];
    for (extra, needle) in bad {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let (code, j) = as2_json(&args);
        assert_eq!(code, 1, "{extra:?}: {j}");
        assert_eq!(j["ok"], false);
        assert!(
            j["error"].as_str().is_some_and(|e| e.contains(needle)),
            "{extra:?}: {j}"
        );
    }
    Ok(())
}

/// `unpack` exits with the code of the disposition: insufficient-message-security (14)
/// for an unsigned message when a signature is required, decompression-failed (13) for a
/// broken zlib stream.
#[test]
fn unpack_exit_codes_follow_the_disposition() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let (a_key, a_cert) = openssl_pair(d, "alice")?;
    let (b_key, b_cert) = openssl_pair(d, "bob")?;
    let payload = d.join("p.txt");
    std::fs::write(&payload, b"compress me ".repeat(200))?;
    let req = d.join("req.http");
    let (code, j) = as2_json(&[
        "pack",
        s(&payload),
        "--from",
        "alice",
        "--to",
        "bob",
        "--compress",
        "before",
        "--out",
        s(&req),
    ]);
    ensure!(code == 0, "{j}");
    let unpack = |file: &Path, extra: &[&str]| {
        let mut args = vec![
            "unpack",
            s(file),
            "--key",
            s(&b_key),
            "--our-cert",
            s(&b_cert),
            "--cert",
            s(&a_cert),
            "--out",
            "/dev/null",
        ];
        args.extend_from_slice(extra);
        as2_json(&args)
    };
    let (code, j) = unpack(&req, &[]);
    assert_eq!(code, 0, "{j}");
    let (code, j) = unpack(&req, &["--require-signed"]);
    assert_eq!(code, 14, "{j}");
    assert_eq!(j["disposition_modifier"], "insufficient-message-security");

    // flip bytes in the middle of the deflate stream (the DER around it stays intact)
    let mut raw = std::fs::read(&req)?;
    let body = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("blank line")?
        + 4;
    let body_len = raw.len() - body;
    let mid = body + body_len * 2 / 3;
    for b in &mut raw[mid..mid + 8] {
        *b ^= 0x5a;
    }
    let broken = d.join("broken.http");
    std::fs::write(&broken, &raw)?;
    let (code, j) = unpack(&broken, &[]);
    assert_eq!(code, 13, "{j}");
    assert_eq!(j["disposition_modifier"], "decompression-failed");
    let _ = a_key;
    Ok(())
}

/// Signing with one digest and asking for the MDN's MIC in another: the expected MIC may
/// not be the one the partner returns, and `pack` says so.
#[test]
fn pack_warns_when_sign_and_mdn_digests_differ() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let (a_key, a_cert) = openssl_pair(d, "alice")?;
    let payload = d.join("p");
    std::fs::write(&payload, b"x")?;
    let pack = |sign: &str, mdn: &str| {
        as2_json(&[
            "pack",
            s(&payload),
            "--from",
            "a",
            "--to",
            "b",
            "--key",
            s(&a_key),
            "--our-cert",
            s(&a_cert),
            "--sign",
            sign,
            "--mdn",
            "sync",
            "--signed-mdn",
            mdn,
            "--out",
            s(&d.join("req")),
        ])
    };
    let (code, j) = pack("sha256", "sha384");
    assert_eq!(code, 0, "{j}");
    assert!(
        j["warning"]
            .as_str()
            .is_some_and(|w| w.contains("sha-256") && w.contains("sha-384")),
        "{j}"
    );
    let (code, j) = pack("sha256", "sha256");
    assert_eq!(code, 0, "{j}");
    assert!(j["warning"].is_null(), "{j}");
    Ok(())
}
