//! `cargo xtask bench big`: one 1 GiB file end to end through one release `as2-gateway` on
//! SQLite: tenant A's worker builds it (signed SHA-256, AES-256-CBC, signed sync MDN asked)
//! and posts it to the same gateway's `/as2/test/receive` for tenant B, which decrypts, verifies,
//! stores it and answers the MDN; A verifies the MDN. Records the time, the throughput and
//! the gateway's peak resident memory (VmHWM) as a multiple of the file.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use as2_domain::algorithms::MdnMode;
use as2_domain::message::{Direction, MessageStatus};
use as2_e2e::seed::{MASTER_KEY, OUTBOUND_ALLOW_LOOPBACK, identity, tenant};
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::{MessageFilter, NewMessage};
use as2_store::testing::TestDb;

/// The file: 1 GiB.
const SIZE: usize = 1 << 30;

pub(crate) fn run() -> Result<()> {
    let (target, exe) = crate::gateway::release_gateway()?;

    let db = TestDb::sqlite();
    let data = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("http://127.0.0.1:{port}/as2/test/receive");
    let (a, b) = (identity("big-a"), identity("big-b"));
    let (scope_a, station_a, partner_b) = tenant(&db.store, "A", "BIG-A", "BIG-B", &a, &b, &url);
    let (scope_b, _, _) = tenant(
        &db.store,
        "B",
        "BIG-B",
        "BIG-A",
        &b,
        &a,
        "http://127.0.0.1:9/x",
    );

    eprintln!("xtask bench big: writing a {} MiB payload", SIZE >> 20);
    let payloads = PayloadStore::open(data.path().join("payloads"))?;
    let content: Vec<u8> =
        b"ISA*00*          *00*          *ZZ*BIGSENDER      *ZZ*BIGRECEIVER    ~\r\n"
            .iter()
            .copied()
            .cycle()
            .take(SIZE)
            .collect();
    let stored = payloads.put_bytes(&content)?;
    drop(content);
    let message = db.store.messages().create_outbound(
        scope_a,
        &NewMessage {
            direction: Direction::Outbound,
            partner_id: partner_b,
            station_id: station_a,
            as2_message_id: "<big-1@xtask>",
            subject: Some("1 GiB"),
            filename: Some("big.edi"),
            content_type: "application/edi-x12",
            bytes: i64::try_from(stored.size)?,
            sha256: &stored.sha256,
            payload_key: Some(&stored.key),
            mdn_mode: MdnMode::Sync,
            status: MessageStatus::Queued,
            error: None,
            mic: None,
            destination_url: None,
        },
        1,
        None,
    )?;

    let child = Command::new(&exe)
        .args(["serve"])
        .env("DATABASE_URL", &db.url)
        .env("AS2_DATA_DIR", data.path())
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env("AS2_GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("AS2_METRICS_LISTEN", "off")
        .env("AS2_PUBLIC_AS2_URL", &url)
        .env("AS2_OUTBOUND_ALLOW", OUTBOUND_ALLOW_LOOPBACK)
        .env("AS2_WORKERS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let gateway = Gateway(child);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(1800);
    let status = loop {
        let now = db.store.messages().get(scope_a, message.id)?;
        if matches!(now.status, MessageStatus::Delivered | MessageStatus::Failed) {
            break now;
        }
        if Instant::now() > deadline {
            bail!("the 1 GiB message did not finish in 30 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let elapsed = started.elapsed().as_secs_f64();
    let peak_kib = vm_hwm_kib(gateway.0.id())?;
    drop(gateway);
    if status.status != MessageStatus::Delivered {
        bail!(
            "the 1 GiB message ended {:?}: {:?}",
            status.status,
            status.error
        );
    }
    let (received, _) = db.store.messages().list(
        scope_b,
        MessageFilter {
            direction: Some(Direction::Inbound),
            ..MessageFilter::default()
        },
        as2_domain::pagination::PageRequest::default(),
    )?;
    let received = received.first().context("B received nothing")?;
    if received.sha256 != stored.sha256 || received.bytes != status.bytes {
        bail!("B received different bytes than A sent");
    }
    let mib = SIZE as f64 / f64::from(1 << 20);
    let peak_mib = peak_kib as f64 / 1024.0;
    let summary = format!(
        "1 GiB end to end (sign SHA-256 + AES-256-CBC, signed sync MDN; build, post, receive, store, MDN, verify) on SQLite, one gateway process\n\n\
         | payload | time (s) | MiB/s | gateway peak RSS (MiB) | peak / payload |\n|---|---|---|---|---|\n\
         | {mib:.0} MiB | {elapsed:.1} | {:.1} | {peak_mib:.0} | {:.2}x |\n",
        mib / elapsed,
        peak_mib / mib,
    );
    let out = target.join("bench-big-summary.md");
    std::fs::write(&out, &summary)?;
    eprintln!("{summary}\nxtask bench big: written to {}", out.display());
    Ok(())
}

struct Gateway(std::process::Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The process's peak resident set (VmHWM), KiB.
fn vm_hwm_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmHWM in /proc/PID/status")
}
