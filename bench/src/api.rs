//! `cargo xtask bench api`: load on a release api-server with wrk (Debian's `wrk`), on SQLite
//! and on PostgreSQL (a fresh schema on `AS2_TEST_POSTGRES_URL`, dropped afterwards), with
//! the authentication and rate-limit middleware on (an Enterprise key whose limit is set out
//! of reach, so every request pays for the check but none is refused).
//!
//! Figures: requests/s and p99 of `GET /v1/messages?per_page=100` (500 messages stored) and
//! `POST /v1/partners` (a new partner per request), each also as a ratio to `GET /healthz`
//! (no authentication, no database) measured in the same run against the same process. The
//! `## REST API` section of docs/PERFORMANCE.md is printed and written to
//! `<target>/bench-api-summary.md`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::id::AccountId;
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::partner::PartnerSettings;
use as2_store::repo::messages::NewMessage;
use as2_store::secrets::SecretBox;
use as2_store::testing::TestDb;
use as2_store::{Database, PoolOptions, Scope, Store};

use crate::paths::{project_root, target_dir};

/// The master key of `TestDb` (bytes of 7), which sealed nothing the server must open.
const MASTER_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";
/// wrk's load: threads, connections, seconds measured, seconds of warm-up before.
const THREADS: u32 = 2;
const CONNECTIONS: u32 = 8;
const SECONDS: u32 = 10;
const WARMUP_SECONDS: u32 = 2;
/// Messages stored for the list benchmark.
const MESSAGES: usize = 500;

struct Server {
    child: Child,
    port: u16,
    key: String,
    data: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// One wrk run.
#[derive(Debug, Clone, Copy)]
struct Figures {
    rps: f64,
    p99_ms: f64,
}

/// The figures of one backend.
struct Backend {
    name: &'static str,
    baseline: Figures,
    endpoints: Vec<(&'static str, Figures)>,
}

const ENDPOINTS: [(&str, &str, &str); 2] = [
    (
        "GET /v1/messages?per_page=100",
        "GET",
        "/v1/messages?per_page=100",
    ),
    ("POST /v1/partners", "POST", "/v1/partners"),
];

pub(crate) fn run() -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is not installed: apt-get install -y wrk");
    }
    let root = project_root();
    eprintln!("xtask bench api: cargo build --release -p api-server");
    if !Command::new("cargo")
        .args(["build", "--release", "-p", "api-server"])
        .current_dir(&root)
        .status()?
        .success()
    {
        bail!("building api-server failed");
    }
    let mut dbs = vec![("SQLite", TestDb::sqlite())];
    match TestDb::postgres() {
        Some(pg) => dbs.push(("PostgreSQL", pg)),
        None => {
            eprintln!("xtask bench api: AS2_TEST_POSTGRES_URL is not set; PostgreSQL is skipped");
        }
    }
    let load_before = load_average();
    let mut results = Vec::new();
    for (name, db) in &dbs {
        eprintln!("xtask bench api: {name}");
        let server = start(&db.url)?;
        seed(&db.url)?;
        let baseline = measure(&server, "GET", "/healthz", None)?;
        eprintln!("  GET /healthz: {baseline:?}");
        let mut endpoints = Vec::new();
        for (label, method, path) in ENDPOINTS {
            let figures = measure(&server, method, path, Some(&server.key))?;
            eprintln!("  {label}: {figures:?}");
            endpoints.push((label, figures));
        }
        results.push(Backend {
            name,
            baseline,
            endpoints,
        });
    }
    let section = render(&results, &load_before, &load_average());
    println!("{section}");
    let out = target_dir().join("bench-api-summary.md");
    std::fs::write(&out, &section).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "xtask bench api: written to {}; it is the `## REST API` section of docs/PERFORMANCE.md",
        out.display()
    );
    Ok(())
}

fn start(url: &str) -> Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let data = std::env::temp_dir().join(format!("as2-bench-{port}"));
    let mut child = Command::new(target_dir().join("release/api-server"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("AS2_DATA_DIR", &data)
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env("AS2_API_LISTEN", format!("127.0.0.1:{port}"))
        .env("AS2_ENTERPRISE_RATE_LIMIT", "1000000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .context("starting api-server")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut key = None;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line?;
        key = key.or_else(|| {
            line.split_whitespace()
                .find(|w| w.starts_with("pk_test_"))
                .map(str::to_owned)
        });
        if line.starts_with("API listening") {
            break;
        }
    }
    // what the server prints next is read too (a closed pipe would fail its next line)
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Server {
        child,
        port,
        key: key.context("api-server printed no bootstrap key (was the database empty?)")?,
        data,
    })
}

/// The messages of the list benchmark, through the store.
fn seed(url: &str) -> Result<()> {
    let store = Store::new(
        Database::connect(url, &PoolOptions::default())?,
        SecretBox::parse(MASTER_KEY)?,
    );
    let tenant = store.accounts().first_tenant(AccountId(1))?;
    let scope = Scope::new(tenant.id, Mode::Test);
    let station = store.stations().default_station(scope)?;
    let mut settings = PartnerSettings::new(
        "Seed".into(),
        "SEED".into(),
        "https://seed.example/as2".into(),
        station.id,
    );
    settings.encrypt = false;
    let partner = store.partners().create(scope, &settings, None)?;
    for i in 0..MESSAGES {
        let id = format!("<seed-{i}@bench>");
        let message = NewMessage {
            direction: Direction::Inbound,
            partner_id: partner.id,
            station_id: station.id,
            as2_message_id: &id,
            subject: Some("Seed"),
            filename: Some("seed.edi"),
            content_type: "application/edi-x12",
            bytes: 1024,
            sha256: "00",
            payload: None,
            mdn_mode: MdnMode::Sync,
            status: MessageStatus::Received,
            error: None,
            mic: None,
            destination_url: None,
        };
        store.messages().create(scope, &message, None)?;
    }
    Ok(())
}

/// A short warm-up, then the measured run.
fn measure(server: &Server, method: &str, path: &str, key: Option<&str>) -> Result<Figures> {
    wrk(server, method, path, key, WARMUP_SECONDS, "w")?;
    wrk(server, method, path, key, SECONDS, "m")
}

/// The wrk script: every thread numbers itself in `setup`, so a POST body's `as2_id` is
/// unique across threads, requests and runs (`tag` tells the runs apart).
fn script(method: &str, path: &str, key: Option<&str>, tag: &str) -> String {
    let mut headers = String::from("[\"Accept\"] = \"application/json\"");
    if let Some(key) = key {
        let _ = write!(headers, ", [\"Authorization\"] = \"Bearer {key}\"");
    }
    let body = if method == "POST" {
        headers.push_str(", [\"Content-Type\"] = \"application/json\"");
        format!(
            "string.format('{{\"name\":\"Bench\",\"as2_id\":\"B-{tag}-%d-%d\",\"url\":\"https://bench.example/as2\",\"encrypt\":false}}', tid, counter)"
        )
    } else {
        "nil".to_owned()
    };
    format!(
        "local threads = 0\n\
         function setup(thread)\n  threads = threads + 1\n  thread:set(\"tid\", threads)\nend\n\
         counter = 0\n\
         request = function()\n  counter = counter + 1\n  return wrk.format(\"{method}\", \"{path}\", {{ {headers} }}, {body})\nend\n"
    )
}

/// Runs wrk; returns requests/s and p99 in ms. Any non-2xx answer fails the benchmark.
fn wrk(
    server: &Server,
    method: &str,
    path: &str,
    key: Option<&str>,
    seconds: u32,
    phase: &str,
) -> Result<Figures> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let file = std::env::temp_dir().join(format!("as2-bench-{}.lua", server.port));
    std::fs::write(&file, script(method, path, key, &format!("{phase}{nanos}")))?;
    let output = Command::new("wrk")
        .arg(format!("-t{THREADS}"))
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{seconds}s"))
        .args(["--latency", "-s"])
        .arg(&file)
        .arg(format!("http://127.0.0.1:{}", server.port))
        .output()
        .context("running wrk")?;
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("Non-2xx") || text.contains("Socket errors") {
        bail!("{method} {path}: errors under load:\n{text}");
    }
    parse_wrk(&text).with_context(|| format!("{method} {path}: unreadable wrk output:\n{text}"))
}

fn parse_wrk(text: &str) -> Option<Figures> {
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())?;
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| millis(v.trim()))?;
    Some(Figures { rps, p99_ms })
}

fn millis(value: &str) -> f64 {
    let (number, factor) = if let Some(v) = value.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = value.strip_suffix('m') {
        (v, 60_000.0)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (value, 1.0)
    };
    number.parse::<f64>().map_or(f64::NAN, |n| n * factor)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// CPU model and count, memory, kernel.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "? GiB".to_owned(),
            |kb| format!("{} GiB", kb / 1024 / 1024),
        );
    let kernel = Command::new("uname")
        .arg("-sr")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{model}, {cpus} CPUs, {memory} RAM, {kernel}")
}

fn render(results: &[Backend], load_before: &str, load_after: &str) -> String {
    let mut out = String::from("## REST API\n\n");
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let _ = writeln!(
        out,
        "Measured {date} on {} (load average {load_before} before the run, {load_after} after; \
         the machine is shared, so the ratios say more than the absolute figures).\n",
        machine()
    );
    out.push_str(
        "```sh\nAS2_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo xtask bench api\n```\n\n",
    );
    let _ = writeln!(
        out,
        "A release `api-server` on 127.0.0.1 under `wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s --latency` \
         (after a {WARMUP_SECONDS} s warm-up), with the whole middleware stack: request id and access \
         log, content negotiation, Bearer-key authentication (a key lookup per request), the \
         rate limiter and idempotency. The key is an Enterprise key whose limit is set out of \
         reach, so every request is counted and none refused. `GET /v1/messages?per_page=100` \
         reads a page of 100 of {MESSAGES} stored messages (each with its MDN lookup); \
         `POST /v1/partners` validates and inserts a new partner per request and publishes \
         `partner.created`. The baseline, `GET /healthz`, is the same server without \
         authentication or database, measured in the same run; PostgreSQL runs in a fresh \
         schema that is dropped afterwards.\n"
    );
    out.push_str(
        "| backend | endpoint | requests/s | p99 (ms) | requests/s vs baseline | p99 vs baseline |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    for backend in results {
        let b = backend.baseline;
        let _ = writeln!(
            out,
            "| {} | GET /healthz (baseline) | {:.0} | {:.2} | 1.00 | 1.00 |",
            backend.name, b.rps, b.p99_ms
        );
        for (label, f) in &backend.endpoints {
            let _ = writeln!(
                out,
                "| {} | {label} | {:.0} | {:.2} | {:.3} | {:.1}× |",
                backend.name,
                f.rps,
                f.p99_ms,
                f.rps / b.rps,
                f.p99_ms / b.p99_ms
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "Running 10s test @ http://127.0.0.1:1\n  Latency Distribution\n     50%  1.00ms\n     99%  850.00us\n  12345 requests in 10.00s\nRequests/sec:   1234.50\nTransfer/sec:  1.00MB\n";
        let f = parse_wrk(text).unwrap();
        assert!((f.rps - 1234.5).abs() < 1e-9);
        assert!((f.p99_ms - 0.85).abs() < 1e-9);
        assert!((millis("1.50s") - 1500.0).abs() < 1e-9);
        assert!((millis("2.00m") - 120_000.0).abs() < 1e-9);
    }

    #[test]
    fn post_bodies_are_unique_per_thread_and_run() {
        let s = script("POST", "/v1/partners", Some("pk_test_x"), "m42");
        assert!(s.contains("thread:set(\"tid\", threads)"), "{s}");
        assert!(s.contains("B-m42-%d-%d"), "{s}");
        assert!(s.contains("Bearer pk_test_x"), "{s}");
        let g = script("GET", "/healthz", None, "w1");
        assert!(!g.contains("Authorization") && g.contains(", nil)"), "{g}");
    }
}
