//! `cargo xtask bench gateway`: a load generator on loopback posting signed + encrypted 1 KB
//! messages that ask for signed sync MDNs to one release `as2-gateway`, on SQLite and on
//! PostgreSQL (`AS2_TEST_POSTGRES_URL`), over plain HTTP, and on SQLite over HTTPS too (a
//! test CA's certificate on the gateway): with keep-alive, and with a new connection and a
//! full TLS handshake (no session resumption) for every message. It reports messages/s, p50/p99 latency and the
//! gateway's CPU per message beside the RSA floor measured in the same run (a receive costs
//! two RSA-2048 private-key operations: decrypting the content key and signing the MDN).
//!
//! Issue 18: every plain-HTTP case runs twice in the same run, with `AS2_INLINE_PAYLOAD_BYTES=0`
//! (every payload a file or object: the "before") and with the default (a 1 KiB payload kept
//! in its row), on SQLite, PostgreSQL with the file store and PostgreSQL with an S3 store
//! (`moto_server`, `AS2_TEST_S3_SERVER`); each row notes the machine's 1-minute load average
//! at its end, since the machine may be shared. `AS2_BENCH_GATEWAY=PATH` measures a gateway
//! binary built elsewhere (another commit) instead of building this one.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::{DigestAlgorithm, SignatureScheme};
use as2_core::message::{
    BuiltMessage, NotificationOptions, OutboundMessage, Signer, build_outbound,
};
use as2_e2e::seed::{Identity, MASTER_KEY, identity, tenant};
use as2_store::testing::TestDb;

use crate::paths::project_root;

/// Messages per backend.
const MESSAGES: usize = 1500;
/// Connections at once.
const CONNECTIONS: usize = 8;

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How the load generator reaches the gateway.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wire {
    /// Plain HTTP with keep-alive.
    Http,
    /// HTTPS with keep-alive (one handshake per connection).
    HttpsKeepAlive,
    /// HTTPS with a new connection and a full handshake per message.
    HttpsHandshakeEach,
}

impl Wire {
    fn label(self) -> &'static str {
        match self {
            Self::Http => "HTTP",
            Self::HttpsKeepAlive => "HTTPS, keep-alive",
            Self::HttpsHandshakeEach => "HTTPS, new TLS session per message",
        }
    }
}

/// The gateway's TLS material for an HTTPS run: the CA's certificate and the files.
struct Tls {
    ca_pem: String,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tls {
    fn new() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let ca = as2_test_support::tls::TestCa::new("bench CA");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        ca.server("127.0.0.1").write(&cert, &key)?;
        Ok(Self {
            ca_pem: ca.cert_pem,
            cert,
            key,
            _dir: dir,
        })
    }

    /// A client trusting the CA; with `resume` off, every request opens a new connection
    /// with a full handshake.
    fn client(&self, resume: bool) -> Result<reqwest::blocking::Client> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots.add(cert?)?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut builder = reqwest::blocking::Client::builder();
        if !resume {
            config.resumption = rustls::client::Resumption::disabled();
            builder = builder.pool_max_idle_per_host(0);
        }
        Ok(builder.tls_backend_preconfigured(config).build()?)
    }
}

/// Where payloads go in one case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Payloads {
    /// Every payload a file or object (`AS2_INLINE_PAYLOAD_BYTES=0`).
    Objects,
    /// Small payloads in their row (the default limit).
    Inline,
}

impl Payloads {
    fn label(self) -> &'static str {
        match self {
            Self::Objects => "objects (inline 0)",
            Self::Inline => "inline ≤ 64 KiB",
        }
    }
}

/// One backend's figures.
struct Figures {
    backend: &'static str,
    wire: Wire,
    payloads: Payloads,
    load: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_ms_per_message: f64,
}

/// Builds the release `as2-gateway`; the target directory and the binary's path. With
/// `AS2_BENCH_GATEWAY=PATH` that binary is measured instead (one built from another commit:
/// the "before" of a change, run in a row with the "after").
pub(crate) fn release_gateway() -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let root = project_root();
    let target: std::path::PathBuf =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), Into::into);
    if let Some(exe) = std::env::var_os("AS2_BENCH_GATEWAY") {
        eprintln!("xtask bench: measuring {}", Path::new(&exe).display());
        return Ok((target, exe.into()));
    }
    let built = Command::new("cargo")
        .args(["build", "--release", "-p", "as2-gateway"])
        .current_dir(&root)
        .status()?;
    if !built.success() {
        bail!("building as2-gateway failed");
    }
    let exe = target.join("release/as2-gateway");
    Ok((target, exe))
}

pub(crate) fn run() -> Result<()> {
    let (target, exe) = release_gateway()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    let floor_ms = rsa_private_op_ms();
    let floor_per_second = cores as f64 / (2.0 * floor_ms / 1000.0);
    eprintln!(
        "xtask bench gateway: RSA-2048 private op {floor_ms:.3} ms; floor {floor_per_second:.0} messages/s on {cores} cores"
    );

    let mut rows = Vec::new();
    let sqlite = |wire, payloads| Case {
        backend: "SQLite",
        wire,
        payloads,
        s3: None,
    };
    for payloads in [Payloads::Objects, Payloads::Inline] {
        rows.extend(measure(
            &sqlite(Wire::Http, payloads),
            &exe,
            &TestDb::sqlite(),
        )?);
    }
    for wire in [Wire::HttpsKeepAlive, Wire::HttpsHandshakeEach] {
        rows.extend(measure(
            &sqlite(wire, Payloads::Inline),
            &exe,
            &TestDb::sqlite(),
        )?);
    }
    if TestDb::postgres().is_none() {
        eprintln!("xtask bench gateway: AS2_TEST_POSTGRES_URL unset, PostgreSQL skipped");
    }
    let s3 = as2_test_support::s3::S3Server::start();
    for payloads in [Payloads::Objects, Payloads::Inline] {
        if let Some(db) = TestDb::postgres() {
            let case = Case {
                backend: "PostgreSQL, files",
                wire: Wire::Http,
                payloads,
                s3: None,
            };
            rows.extend(measure(&case, &exe, &db)?);
        }
        if let (Some(db), Some(s3)) = (TestDb::postgres(), &s3) {
            let bucket = format!("bench-{}", rows.len());
            s3.create_bucket(&bucket);
            let case = Case {
                backend: "PostgreSQL, S3",
                wire: Wire::Http,
                payloads,
                s3: Some((s3, bucket)),
            };
            rows.extend(measure(&case, &exe, &db)?);
        }
    }
    let mut summary = format!(
        "Gateway receive, signed + encrypted 1 KB, signed sync MDN, {MESSAGES} messages over {CONNECTIONS} connections, {cores} cores\n\n\
         RSA floor (same run): {floor_ms:.3} ms per RSA-2048 private operation (aws-lc-rs, the gateway's backend) → {floor_per_second:.0} messages/s at 2 operations per message\n\n\
         | backend | wire | payloads | messages/s | of the floor | p50 ms | p99 ms | gateway CPU ms/message | CPU of 2 RSA ops | load (1 min) |\n|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for f in &rows {
        summary.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.0}% | {:.1} | {:.1} | {:.2} | {:.2}x | {:.1} |\n",
            f.backend,
            f.wire.label(),
            f.payloads.label(),
            f.per_second,
            100.0 * f.per_second / floor_per_second,
            f.p50_ms,
            f.p99_ms,
            f.cpu_ms_per_message,
            f.cpu_ms_per_message / (2.0 * floor_ms),
            f.load,
        ));
    }
    let out = target.join("bench-gateway-summary.md");
    std::fs::write(&out, &summary)?;
    eprintln!(
        "{summary}\nxtask bench gateway: written to {}",
        out.display()
    );
    Ok(())
}

/// Mean time of one RSA-2048 PKCS#1 v1.5 signature with the gateway's key backend
/// (aws-lc-rs, which `as2-gateway` installs at start).
pub(crate) fn rsa_private_op_ms() -> f64 {
    let key =
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .expect("RSA key");
    let key = as2_crypto_aws_lc::AwsLcKey::new(&key).expect("aws-lc-rs key");
    let ops = 500;
    let started = Instant::now();
    for n in 0..ops {
        as2_core::crypto::PrivateKeyOps::sign(
            &key,
            SignatureScheme::Pkcs1v15,
            DigestAlgorithm::Sha256,
            format!("{n}").as_bytes(),
            as2_core::crypto::rust_crypto::DEFAULT_PROVIDER.secure_random,
        )
        .expect("an RSA signature");
    }
    started.elapsed().as_secs_f64() * 1000.0 / f64::from(ops)
}

fn build_messages(partner: &Identity, us: &Identity) -> Vec<BuiltMessage> {
    let payload: Vec<u8> = b"ISA*00*bench~"
        .iter()
        .copied()
        .cycle()
        .take(1024)
        .collect();
    let next = Mutex::new(0usize);
    let built = Mutex::new(Vec::with_capacity(MESSAGES));
    std::thread::scope(|s| {
        for _ in 0..std::thread::available_parallelism().map_or(1, usize::from) {
            s.spawn(|| {
                loop {
                    {
                        let mut n = next.lock().expect("lock");
                        if *n >= MESSAGES {
                            return;
                        }
                        *n += 1;
                    }
                    let mut out = OutboundMessage::new(
                        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                        "PARTNER",
                        "US",
                        &payload,
                        "application/edi-x12",
                    );
                    out.signer = Some(Signer::new(
                        &partner.cert,
                        partner.key.as_ref(),
                        SignOptions::new(std::time::SystemTime::now()),
                    ));
                    out.encryption = Some(as2_core::message::Encryption::new(
                        vec![&us.cert],
                        EncryptOptions::default(),
                    ));
                    out.mdn_to = Some("partner@example".into());
                    out.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
                    let message = build_outbound(&out).expect("build");
                    built.lock().expect("lock").push(message);
                }
            });
        }
    });
    built.into_inner().expect("lock")
}

/// `perf record` attached to the gateway while a case is measured, when `AS2_BENCH_PERF`
/// names a directory: one `perf-<case>.data` there per case (read it with `perf report -i`).
/// Stacks are unwound from DWARF (the release profile keeps no frame pointers); the gateway's
/// CPU figure then includes perf's sampling cost.
struct Profile(Option<Child>);

impl Profile {
    fn attach(case: &Case<'_>, pid: u32) -> Result<Self> {
        let Some(dir) = std::env::var_os("AS2_BENCH_PERF") else {
            return Ok(Self(None));
        };
        let name: String = format!(
            "perf-{}-{}-{}.data",
            case.backend,
            case.wire.label(),
            case.payloads.label()
        )
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
        let child = Command::new("perf")
            .args(["record", "-F", "499", "--call-graph", "dwarf,16384", "-p"])
            .arg(pid.to_string())
            .arg("-o")
            .arg(Path::new(&dir).join(name))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("AS2_BENCH_PERF is set but perf cannot be started")?;
        // perf needs a moment to attach to every thread
        std::thread::sleep(Duration::from_millis(500));
        Ok(Self(Some(child)))
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            // SIGINT: perf writes its data file and exits
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// Whether `AS2_BENCH_CASES` (comma-separated words, any case) selects a case by its backend
/// label; every case when unset.
fn selected(backend: &str) -> bool {
    std::env::var("AS2_BENCH_CASES").map_or(true, |list| {
        list.split(',')
            .any(|w| backend.to_lowercase().contains(&w.trim().to_lowercase()))
    })
}

/// utime + stime of `pid`, in milliseconds.
fn cpu_ms(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').context("stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks * 10.0) // USER_HZ is 100 on Linux
}

/// One measured case.
struct Case<'a> {
    backend: &'static str,
    wire: Wire,
    payloads: Payloads,
    /// An S3 payload store: the server and the bucket.
    s3: Option<(&'a as2_test_support::s3::S3Server, String)>,
}

/// The machine's 1-minute load average.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

fn measure(case: &Case<'_>, exe: &Path, db: &TestDb) -> Result<Option<Figures>> {
    if !selected(case.backend) {
        return Ok(None);
    }
    let (backend, wire) = (case.backend, case.wire);
    let (us, partner) = (identity("us"), identity("partner"));
    tenant(
        &db.store,
        "bench",
        "US",
        "PARTNER",
        &us,
        &partner,
        "http://127.0.0.1:9/x",
    );
    let data = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let tls = match wire {
        Wire::Http => None,
        Wire::HttpsKeepAlive | Wire::HttpsHandshakeEach => Some(Tls::new()?),
    };
    let mut command = Command::new(exe);
    if case.payloads == Payloads::Objects {
        command.env("AS2_INLINE_PAYLOAD_BYTES", "0");
    }
    if let Some((s3, bucket)) = &case.s3 {
        command.env("AS2_PAYLOAD_STORE", format!("s3://{bucket}/bench"));
        for name in [
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
        ] {
            if let Some(value) = s3.var(name) {
                command.env(name, value);
            }
        }
    }
    if let Some(tls) = &tls {
        command
            .env("AS2_GATEWAY_TLS_CERT", &tls.cert)
            .env("AS2_GATEWAY_TLS_KEY", &tls.key);
    }
    let child = command
        .args(["serve", "--no-workers"])
        .env("DATABASE_URL", &db.url)
        .env("AS2_DATA_DIR", data.path())
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env("AS2_GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("AS2_METRICS_LISTEN", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let gateway = Gateway(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the gateway did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "xtask bench gateway: {backend}, {}, {}: building {MESSAGES} messages",
        wire.label(),
        case.payloads.label()
    );
    let messages = build_messages(&partner, &us);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://127.0.0.1:{port}/as2/test/receive");
    let client = || -> Result<reqwest::blocking::Client> {
        match &tls {
            None => Ok(reqwest::blocking::Client::new()),
            Some(tls) => tls.client(wire == Wire::HttpsKeepAlive),
        }
    };
    let clients = (0..CONNECTIONS)
        .map(|_| client())
        .collect::<Result<Vec<_>>>()?;
    let next = Mutex::new(0usize);
    let latencies = Mutex::new(Vec::with_capacity(MESSAGES));
    let failures = Mutex::new(0usize);
    let profile = Profile::attach(case, gateway.0.id())?;
    let cpu_before = cpu_ms(gateway.0.id())?;
    let started = Instant::now();
    std::thread::scope(|s| {
        for client in &clients {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().expect("lock");
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(m) = messages.get(i) else { return };
                    let mut request = client.post(&url).body(m.body.clone());
                    for (name, value) in &m.headers {
                        request = request.header(name.as_str(), value.as_str());
                    }
                    let sent = Instant::now();
                    let ok = request
                        .send()
                        .ok()
                        .filter(|r| r.status().is_success())
                        .and_then(|r| r.bytes().ok())
                        .is_some_and(|b| !b.is_empty());
                    latencies.lock().expect("lock").push(sent.elapsed());
                    if !ok {
                        *failures.lock().expect("lock") += 1;
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let cpu = cpu_ms(gateway.0.id())? - cpu_before;
    drop(profile);
    let failures = failures.into_inner().expect("lock");
    if failures > 0 {
        bail!("{backend}: {failures} of {MESSAGES} messages got no MDN");
    }
    let mut latencies = latencies.into_inner().expect("lock");
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Ok(Some(Figures {
        backend,
        wire,
        payloads: case.payloads,
        load: load_average(),
        per_second: MESSAGES as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(0.50).as_secs_f64() * 1000.0,
        p99_ms: pct(0.99).as_secs_f64() * 1000.0,
        cpu_ms_per_message: cpu / MESSAGES as f64,
    }))
}
