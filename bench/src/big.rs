//! `cargo xtask bench big`: large files end to end through one release `as2-gateway` on
//! SQLite: tenant A's worker builds each (signed SHA-256, AES-256-CBC, signed sync MDN asked),
//! streaming it from the payload store, and posts it to the same gateway's
//! `/as2/test/receive` for tenant B, which decrypts, verifies and stores it as it arrives and
//! answers the MDN; A verifies the MDN. Two runs, each on a fresh gateway process: one 1 GiB
//! file, then eight 100 MiB files in flight at once. Records the time against the
//! cryptographic floor measured in the same run ([`crate::floor`] plus the RSA operations)
//! and the gateway's peak resident memory (VmHWM).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use as2_domain::algorithms::MdnMode;
use as2_domain::message::{Direction, MessageStatus};
use as2_e2e::seed::{MASTER_KEY, OUTBOUND_ALLOW_LOOPBACK, identity, tenant};
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::{MessageFilter, NewMessage};
use as2_store::testing::TestDb;

const MIB: u64 = 1 << 20;

/// What one run moved and what it cost.
struct Run {
    files: usize,
    size: u64,
    secs: f64,
    peak_mib: f64,
}

pub(crate) fn run() -> Result<()> {
    let (target, exe) = crate::gateway::release_gateway()?;
    let one = transfer(&exe, 1, 1 << 30, 1)?;
    let eight = transfer(&exe, 8, 100 * MIB, 8)?;
    // RSA per file: the sender signs the message, the receiver decrypts the content key and
    // signs the MDN
    let rsa_secs = 3.0 * crate::gateway::rsa_private_op_ms() / 1000.0;
    let mut rows = String::new();
    for run in [&one, &eight] {
        let total = run.size * run.files as u64;
        let floor = crate::floor::symmetric_secs(total) + rsa_secs * run.files as f64;
        rows.push_str(&format!(
            "| {} x {} MiB | {:.1} | {:.1} | {:.2}x | {:.0} | {:.0} |\n",
            run.files,
            run.size / MIB,
            run.secs,
            floor,
            run.secs / floor,
            total as f64 / MIB as f64 / run.secs,
            run.peak_mib,
        ));
    }
    let summary = format!(
        "Large files end to end (sign SHA-256 + AES-256-CBC, signed sync MDN; the worker streams from the payload store, the receiver streams into it) on SQLite, one gateway process sending and receiving. Floor: SHA-256 twice + AES-256-CBC encrypt and decrypt of all the bytes + 3 RSA-2048 private-key operations per file, single core, measured in the same run.\n\n\
         | files | time (s) | floor (s) | **time / floor** | MiB/s | gateway peak RSS (MiB) |\n|---|---|---|---|---|---|\n{rows}"
    );
    let out = target.join("bench-big-summary.md");
    std::fs::write(&out, &summary)?;
    eprintln!("{summary}\nxtask bench big: written to {}", out.display());
    Ok(())
}

/// A payload of `left` bytes of EDI-like lines, produced as it is read.
struct Edi {
    left: u64,
    at: usize,
}

const LINE: &[u8] = b"ISA*00*          *00*          *ZZ*BIGSENDER      *ZZ*BIGRECEIVER    ~\r\n";

impl Read for Edi {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        for byte in &mut buf[..n] {
            *byte = LINE[self.at];
            self.at = (self.at + 1) % LINE.len();
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Sends `files` files of `size` bytes from A to B through a fresh gateway process with
/// `workers` workers; the time until all are delivered and the gateway's peak RSS.
fn transfer(exe: &Path, files: usize, size: u64, workers: usize) -> Result<Run> {
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
    eprintln!(
        "xtask bench big: writing {files} payload(s) of {} MiB",
        size / MIB
    );
    let payloads = PayloadStore::open(data.path().join("payloads"))?;
    let mut queued = Vec::new();
    for n in 0..files {
        let stored = payloads.put(Edi { left: size, at: n })?;
        let message_id = format!("<big-{n}@xtask>");
        let message = db.store.messages().create_outbound(
            scope_a,
            &NewMessage {
                direction: Direction::Outbound,
                partner_id: partner_b,
                station_id: station_a,
                as2_message_id: &message_id,
                subject: Some("big"),
                filename: Some("big.edi"),
                content_type: "application/edi-x12",
                bytes: i64::try_from(stored.size)?,
                sha256: &stored.sha256,
                payload: Some(&as2_domain::message::PayloadRef::Object(stored.key.clone())),
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Queued,
                error: None,
                mic: None,
                destination_url: None,
            },
            1,
            None,
        )?;
        queued.push((message.id, stored.sha256));
    }

    let child = Command::new(exe)
        .args(["serve"])
        .env("DATABASE_URL", &db.url)
        .env("AS2_DATA_DIR", data.path())
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env("AS2_GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("AS2_METRICS_LISTEN", "off")
        .env("AS2_PUBLIC_AS2_URL", &url)
        .env("AS2_OUTBOUND_ALLOW", OUTBOUND_ALLOW_LOOPBACK)
        .env("AS2_WORKERS", workers.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let gateway = Gateway(child);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(1800);
    for (id, _) in &queued {
        loop {
            let now = db.store.messages().get(scope_a, *id)?;
            if now.status == MessageStatus::Failed {
                bail!("a big message failed: {:?}", now.error);
            }
            if now.status == MessageStatus::Delivered {
                break;
            }
            if Instant::now() > deadline {
                bail!("the big messages did not finish in 30 minutes");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let peak_kib = vm_hwm_kib(gateway.0.id())?;
    drop(gateway);
    let (received, _) = db.store.messages().list(
        scope_b,
        MessageFilter {
            direction: Some(Direction::Inbound),
            ..MessageFilter::default()
        },
        as2_domain::pagination::PageRequest {
            page: 1,
            per_page: 100,
        },
    )?;
    for (_, sha256) in &queued {
        if !received
            .iter()
            .any(|m| &m.sha256 == sha256 && m.bytes == i64::try_from(size).unwrap_or(-1))
        {
            bail!("B did not receive the bytes A sent");
        }
    }
    Ok(Run {
        files,
        size,
        secs,
        peak_mib: peak_kib as f64 / 1024.0,
    })
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
