//! Issue 15, evidence of delivery and the async MDN resend, over real HTTP on SQLite and
//! PostgreSQL. A sends to B through the gateway; each side downloads the message's evidence
//! (`GET /v1/messages/{id}/evidence`: A the MDN it received, B the MDN it sent), twice,
//! byte-identical, and checks it as an auditor would, without our software:
//!
//! ```text
//! unzip evidence.zip
//! openssl smime -verify -binary -in mdn.eml -CAfile signer-chain.pem -purpose any -out /dev/null
//! openssl ts -verify -data manifest.json -in timestamp.tsr -CAfile tsa-chain.pem
//! openssl dgst -sha256 -r mdn.eml signer-chain.pem timeline.json   # = manifest.json "files"
//! ```
//!
//! then with `as2 evidence verify evidence.zip` (exit 0), and tampered copies fail naming
//! the check: a changed MIC in the manifest (`mic`, `timestamp`), a changed MDN byte
//! (`files`, `mdn_signature`), another bundle's token (`timestamp`). A message whose MDN
//! is unsigned has no evidence (409), nor another tenant's (404). With async MDNs, B sends
//! its MDN again with `POST /v1/messages/{id}/mdn/resend` (202): posted a second time, the
//! same bytes; an outbound or sync message answers 409.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail, ensure};
use as2_e2e::Platform;
use as2_evidence::bundle::{Files, Manifest, verify};
use as2_store::testing::TestDb;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};

/// Sends `content` from A to B; A's message id and B's.
async fn exchange(p: &Platform, partner: &str, content: &[u8]) -> Result<(String, String)> {
    let sent = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": partner, "content": STANDARD.encode(content), "filename": "evidence.edi"}),
        )
        .await?;
    let id = sent["id"].as_str().context("id")?.to_owned();
    let done = p.wait_final(&p.key_a, &id).await?;
    ensure!(done["status"] == "delivered", "A's message: {done}");
    let query = done["message_id"]
        .as_str()
        .context("message_id")?
        .trim_matches(['<', '>'])
        .replace('@', "%40");
    let found = p
        .get(&p.key_b, &format!("/v1/messages?message_id={query}"))
        .await?;
    ensure!(found["total"] == 1, "{found}");
    let inbound = found["data"][0]["id"]
        .as_str()
        .context("B's id")?
        .to_owned();
    Ok((id, inbound))
}

/// `GET …/evidence`: status, content type, bytes.
async fn evidence(p: &Platform, key: &str, id: &str) -> Result<(u16, String, Vec<u8>)> {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/messages/{id}/evidence", p.api_url))
        .bearer_auth(key)
        .send()
        .await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, content_type, response.bytes().await?.to_vec()))
}

/// Writes the bundle's files into `dir` (what `unzip` gives).
fn unpack(files: &Files, dir: &Path) -> Result<()> {
    for (name, bytes) in files.named() {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}

/// Runs `openssl args…` in `dir`; whether it succeeded, and what it said.
fn openssl(dir: &Path, args: &[&str]) -> Result<(bool, String)> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()?;
    Ok((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

const SMIME_VERIFY: [&str; 11] = [
    "smime",
    "-verify",
    "-binary",
    "-in",
    "mdn.eml",
    "-CAfile",
    "signer-chain.pem",
    "-purpose",
    "any",
    "-out",
    "/dev/null",
];
const TS_VERIFY: [&str; 8] = [
    "ts",
    "-verify",
    "-data",
    "manifest.json",
    "-in",
    "timestamp.tsr",
    "-CAfile",
    "tsa-chain.pem",
];

/// The auditor's openssl checks of an untouched bundle.
fn openssl_accepts(files: &Files) -> Result<()> {
    let dir = tempfile::tempdir()?;
    unpack(files, dir.path())?;
    let (ok, said) = openssl(dir.path(), &SMIME_VERIFY)?;
    ensure!(
        ok && said.contains("Verification successful"),
        "openssl smime -verify refused the MDN: {said}"
    );
    let (ok, said) = openssl(dir.path(), &TS_VERIFY)?;
    ensure!(
        ok && said.contains("Verification: OK"),
        "openssl ts -verify: {said}"
    );
    let manifest: Value = serde_json::from_slice(&files.manifest)?;
    for name in ["mdn.eml", "signer-chain.pem", "timeline.json"] {
        let (ok, said) = openssl(dir.path(), &["dgst", "-sha256", "-r", name])?;
        let digest = said.split_whitespace().next().unwrap_or_default();
        ensure!(
            ok && manifest["files"][name] == digest,
            "{name}: openssl says {said}, the manifest {}",
            manifest["files"]
        );
    }
    Ok(())
}

/// The `as2` binary beside this test's `deps/` (built with `-p as2-cli` or `--workspace`).
fn as2_binary() -> Result<Option<PathBuf>> {
    let exe = std::env::current_exe()?;
    let path = exe
        .parent()
        .and_then(Path::parent)
        .context("no profile directory")?
        .join("as2");
    if path.is_file() {
        return Ok(Some(path));
    }
    ensure!(
        std::env::var_os("CI").is_none(),
        "{} is not built and CI is set: run with -p as2-cli (or --workspace)",
        path.display()
    );
    eprintln!(
        "NOTICE: {} is not built; the `as2 evidence verify` part is skipped",
        path.display()
    );
    Ok(None)
}

/// `as2 evidence verify` on `files`: exit code and output.
fn cli_verify(as2: &Path, files: &Files) -> Result<(i32, String)> {
    let dir = tempfile::tempdir()?;
    let zip = dir.path().join("evidence.zip");
    std::fs::write(&zip, files.to_zip()?)?;
    let out = Command::new(as2)
        .args(["evidence", "verify"])
        .arg(&zip)
        .output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// `files` with its manifest's computed MIC changed (another SHA-256 value).
fn with_changed_mic(files: &Files) -> Result<Files> {
    let mut manifest: Manifest = serde_json::from_slice(&files.manifest)?;
    let mic = manifest.mic.computed.clone().context("computed MIC")?;
    let (_, alg) = mic.split_once(',').context("MIC shape")?;
    manifest.mic.computed = Some(format!("{},{alg}", STANDARD.encode([7_u8; 32])));
    Ok(Files {
        manifest: manifest.to_json()?,
        ..files.clone()
    })
}

/// `files` with one byte of the MDN's signed text changed.
fn with_changed_mdn_byte(files: &Files) -> Result<Files> {
    let mut mdn = files.mdn.clone();
    let at = mdn
        .windows(9)
        .rposition(|w| w == b"processed")
        .context("no disposition in the MDN")?;
    mdn[at] = b'P';
    Ok(Files {
        mdn,
        ..files.clone()
    })
}

async fn evidence_checks_out(db: TestDb) -> Result<()> {
    let p = Platform::start(db).await?;
    let partner = p.link_a_to_b().await?;
    let (a_id, b_id) = exchange(&p, &partner, b"ISA*00*EVIDENCE~IEA*1*000000001~").await?;

    // A: the partner's MDN, received; the same bytes on every download
    let (status, content_type, zip) = evidence(&p, &p.key_a, &a_id).await?;
    ensure!(
        status == 200,
        "A's evidence: {status} {}",
        String::from_utf8_lossy(&zip)
    );
    ensure!(content_type == "application/zip", "{content_type}");
    let (_, _, again) = evidence(&p, &p.key_a, &a_id).await?;
    ensure!(zip == again, "a second download differs");
    let a_files = Files::from_zip(&zip)?;
    let manifest: Value = serde_json::from_slice(&a_files.manifest)?;
    ensure!(manifest["message"]["id"] == a_id.as_str(), "{manifest}");
    ensure!(manifest["message"]["direction"] == "outbound", "{manifest}");
    ensure!(
        manifest["message"]["partner_as2_id"] == "TENANT-B",
        "{manifest}"
    );
    ensure!(manifest["mdn"]["direction"] == "received", "{manifest}");
    ensure!(manifest["mic"]["matched"] == true, "{manifest}");
    ensure!(manifest["mic"]["algorithm"] == "sha-256", "{manifest}");
    let report = verify(&a_files);
    ensure!(report.ok(), "{report:?}");
    openssl_accepts(&a_files)?;

    // B: the MDN it sent
    let (status, _, zip) = evidence(&p, &p.key_b, &b_id).await?;
    ensure!(
        status == 200,
        "B's evidence: {status} {}",
        String::from_utf8_lossy(&zip)
    );
    let b_files = Files::from_zip(&zip)?;
    let manifest: Value = serde_json::from_slice(&b_files.manifest)?;
    ensure!(manifest["mdn"]["direction"] == "sent", "{manifest}");
    ensure!(
        manifest["message"]["partner_as2_id"] == "TENANT-A",
        "{manifest}"
    );
    ensure!(verify(&b_files).ok(), "{:?}", verify(&b_files));
    openssl_accepts(&b_files)?;

    // tampered bundles
    let changed_mic = with_changed_mic(&a_files)?;
    ensure!(
        verify(&changed_mic).failed() == ["mic", "timestamp"],
        "{:?}",
        verify(&changed_mic)
    );
    let changed_byte = with_changed_mdn_byte(&a_files)?;
    let failed = verify(&changed_byte).failed();
    ensure!(
        failed.contains(&"files") && failed.contains(&"mdn_signature"),
        "{failed:?}"
    );
    let wrong_token = Files {
        timestamp: b_files.timestamp.clone(),
        ..a_files.clone()
    };
    ensure!(
        verify(&wrong_token).failed() == ["timestamp"],
        "{:?}",
        verify(&wrong_token)
    );
    // openssl sees the same
    let dir = tempfile::tempdir()?;
    unpack(&changed_byte, dir.path())?;
    let (ok, said) = openssl(dir.path(), &SMIME_VERIFY)?;
    ensure!(
        !ok && said.contains("Verification failure"),
        "openssl accepted a changed MDN: {said}"
    );
    unpack(&changed_mic, dir.path())?;
    let (ok, said) = openssl(dir.path(), &TS_VERIFY)?;
    ensure!(!ok, "openssl accepted a changed manifest: {said}");

    // the CLI
    if let Some(as2) = as2_binary()? {
        let (code, out) = cli_verify(&as2, &a_files)?;
        ensure!(code == 0 && out.contains("evidence ok"), "{code}: {out}");
        for (files, names) in [
            (&changed_mic, "mic, timestamp"),
            (&wrong_token, "timestamp"),
        ] {
            let (code, out) = cli_verify(&as2, files)?;
            ensure!(
                code == 2 && out.contains(&format!("evidence check failed: {names}\n")),
                "{code}: {out}"
            );
        }
        let (code, out) = cli_verify(&as2, &changed_byte)?;
        ensure!(
            code == 2 && out.contains("FAIL files:") && out.contains("FAIL mdn_signature:"),
            "{code}: {out}"
        );
    }

    // another tenant's message is not found; an unsigned MDN is no evidence
    let (status, _, _) = evidence(&p, &p.key_b, &a_id).await?;
    ensure!(status == 404, "B reading A's evidence: {status}");
    patch_partner(&p, &partner, json!({"mdn_signed": false})).await?;
    let (unsigned, _) = exchange(&p, &partner, b"ISA*00*UNSIGNED~").await?;
    let (status, _, body) = evidence(&p, &p.key_a, &unsigned).await?;
    let body: Value = serde_json::from_slice(&body)?;
    ensure!(status == 409, "unsigned MDN: {status} {body}");
    ensure!(body["error"]["code"] == "evidence_unavailable", "{body}");
    Ok(())
}

async fn patch_partner(p: &Platform, partner: &str, body: Value) -> Result<()> {
    let (status, reply) = p
        .call(
            &p.key_a,
            Method::PATCH,
            &format!("/v1/partners/{partner}"),
            Some(body),
        )
        .await?;
    ensure!(status == 200, "PATCH partner: {status} {reply}");
    Ok(())
}

/// B's events of `kind` for message `id`.
async fn events_of(p: &Platform, id: &str, kind: &str) -> Result<usize> {
    let events = p
        .get(&p.key_b, &format!("/v1/messages/{id}/events"))
        .await?;
    Ok(events["data"]
        .as_array()
        .map_or(0, |all| all.iter().filter(|e| e["type"] == kind).count()))
}

async fn async_mdn_is_sent_again(db: TestDb) -> Result<()> {
    let p = Platform::start(db).await?;
    let partner = p.link_a_to_b().await?;
    let (sync_a, sync_b) = exchange(&p, &partner, b"ISA*00*SYNC~").await?;
    patch_partner(&p, &partner, json!({"mdn_mode": "async"})).await?;
    let (a_id, b_id) = exchange(&p, &partner, b"ISA*00*ASYNC~").await?;
    for _ in 0..200 {
        if events_of(&p, &b_id, "mdn_async_sent").await? == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ensure!(
        events_of(&p, &b_id, "mdn_async_sent").await? == 1,
        "first post"
    );

    let (status, reply) = p
        .call(
            &p.key_b,
            Method::POST,
            &format!("/v1/messages/{b_id}/mdn/resend"),
            Some(json!({})),
        )
        .await?;
    ensure!(status == 202, "resend: {status} {reply}");
    ensure!(reply["data"]["id"] == b_id.as_str(), "{reply}");
    let mut posted = 0;
    for _ in 0..200 {
        posted = events_of(&p, &b_id, "mdn_async_sent").await?;
        if posted == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ensure!(posted == 2, "the MDN was posted {posted} times");
    ensure!(
        events_of(&p, &b_id, "mdn_resend_requested").await? == 1,
        "event"
    );
    // the evidence of B's async MDN is the one posted
    let (status, _, zip) = evidence(&p, &p.key_b, &b_id).await?;
    ensure!(status == 200, "async evidence: {status}");
    ensure!(verify(&Files::from_zip(&zip)?).ok(), "async evidence");

    for (key, id, why) in [
        (&p.key_a, &a_id, "outbound"),
        (&p.key_b, &sync_b, "sync"),
        (&p.key_a, &sync_a, "outbound sync"),
    ] {
        let (status, reply) = p
            .call(
                key,
                Method::POST,
                &format!("/v1/messages/{id}/mdn/resend"),
                Some(json!({})),
            )
            .await?;
        if status != 409 {
            bail!("resend of a {why} message's MDN: {status} {reply}");
        }
        ensure!(reply["error"]["type"] == "conflict_error", "{reply}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn evidence_checks_out_on_sqlite() -> Result<()> {
    evidence_checks_out(TestDb::sqlite()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn evidence_checks_out_on_postgres() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("AS2_TEST_POSTGRES_URL is not set: PostgreSQL case skipped");
        return Ok(());
    };
    evidence_checks_out(db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_mdn_is_sent_again_on_sqlite() -> Result<()> {
    async_mdn_is_sent_again(TestDb::sqlite()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_mdn_is_sent_again_on_postgres() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("AS2_TEST_POSTGRES_URL is not set: PostgreSQL case skipped");
        return Ok(());
    };
    async_mdn_is_sent_again(db).await
}
