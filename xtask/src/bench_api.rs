//! `cargo xtask bench api`: load on a release api-server with wrk (Debian's `wrk`), on SQLite
//! and on PostgreSQL (`AS2_TEST_POSTGRES_URL`), authentication and rate limiting on.
//!
//! Figures: requests/s and p99 of `GET /v1/messages?per_page=100` (500 messages stored) and
//! `POST /v1/partners`, each as a ratio of `GET /healthz` (no database, no auth) measured in
//! the same run against the same process.

use std::io::{BufRead, BufReader};
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

use crate::paths::project_root;

const MASTER_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";

struct Server {
    child: Child,
    port: u16,
    key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn run() -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is not installed: apt-get install wrk");
    }
    let root = project_root();
    if !Command::new("cargo")
        .args(["build", "--release", "-p", "api-server"])
        .current_dir(&root)
        .status()?
        .success()
    {
        bail!("building api-server failed");
    }
    let mut dbs = vec![("SQLite", TestDb::sqlite())];
    if let Some(pg) = TestDb::postgres() {
        dbs.push(("PostgreSQL", pg));
    }
    println!(
        "| backend | endpoint | requests/s | p99 ms | ratio to /healthz |\n|---|---|---|---|---|"
    );
    for (name, db) in &dbs {
        let server = start(&db.url)?;
        seed(&db.url)?;
        let base = wrk(&server, "GET", "/healthz", None)?;
        println!(
            "| {name} | GET /healthz (baseline) | {:.0} | {:.2} | 1.00 |",
            base.0, base.1
        );
        for (method, path) in [
            ("GET", "/v1/messages?per_page=100"),
            ("POST", "/v1/partners"),
        ] {
            let (rps, p99) = wrk(&server, method, path, Some(&server.key))?;
            println!(
                "| {name} | {method} {path} | {rps:.0} | {p99:.2} | {:.3} |",
                rps / base.0
            );
        }
    }
    Ok(())
}

fn start(url: &str) -> Result<Server> {
    let root = project_root();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), Into::into);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let data = std::env::temp_dir().join(format!("as2-bench-{port}"));
    let mut child = Command::new(target.join("release/api-server"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("AS2_DATA_DIR", &data)
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env("AS2_API_LISTEN", format!("127.0.0.1:{port}"))
        .env("AS2_ENTERPRISE_RATE_LIMIT", "100000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .context("starting api-server")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut key = None;
    for line in BufReader::new(stdout).lines() {
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
    Ok(Server {
        child,
        port,
        key: key.context("no bootstrap key printed")?,
    })
}

/// 500 messages for the list benchmark, through the store.
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
    for i in 0..500 {
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
            payload_key: None,
            mdn_mode: MdnMode::Sync,
            status: MessageStatus::Received,
            error: None,
            mic: None,
        };
        store.messages().create(scope, &message)?;
    }
    Ok(())
}

/// Runs wrk for 10 s on 2 connections per core; returns requests/s and p99 in ms.
fn wrk(server: &Server, method: &str, path: &str, key: Option<&str>) -> Result<(f64, f64)> {
    let script = std::env::temp_dir().join(format!("as2-bench-{}.lua", server.port));
    let auth = key
        .map(|k| format!("[\"Authorization\"] = \"Bearer {k}\","))
        .unwrap_or_default();
    let body = if method == "POST" {
        r#"string.format('{"name":"Bench","as2_id":"B-%d-%d","url":"https://bench.example/as2","encrypt":false}', math.random(1, 1000000000), counter)"#
    } else {
        "nil"
    };
    std::fs::write(
        &script,
        format!(
            "counter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(\"{method}\", \"{path}\", {{ {auth} [\"Content-Type\"] = \"application/json\" }}, {body})\nend\n"
        ),
    )?;
    let output = Command::new("wrk")
        .args(["-t2", "-c8", "-d10s", "--latency", "-s"])
        .arg(&script)
        .arg(format!("http://127.0.0.1:{}", server.port))
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("Non-2xx") {
        bail!("{method} {path}: the server answered errors under load:\n{text}");
    }
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .context("no Requests/sec in wrk output")?;
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| millis(v.trim()))
        .context("no p99 in wrk output")?;
    Ok((rps, p99))
}

fn millis(value: &str) -> f64 {
    let (number, factor) = if let Some(v) = value.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (value, 1.0)
    };
    number.parse::<f64>().map_or(f64::NAN, |n| n * factor)
}
