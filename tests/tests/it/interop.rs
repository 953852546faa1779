//! Interop with a real AS2 peer, pyas2lib 1.4.4 (../shared/interop), both directions:
//! - its standard matrix (`peer.py matrix --strict-mic --verify-store`) against our gateway,
//!   the payloads checked in the gateway's inbox;
//! - our outbound messages to `peer.py serve` for every sign × encrypt × compress
//!   combination and every MDN mode, each ending `delivered`, the peer's stored payload equal
//!   to what we sent;
//! - both directions over HTTPS with a private CA: pyas2lib posting to the gateway (it
//!   trusts the CA with `--cacert`), and our worker posting to `peer.py serve` behind Python's
//!   own TLS (`tests/interop/serve_tls.py`), the partner trusting the CA with `tls_ca_bundle`.
//!
//! Needs the interop venv (`../shared/interop/setup.sh`, which `.ci/run` runs). Outside CI a
//! missing venv skips the test with a message; under CI it fails.

// A skipped backend or peer, and the matrix summary, are reported on stderr on purpose.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use as2_e2e::Platform;
use as2_store::testing::TestDb;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

struct Peer {
    dir: PathBuf,
    python: PathBuf,
    certs: tempfile::TempDir,
}

fn peer() -> Result<Option<Peer>> {
    let dir = std::env::var_os("AS2_INTEROP_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop"),
        PathBuf::from,
    );
    let venv = std::env::var_os("AS2_INTEROP_VENV")
        .map_or_else(|| PathBuf::from("/tmp/as2-interop-venv"), PathBuf::from);
    let python = venv.join("bin/python");
    if !dir.join("peer.py").exists() || !python.exists() {
        if std::env::var_os("CI").is_some() {
            bail!(
                "the interop peer is missing ({} / {}): run ../shared/interop/setup.sh",
                dir.display(),
                python.display()
            );
        }
        eprintln!("interop peer not set up (run ../shared/interop/setup.sh): skipped");
        return Ok(None);
    }
    let certs = tempfile::tempdir()?;
    let status = Command::new("bash")
        .arg(dir.join("make_certs.sh"))
        .arg(certs.path())
        .stdout(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "make_certs.sh failed");
    Ok(Some(Peer { dir, python, certs }))
}

impl Peer {
    fn cert(&self, name: &str) -> PathBuf {
        self.certs.path().join(name)
    }

    fn read(&self, name: &str) -> Result<String> {
        Ok(std::fs::read_to_string(self.cert(name))?)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.python);
        c.arg(self.dir.join("peer.py")).current_dir(&self.dir);
        c
    }
}

/// Station `as2_id` with the `us` key pair, and partner `partner` on it with `settings`.
async fn station_and_partner(
    p: &Platform,
    peer: &Peer,
    as2_id: &str,
    url: &str,
    settings: serde_json::Value,
) -> Result<String> {
    let pair = p
        .upload_certificate(
            &p.key_a,
            &format!("us for {as2_id}"),
            &format!("{}{}", peer.read("us.key.pem")?, peer.read("us.cert.pem")?),
        )
        .await?;
    let theirs = p
        .upload_certificate(
            &p.key_a,
            &format!("partner for {as2_id}"),
            &peer.read("partner.cert.pem")?,
        )
        .await?;
    let station = p
        .create(
            &p.key_a,
            "/v1/stations",
            json!({"name": as2_id, "as2_id": as2_id, "certificate_id": pair}),
        )
        .await?;
    let mut body = json!({
        "name": format!("pyas2lib for {as2_id}"), "as2_id": "partner", "url": url,
        "station_id": station["id"], "certificate_id": theirs,
    });
    if let (Some(map), Some(extra)) = (body.as_object_mut(), settings.as_object()) {
        map.extend(extra.clone());
    }
    let partner = p.create(&p.key_a, "/v1/partners", body).await?;
    Ok(partner["id"].as_str().context("partner id")?.to_owned())
}

async fn inbound_matrix(p: &Platform, peer: &Peer) -> Result<()> {
    station_and_partner(
        p,
        peer,
        "us",
        "http://127.0.0.1:9/unused",
        // the matrix sends every protection, unprotected ones included: this partner says
        // it accepts them (the default refuses them)
        json!({"encrypt": false, "require_signed": false, "require_encrypted": false}),
    )
    .await?;
    let url = p.as2_url.clone();
    let inbox = p.inbox.clone();
    let mut matrix = peer.command();
    matrix.args([
        "matrix",
        "--url",
        &url,
        "--from",
        "partner",
        "--to",
        "us",
        "--strict-mic",
    ]);
    matrix.arg("--our-key").arg(peer.cert("partner.pem"));
    matrix.arg("--their-cert").arg(peer.cert("us.cert.pem"));
    matrix.arg("--verify-store").arg(&inbox);
    matrix.args(["--max-seconds", "900"]);
    let output = tokio::task::spawn_blocking(move || matrix.output()).await??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.contains("passed"))
        .unwrap_or("");
    eprintln!("pyas2lib matrix: {summary}");
    if !output.status.success() {
        bail!(
            "the pyas2lib matrix failed: {summary}\n{}\n{}",
            stdout
                .lines()
                .filter(|l| l.contains("FAIL"))
                .take(40)
                .collect::<Vec<_>>()
                .join("\n"),
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(summary.contains(" 0 failed"), "{summary}");
    Ok(())
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn outbound_to_serve(p: &Platform, peer: &Peer) -> Result<()> {
    let port = free_port()?;
    let store = tempfile::tempdir()?;
    let mut serve = peer.command();
    serve.args([
        "serve",
        "--port",
        &port.to_string(),
        "--as2-id",
        "partner",
        "--our-key-pass",
        "test",
        "--max-seconds",
        "900",
    ]);
    serve.arg("--our-key").arg(peer.cert("partner.p12"));
    serve.arg("--their-cert").arg(peer.cert("us.cert.pem"));
    serve.arg("--store").arg(store.path());
    let _serve = Serve(serve.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?);
    let url = format!("http://127.0.0.1:{port}/as2");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut cases = Vec::new();
    for sign in [
        None,
        Some("sha1"),
        Some("sha256"),
        Some("sha384"),
        Some("sha512"),
    ] {
        for encrypt in [
            None,
            Some("3des"),
            Some("aes128-cbc"),
            Some("aes192-cbc"),
            Some("aes256-cbc"),
        ] {
            for compress in [false, true] {
                cases.push((sign, encrypt, compress, "sync", true));
            }
        }
    }
    for (mdn, signed) in [
        ("sync", false),
        ("async", true),
        ("async", false),
        ("none", false),
    ] {
        cases.push((Some("sha256"), Some("aes256-cbc"), true, mdn, signed));
    }
    let mut sent = Vec::new();
    for (n, (sign, encrypt, compress, mdn, signed)) in cases.iter().enumerate() {
        let partner = station_and_partner(
            p,
            peer,
            &format!("us-{n}"),
            &url,
            json!({
                "sign": sign.is_some(), "sign_algorithm": sign.unwrap_or("sha256"),
                "encrypt": encrypt.is_some(), "encrypt_algorithm": encrypt.unwrap_or("aes256-cbc"),
                "compress": compress, "mdn_mode": mdn, "mdn_signed": signed,
            }),
        )
        .await?;
        let payload = format!("ISA*00*case {n}~\r\nGS*PO*{n}~\nbare LF line\n").repeat(20 + n);
        let message = p
            .create(
                &p.key_a,
                "/v1/messages",
                json!({"partner_id": partner, "content": STANDARD.encode(&payload), "filename": format!("case-{n}.edi")}),
            )
            .await?;
        sent.push((n, message["id"].as_str().context("id")?.to_owned(), payload));
    }
    for (n, id, payload) in &sent {
        let case = cases[*n];
        let done = p.wait_final(&p.key_a, id).await?;
        assert_eq!(done["status"], "delivered", "case {n} {case:?}: {done}");
        let as2_id = done["message_id"].as_str().context("message_id")?;
        let safe: String = as2_id
            .trim_matches(['<', '>'])
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._@-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let stored =
            std::fs::read(store.path().join(format!("{safe}.payload"))).with_context(|| {
                format!("case {n} {case:?}: the peer stored no payload for {as2_id}")
            })?;
        // pyas2lib rewrites bare LF to CRLF in text it canonicalises; compare modulo that.
        let normalise = |b: &[u8]| String::from_utf8_lossy(b).replace("\r\n", "\n");
        assert_eq!(
            normalise(&stored),
            normalise(payload.as_bytes()),
            "case {n} {case:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pyas2lib_both_directions() -> Result<()> {
    let Some(peer) = peer()? else {
        return Ok(());
    };
    let platform = Platform::start(TestDb::sqlite()).await?;
    outbound_to_serve(&platform, &peer).await?;
    inbound_matrix(&platform, &peer).await?;
    Ok(())
}

/// pyas2lib posts to the gateway over HTTPS (a private CA it is given with `--cacert`): the
/// message is received, stored byte-exactly and answered with a signed MDN it verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pyas2lib_sends_to_the_gateway_over_https() -> Result<()> {
    let Some(peer) = peer()? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let ca = as2_test_support::tls::TestCa::new("interop CA");
    let (cert, key, ca_file) = (
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
        dir.path().join("ca.pem"),
    );
    ca.server("gateway").write(&cert, &key)?;
    std::fs::write(&ca_file, &ca.cert_pem)?;
    let p = Platform::start_with(
        TestDb::sqlite(),
        as2_e2e::Options {
            transport: as2_engine::serve::Transport {
                tls: Some(as2_engine::tls::acceptor(
                    as2_engine::tls::ReloadingCertificate::load(&cert, &key)?,
                )?),
                ..as2_engine::serve::Transport::default()
            },
            ca_pem: Some(ca.cert_pem.clone()),
            ..as2_e2e::Options::default()
        },
    )
    .await?;
    anyhow::ensure!(p.as2_url.starts_with("https://"), "{}", p.as2_url);
    station_and_partner(&p, &peer, "us", "http://127.0.0.1:9/unused", json!({})).await?;
    let payload = dir.path().join("po.edi");
    std::fs::write(&payload, "ISA*00*over HTTPS from pyas2lib~")?;
    let mut send = peer.command();
    send.args([
        "send", "--url", &p.as2_url, "--from", "partner", "--to", "us",
    ]);
    send.arg("--our-key").arg(peer.cert("partner.pem"));
    send.arg("--their-cert").arg(peer.cert("us.cert.pem"));
    send.arg("--file").arg(&payload);
    send.arg("--cacert").arg(&ca_file);
    send.arg("--verify-store").arg(&p.inbox);
    let output = tokio::task::spawn_blocking(move || send.output()).await??;
    anyhow::ensure!(
        output.status.success(),
        "pyas2lib over HTTPS failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // and without the CA, pyas2lib refuses our certificate: the TLS is real
    let mut untrusting = peer.command();
    untrusting.args([
        "send", "--url", &p.as2_url, "--from", "partner", "--to", "us",
    ]);
    untrusting.arg("--our-key").arg(peer.cert("partner.pem"));
    untrusting.arg("--their-cert").arg(peer.cert("us.cert.pem"));
    untrusting.arg("--file").arg(&payload);
    let output = tokio::task::spawn_blocking(move || untrusting.output()).await??;
    anyhow::ensure!(
        !output.status.success(),
        "pyas2lib accepted a certificate it was not told to trust"
    );
    Ok(())
}

/// Our worker sends to pyas2lib over HTTPS: `peer.py serve` behind Python's own TLS server
/// (`tests/interop/serve_tls.py`) with a certificate of a private CA, which the partner record
/// trusts through `tls_ca_bundle`; the message is delivered with a verified signed MDN and
/// pyas2lib stored the payload we sent. The same partner without the CA cannot deliver.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pyas2lib_receives_from_us_over_https() -> Result<()> {
    let Some(peer) = peer()? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let ca = as2_test_support::tls::TestCa::new("interop CA");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    ca.server("pyas2lib").write(&cert, &key)?;
    let p = Platform::start(TestDb::sqlite()).await?;
    let port = free_port()?;
    let store = tempfile::tempdir()?;
    let mut serve = Command::new(&peer.python);
    serve
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/serve_tls.py"))
        .arg("--peer")
        .arg(peer.dir.join("peer.py"))
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .arg("--")
        .args([
            "--port",
            &port.to_string(),
            "--as2-id",
            "partner",
            "--our-key-pass",
            "test",
            "--max-seconds",
            "600",
        ])
        .arg("--our-key")
        .arg(peer.cert("partner.p12"))
        .arg("--their-cert")
        .arg(peer.cert("us.cert.pem"))
        .arg("--store")
        .arg(store.path())
        .current_dir(&peer.dir);
    let _serve = Serve(serve.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("https://127.0.0.1:{port}/as2");
    let settings = json!({"sign": true, "encrypt": true, "mdn_mode": "sync", "mdn_signed": true});
    let mut trusting = settings.clone();
    trusting["tls_ca_bundle"] = json!(ca.cert_pem);
    let partner = station_and_partner(&p, &peer, "us-https", &url, trusting).await?;
    let payload = "ISA*00*to pyas2lib over HTTPS~\r\n";
    let message = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": partner, "content": STANDARD.encode(payload), "filename": "https.edi"}),
        )
        .await?;
    let id = message["id"].as_str().context("id")?;
    let done = p.wait_final(&p.key_a, id).await?;
    anyhow::ensure!(done["status"] == "delivered", "{done}");
    let stored = std::fs::read_dir(store.path())?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".payload"))
        .map(|e| std::fs::read(e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    anyhow::ensure!(
        stored.iter().any(|b| b == payload.as_bytes()),
        "pyas2lib stored the payload we sent"
    );
    // without the CA the server's certificate is not trusted: nothing is delivered, and the
    // attempt's error says why
    let untrusting = station_and_partner(&p, &peer, "us-https-untrusted", &url, settings).await?;
    let message = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": untrusting, "content": STANDARD.encode(payload)}),
        )
        .await?;
    let id = message["id"].as_str().context("id")?;
    let mut refused = None;
    for _ in 0..100 {
        let now = p.get(&p.key_a, &format!("/v1/messages/{id}")).await?["data"].clone();
        if now["status"] == "delivered" {
            bail!("delivered to a server whose CA the partner does not trust: {now}");
        }
        let error = now["error"].to_string().to_lowercase();
        if error.contains("certificate") {
            refused = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::ensure!(
        refused.is_some(),
        "the send failed on the server's certificate"
    );
    Ok(())
}
