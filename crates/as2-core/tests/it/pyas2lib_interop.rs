//! Codec-level interop with pyas2lib 1.4.4 through the harness in ../shared/interop
//! (`AS2_INTEROP_DIR` overrides the path): as2-core builds requests that pyas2lib's
//! `parse.py` reads (payload, MIC, and the MDN pyas2lib answers with, which as2-core
//! checks), and reads requests that `peer.py export` built (payload, MIC, and an MDN
//! as2-core builds, which pyas2lib's `Mdn.parse` checks). The venv is made with
//! `setup.sh` when missing; python3 is required (this test fails without it).
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use as2_core::cert::Certificate;
use as2_core::cms::{DecryptionKey, EncryptOptions, SignOptions};
use as2_core::crypto::{ContentEncryption, DigestAlgorithm};
use as2_core::mdn::{self, MdnDisposition, MdnParams};
use as2_core::message::{self, Compression, InboundConfig, NotificationOptions, OutboundMessage};
use as2_core::message::{Mic, Signer};
use as2_core::mime::Headers;
use serde_json::Value;

const VENV_PYTHON: &str = "/tmp/as2-interop-venv/bin/python";

fn interop_dir() -> PathBuf {
    std::env::var_os("AS2_INTEROP_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop"),
        PathBuf::from,
    )
}

/// The venv's python, after `setup.sh` when the venv is missing (once per process).
fn python() -> &'static Path {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let py3 = Command::new("python3").arg("--version").output();
        assert!(
            py3.is_ok_and(|o| o.status.success()),
            "python3 is required for the pyas2lib interop test"
        );
        if !Path::new(VENV_PYTHON).exists() {
            let out = Command::new("bash")
                .arg(interop_dir().join("setup.sh"))
                .output()
                .expect("run setup.sh");
            assert!(
                out.status.success(),
                "setup.sh failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
    Path::new(VENV_PYTHON)
}

struct Certs {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    us_key: rsa::PrivateKey,
    us_cert: Certificate,
    partner_cert: Certificate,
}

impl Certs {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

/// `make_certs.sh DIR`: `us.*` is our side (as2-core), `partner.*` is pyas2lib's.
fn certs() -> Certs {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new("bash")
        .arg(interop_dir().join("make_certs.sh"))
        .arg(dir.path())
        .output()
        .expect("run make_certs.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |n: &str| std::fs::read(dir.path().join(n)).expect(n);
    Certs {
        us_key: as2_core::keys::load_private_key(&read("us.key.pem"), None).expect("us key"),
        us_cert: Certificate::load(&read("us.cert.pem")).expect("us cert"),
        partner_cert: Certificate::load(&read("partner.cert.pem")).expect("partner cert"),
        dir: dir.path().to_path_buf(),
        _dir: dir,
    }
}

fn run_json(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no JSON from python: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).expect("JSON")
}

/// Split `headers CRLF CRLF body` (as parse.py writes MDNs).
fn split(raw: &[u8]) -> (Headers, Vec<u8>) {
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("blank line");
    (
        Headers::parse(&raw[..at]).expect("headers"),
        raw[at + 4..].to_vec(),
    )
}

fn py_digest(d: DigestAlgorithm) -> &'static str {
    match d {
        DigestAlgorithm::Sha1 => "sha1",
        DigestAlgorithm::Sha256 => "sha256",
        DigestAlgorithm::Sha384 => "sha384",
        _ => "sha512",
    }
}

fn py_cipher(c: ContentEncryption) -> &'static str {
    match c {
        ContentEncryption::Des3Cbc => "tripledes_192_cbc",
        ContentEncryption::Aes128Cbc => "aes_128_cbc",
        ContentEncryption::Aes192Cbc => "aes_192_cbc",
        _ => "aes_256_cbc",
    }
}

const SIGNS: [Option<DigestAlgorithm>; 4] = [
    Some(DigestAlgorithm::Sha1),
    Some(DigestAlgorithm::Sha256),
    Some(DigestAlgorithm::Sha512),
    None,
];
const CIPHERS: [ContentEncryption; 3] = [
    ContentEncryption::Des3Cbc,
    ContentEncryption::Aes128Cbc,
    ContentEncryption::Aes256Cbc,
];

#[test]
fn pyas2lib_reads_our_messages_and_we_check_its_mdns() {
    let py = python();
    let c = certs();
    let samples = interop_dir().join("samples");
    let mut n = 0;
    for sign in SIGNS {
        for cipher in CIPHERS {
            for compression in [
                Compression::None,
                Compression::BeforeSigning,
                Compression::AfterSigning,
            ] {
                let compress = compression != Compression::None;
                n += 1;
                let signed_mdn = n % 2 == 0;
                let sample = if n % 3 == 0 {
                    "x12_850_lf.edi"
                } else {
                    "x12_850_crlf.edi"
                };
                let payload = std::fs::read(samples.join(sample)).expect("sample");
                let label =
                    format!("{sign:?} {cipher:?} {compression:?} signed_mdn={signed_mdn} {sample}");
                let mut out = OutboundMessage::new(
                    &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                    "us",
                    "partner",
                    &payload,
                    "application/edi-x12",
                );
                out.filename = Some(sample.to_owned());
                out.message_id_domain = "as2-core.test".to_owned();
                out.compression = compression;
                out.signer = sign.map(|digest| {
                    Signer::new(
                        &c.us_cert,
                        &c.us_key,
                        SignOptions::new(std::time::SystemTime::now()).with_digest(digest),
                    )
                });
                out.encryption = Some(message::Encryption::new(
                    vec![&c.partner_cert],
                    EncryptOptions::default().with_algorithm(cipher),
                ));
                out.mdn_to = Some("as2@us.test".into());
                if signed_mdn {
                    out.mdn_options = Some(NotificationOptions::signed(&[
                        sign.unwrap_or(DigestAlgorithm::Sha256)
                    ]));
                }
                let built = message::build_outbound(&out).expect("build");
                let mut req: Vec<u8> = built
                    .headers
                    .iter()
                    .flat_map(|(k, v)| format!("{k}: {v}\r\n").into_bytes())
                    .collect();
                req.extend_from_slice(b"\r\n");
                req.extend_from_slice(&built.body);
                let req_file = c.dir.join("request.http");
                let mdn_file = c.dir.join("mdn.http");
                std::fs::write(&req_file, &req).expect("write");
                // python parse.py --in request.http --our-id partner --our-key partner.pem
                //   --partner-id us --their-cert us.cert.pem --expect-payload SAMPLE --mdn-out mdn.http
                let j = run_json(
                    Command::new(py)
                        .current_dir(interop_dir())
                        .arg("parse.py")
                        .args(["--in", req_file.to_str().unwrap_or_default()])
                        .args(["--our-id", "partner", "--our-key", &c.path("partner.pem")])
                        .args(["--partner-id", "us", "--their-cert", &c.path("us.cert.pem")])
                        .args([
                            "--expect-payload",
                            samples.join(sample).to_str().unwrap_or_default(),
                        ])
                        .args(["--mdn-out", mdn_file.to_str().unwrap_or_default()]),
                );
                assert_eq!(j["ok"], true, "{label}: {j}");
                assert_eq!(j["status"], "processed", "{label}: {j}");
                assert_eq!(j["payload_ok"], true, "{label}");
                assert_eq!(j["encrypted"], true, "{label}");
                assert_eq!(j["compressed"], compress, "{label}");
                if let Some(d) = sign {
                    // pyas2lib computes a MIC only for signed messages (its quirk 1)
                    assert_eq!(j["digest_alg"], py_digest(d), "{label}");
                    assert_eq!(
                        j["mic"].as_str(),
                        Some(built.mic.base64().as_str()),
                        "{label}"
                    );
                }
                // the MDN pyas2lib answers with, checked by as2-core
                let (h, body) = split(&std::fs::read(&mdn_file).expect("mdn"));
                let parsed = mdn::parse_mdn(&h, &body, std::slice::from_ref(&c.partner_cert))
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
                assert_eq!(parsed.signed, signed_mdn, "{label}");
                assert!(parsed.is_delivered(), "{label}: {}", parsed.disposition_raw);
                let expected = sign.map(|_| &built.mic);
                parsed
                    .check(&built.message_id, expected, signed_mdn)
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
            }
        }
    }
    assert_eq!(n, 36);
}

/// Checks an MDN with pyas2lib's `Mdn.parse`: argv = mdn file, verify cert, original
/// Message-ID (without <>), expected signing digest ("" = unsigned), expected MIC base64.
const CHECK_MDN_PY: &str = r#"
import json, sys
from types import SimpleNamespace
import pyas2lib.as2 as pyas2
raw = open(sys.argv[1], "rb").read()
cert = open(sys.argv[2], "rb").read()
partner = pyas2.Partner(as2_name="us", verify_cert=cert, validate_certs=False,
                        mdn_digest_alg=sys.argv[4] or None)
orig = SimpleNamespace(message_id=sys.argv[3], receiver=partner,
                       mic=sys.argv[5].encode() if sys.argv[5] else None)
mdn = pyas2.Mdn()
status, detail = mdn.parse(raw, lambda mid, rcpt: orig)
print(json.dumps({"status": status, "detail": detail, "orig_message_id": mdn.orig_message_id,
                  "digest_alg": mdn.digest_alg}))
"#;

#[test]
fn we_read_pyas2lib_messages_and_it_checks_our_mdns() {
    let py = python();
    let c = certs();
    let check_py = c.dir.join("check_mdn.py");
    std::fs::write(&check_py, CHECK_MDN_PY).expect("write");
    let keys = [DecryptionKey {
        certificate: &c.us_cert,
        key: &c.us_key,
    }];
    let trusted = [c.partner_cert.clone()];
    let mut n = 0;
    for sign in SIGNS {
        for cipher in CIPHERS {
            for compress in [false, true] {
                n += 1;
                let signed_mdn = n % 2 == 1;
                let sample = if n % 3 == 0 {
                    "x12_850_crlf.edi"
                } else {
                    "x12_850_lf.edi"
                };
                let label = format!(
                    "{sign:?} {cipher:?} compress={compress} signed_mdn={signed_mdn} {sample}"
                );
                let out_dir = c.dir.join(format!("export{n}"));
                // python peer.py export --from partner --to us --our-key partner.pem
                //   --their-cert us.cert.pem --sign SHA --encrypt CIPHER [--compress]
                //   --file samples/SAMPLE --out DIR
                let j = run_json(
                    Command::new(py)
                        .current_dir(interop_dir())
                        .arg("peer.py")
                        .arg("export")
                        .args(["--from", "partner", "--to", "us"])
                        .args(["--our-key", &c.path("partner.pem")])
                        .args(["--their-cert", &c.path("us.cert.pem")])
                        .args(["--sign", sign.map_or("none", py_digest)])
                        .args(["--encrypt", py_cipher(cipher)])
                        .arg(if compress {
                            "--compress"
                        } else {
                            "--no-compress"
                        })
                        .args(["--file", &format!("samples/{sample}")])
                        .args(["--out", out_dir.to_str().unwrap_or_default()]),
                );
                let (headers, body) =
                    split(&std::fs::read(out_dir.join("message.eml")).expect("message.eml"));
                let cfg = InboundConfig::new(
                    &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                    &keys,
                    &trusted,
                );
                let m = message::parse_inbound(&headers, &body, &cfg)
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
                let expected =
                    std::fs::read(out_dir.join("expected_payload.bin")).expect("expected");
                assert_eq!(m.payload, expected, "{label}");
                assert_eq!(m.encryption, Some(cipher), "{label}");
                assert_eq!(m.compressed, compress, "{label}");
                assert_eq!(m.signature.as_ref().map(|s| s.digest), sign, "{label}");
                if sign.is_some() {
                    assert_eq!(j["mic"].as_str(), Some(m.mic.base64().as_str()), "{label}");
                    assert_eq!(Some(m.mic.algorithm), sign, "{label}");
                }
                // our MDN, checked by pyas2lib (a MIC mismatch is processed/warning there)
                let original = m.envelope.message_id.clone().expect("Message-ID");
                let mut params = MdnParams::new(
                    &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                    "us",
                    "partner",
                    &original,
                    MdnDisposition::Processed,
                );
                params.mic = Some(m.mic.clone());
                let mdn_digest = sign.unwrap_or(DigestAlgorithm::Sha256);
                if signed_mdn {
                    params.signer = Some(Signer::new(
                        &c.us_cert,
                        &c.us_key,
                        SignOptions::new(std::time::SystemTime::now()).with_digest(mdn_digest),
                    ));
                }
                let built = mdn::build_mdn(&params).expect("mdn");
                let mut raw: Vec<u8> = built
                    .headers
                    .iter()
                    .flat_map(|(k, v)| format!("{k}: {v}\r\n").into_bytes())
                    .collect();
                raw.extend_from_slice(b"\r\n");
                raw.extend_from_slice(&built.body);
                let mdn_file = out_dir.join("our_mdn.http");
                std::fs::write(&mdn_file, &raw).expect("write");
                let bare_id = original.trim_start_matches('<').trim_end_matches('>');
                let mic_b64 = if sign.is_some() {
                    m.mic.base64()
                } else {
                    String::new()
                };
                let r = run_json(
                    Command::new(py)
                        .arg(&check_py)
                        .arg(&mdn_file)
                        .arg(c.path("us.cert.pem"))
                        .arg(bare_id)
                        .arg(if signed_mdn {
                            py_digest(mdn_digest)
                        } else {
                            ""
                        })
                        .arg(&mic_b64),
                );
                assert_eq!(r["status"], "processed", "{label}: {r}");
                assert_eq!(
                    r["orig_message_id"]
                        .as_str()
                        .map(|s| s.trim_matches(['<', '>'])),
                    Some(bare_id),
                    "{label}"
                );
                if n == 2 {
                    // not vacuous: pyas2lib flags a MIC it does not expect
                    let wrong = Mic::compute(DigestAlgorithm::Sha1, b"other").base64();
                    let r = run_json(
                        Command::new(py)
                            .arg(&check_py)
                            .arg(&mdn_file)
                            .arg(c.path("us.cert.pem"))
                            .arg(bare_id)
                            .arg("")
                            .arg(&wrong),
                    );
                    assert_eq!(r["status"], "processed/warning", "{r}");
                }
                assert_eq!(
                    r["digest_alg"].as_str(),
                    signed_mdn.then(|| py_digest(mdn_digest)),
                    "{label}: {r}"
                );
            }
        }
    }
    assert_eq!(n, 24);
}
