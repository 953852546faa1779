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
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use as2_core::crypto::{DigestAlgorithm, SignatureScheme};
use as2_e2e::seed::{Identity, MASTER_KEY, identity, tenant};
use as2_store::testing::TestDb;

use crate::paths::{project_root, target_dir};
use pinning::Pinning;
use profile::Profile;
use reference::Reference;

mod corpus;
pub(crate) mod cpu;
mod pinning;
mod plain;
mod profile;
pub(crate) mod reference;
mod report;
mod selection;
mod tls;

/// Messages per case unless `AS2_BENCH_MESSAGES` says otherwise: at 1 000 to 3 000 messages/s
/// a case lasts a few seconds, long enough for the gateway's pools and caches to be warm for
/// most of it.
const MESSAGES: usize = 6000;

/// Messages per case.
fn messages() -> usize {
    std::env::var("AS2_BENCH_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(MESSAGES)
}
/// Connections at once.
const CONNECTIONS: usize = 8;

/// Connections at once, unless `AS2_BENCH_CONNECTIONS` says otherwise.
fn connections() -> usize {
    std::env::var("AS2_BENCH_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(CONNECTIONS)
}

/// A server process under measurement (the gateway or a reference receiver), killed when
/// dropped.
struct Server(Child);

impl Drop for Server {
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

/// Where payloads go in one case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Payloads {
    /// Every payload a file or object (`AS2_INLINE_PAYLOAD_BYTES=0`).
    Objects,
    /// Small payloads in their row (the default limit).
    Inline,
    /// Nothing stored: a reference receiver.
    Unstored,
}

impl Payloads {
    fn label(self) -> &'static str {
        match self {
            Self::Objects => "objects (inline 0)",
            Self::Inline => "inline ≤ 64 KiB",
            Self::Unstored => "not stored",
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
    /// CPU per message of the gateway, of the load generator (this process) and of the
    /// database server (PostgreSQL's processes; SQLite runs inside the gateway).
    cpu: Cpu,
    /// One RSA-2048 private operation with the gateway's cores signing, measured right before
    /// and right after the case: the faster of the two.
    floor_ms: f64,
}

/// CPU milliseconds per message, by process.
#[derive(Clone, Copy)]
struct Cpu {
    gateway: f64,
    generator: f64,
    database: f64,
}

/// Builds the release `as2-gateway`; the target directory and the binary's path. With
/// `AS2_BENCH_GATEWAY=PATH` that binary is measured instead (one built from another commit:
/// the "before" of a change, run in a row with the "after").
pub(crate) fn release_gateway() -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    if let Some(exe) = std::env::var_os("AS2_BENCH_GATEWAY") {
        eprintln!("xtask bench: measuring {}", Path::new(&exe).display());
        return Ok((target_dir(), exe.into()));
    }
    release_binary("as2-gateway")
}

/// The reference receivers' binary: this crate built with the release profile, as the
/// gateway is (`cargo xtask bench` runs the load generators in the dev profile, where the
/// workspace's own crates are not optimised).
fn release_reference() -> Result<std::path::PathBuf> {
    release_binary("as2-bench").map(|(_, exe)| exe)
}

/// Builds `package`'s binary of the same name with the release profile; the target directory
/// and the binary's path.
fn release_binary(package: &str) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let built = Command::new("cargo")
        .args(["build", "--release", "--locked", "-p", package])
        .current_dir(project_root())
        .status()?;
    if !built.success() {
        bail!("building {package} failed");
    }
    let target = target_dir();
    let exe = target.join("release").join(package);
    Ok((target, exe))
}

pub(crate) fn run() -> Result<()> {
    let (target, exe) = release_gateway()?;
    let pinning = Pinning::from_env()?;
    // PostgreSQL gets every core back however the run ends (an error included)
    let _release = pinning.as_ref().map(pinning::Release);
    // the floor is measured on the gateway's cores: all of them, or those it is pinned to
    let cores = pinning.as_ref().map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        |p| p.gateway_cores,
    );
    let floor = || -> Result<f64> {
        if let Some(p) = &pinning {
            Pinning::move_self(&p.gateway)?;
        }
        let ms = rsa_floor_ms(cores);
        if let Some(p) = &pinning {
            Pinning::move_self(&p.others)?;
            p.move_database();
        }
        Ok(ms)
    };
    let floor_ms = floor()?;
    let floor_per_second = cores as f64 / (2.0 * floor_ms / 1000.0);
    eprintln!(
        "xtask bench gateway: RSA-2048 private op {floor_ms:.3} ms; floor {floor_per_second:.0} messages/s on {cores} cores"
    );

    let mut rows = Vec::new();
    // what a receiver doing less than the platform reaches on this machine, the same way
    let reference = release_reference()?;
    for kind in [Reference::RsaOnly, Reference::Codec] {
        rows.extend(measure_reference(
            kind,
            &reference,
            pinning.as_ref(),
            &floor,
        )?);
    }
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
            pinning.as_ref(),
            &floor,
        )?);
    }
    for wire in [Wire::HttpsKeepAlive, Wire::HttpsHandshakeEach] {
        rows.extend(measure(
            &sqlite(wire, Payloads::Inline),
            &exe,
            &TestDb::sqlite(),
            pinning.as_ref(),
            &floor,
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
            rows.extend(measure(&case, &exe, &db, pinning.as_ref(), &floor)?);
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
            rows.extend(measure(&case, &exe, &db, pinning.as_ref(), &floor)?);
        }
    }
    let summary = report::summary(&report::Run {
        messages: messages(),
        connections: connections(),
        cores,
        floor_ms,
        floor_after_ms: floor()?,
        pinning: pinning.as_ref(),
        rows: &rows,
    });
    let out = target.join("bench-gateway-summary.md");
    std::fs::write(&out, &summary)?;
    eprintln!(
        "{summary}\nxtask bench gateway: written to {}",
        out.display()
    );
    Ok(())
}

/// Mean time of one RSA-2048 PKCS#1 v1.5 signature with the gateway's key backend
/// (aws-lc-rs, which `as2-gateway` installs at start), on one thread.
pub(crate) fn rsa_private_op_ms() -> f64 {
    rsa_floor_ms(1)
}

/// The time of one RSA-2048 private-key operation when `threads` threads sign at once (one
/// per core: the floor is both cores busy with nothing but RSA): the wall time of 1 000
/// signatures on each thread, divided by 1 000.
pub(crate) fn rsa_floor_ms(threads: usize) -> f64 {
    let key =
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .expect("RSA key");
    let key = as2_crypto_aws_lc::AwsLcKey::new(&key).expect("aws-lc-rs key");
    let ops = 1000u32;
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
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
            });
        }
    });
    started.elapsed().as_secs_f64() * 1000.0 / f64::from(ops)
}

/// The gateway's URL of the database: a PostgreSQL on this machine without TLS
/// (`sslmode=disable`, what docs/OPERATIONS.md says of a local database) unless the URL sets
/// `sslmode` itself; libpq's default would encrypt loopback traffic, and the gateway and the
/// database server would spend 10 to 15 % of their CPU on it.
fn local_database_url(url: &str) -> String {
    let local = ["@127.0.0.1", "@localhost", "@[::1]", "@%2F"]
        .iter()
        .any(|host| url.contains(host));
    if !url.starts_with("postgres") || !local || url.contains("sslmode=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
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

fn measure(
    case: &Case<'_>,
    exe: &Path,
    db: &TestDb,
    pinning: Option<&Pinning>,
    floor: &impl Fn() -> Result<f64>,
) -> Result<Option<Figures>> {
    if !selection::selected(case) {
        return Ok(None);
    }
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
    let port = free_port()?;
    let tls = match case.wire {
        Wire::Http => None,
        Wire::HttpsKeepAlive | Wire::HttpsHandshakeEach => Some(tls::Tls::new()?),
    };
    let mut command = pinned(exe, pinning);
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
        .env("DATABASE_URL", local_database_url(&db.url))
        .env("AS2_DATA_DIR", data.path())
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env("AS2_GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("AS2_METRICS_LISTEN", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let gateway = Server(child);
    drive(case, &gateway, port, tls.as_ref(), (&us, &partner), floor).map(Some)
}

/// Measures one reference receiver ([`reference::Reference`]) with the same load generator
/// and messages as the gateway's cases.
fn measure_reference(
    kind: Reference,
    exe: &Path,
    pinning: Option<&Pinning>,
    floor: &impl Fn() -> Result<f64>,
) -> Result<Option<Figures>> {
    let case = Case {
        backend: kind.label(),
        wire: Wire::Http,
        payloads: Payloads::Unstored,
        s3: None,
    };
    if !selection::selected(&case) {
        return Ok(None);
    }
    let (us, partner) = (identity("us"), identity("partner"));
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join(reference::OUR_KEY), &us.key_pem)?;
    std::fs::write(dir.path().join(reference::OUR_CERT), us.cert.der())?;
    std::fs::write(dir.path().join(reference::PARTNER_CERT), partner.cert.der())?;
    let port = free_port()?;
    let mut command = pinned(exe, pinning);
    let child = command
        .arg("reference")
        .arg(kind.arg())
        .arg(port.to_string())
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()?;
    let server = Server(child);
    drive(&case, &server, port, None, (&us, &partner), floor).map(Some)
}

/// A port free on 127.0.0.1 a moment ago, for a server about to start.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `exe` as a command, under `taskset` when the server is pinned to some cores.
fn pinned(exe: &Path, pinning: Option<&Pinning>) -> Command {
    match pinning {
        Some(p) => {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", &p.gateway]).arg(exe);
            taskset
        }
        None => Command::new(exe),
    }
}

/// Sends the case's messages to the server listening on `port` once it answers, and reads
/// what it took: messages/s, latencies, and the CPU of the server, the load generator and
/// the database server, beside the RSA floor measured right before and right after.
fn drive(
    case: &Case<'_>,
    server: &Server,
    port: u16,
    tls: Option<&tls::Tls>,
    (us, partner): (&Identity, &Identity),
    floor: &impl Fn() -> Result<f64>,
) -> Result<Figures> {
    let (backend, wire) = (case.backend, case.wire);
    let pid = server.0.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("{backend} did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let count = messages();
    eprintln!(
        "xtask bench gateway: {backend}, {}, {}: building {count} messages",
        wire.label(),
        case.payloads.label()
    );
    let messages = corpus::build(partner, us, count);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let path = "/as2/test/receive";
    let prepared = match tls {
        None => Some(Arc::new(plain::Requests::new(address, path, &messages)?)),
        Some(_) => None,
    };
    // the floor right before and right after the case: this machine's RSA speed drifts by up
    // to 30 % within one run, so each row is read against the floor beside it
    let floor_before = floor()?;
    let profile = Profile::attach(case, pid)?;
    let gateway_before = cpu::process_ms(pid)?;
    let generator_before = cpu::own_ms()?;
    let database_before = cpu::named_ms("postgres");
    let started = Instant::now();
    let mut latencies = match (prepared, tls) {
        (Some(requests), _) => plain::send_all(address, &requests, connections())?,
        (None, Some(tls)) => {
            tls::send_all(&format!("https://{address}{path}"), tls, wire, &messages)?
        }
        (None, None) => bail!("a plain-HTTP case without its requests"),
    };
    let elapsed = started.elapsed();
    let per_message = |ms: f64| ms / count as f64;
    let cpu = Cpu {
        gateway: per_message(cpu::process_ms(pid)? - gateway_before),
        generator: per_message(cpu::own_ms()? - generator_before),
        database: per_message(cpu::named_ms("postgres") - database_before),
    };
    drop(profile);
    let floor_after = floor()?;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Ok(Figures {
        backend,
        wire,
        payloads: case.payloads,
        load: load_average(),
        per_second: count as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(0.50).as_secs_f64() * 1000.0,
        p99_ms: pct(0.99).as_secs_f64() * 1000.0,
        cpu,
        // the faster of the two: the row is compared with the best the machine showed beside it
        floor_ms: floor_before.min(floor_after),
    })
}
