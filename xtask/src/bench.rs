//! `cargo xtask bench`: runs the benchmarks whose figures go into docs/PERFORMANCE.md.
//!
//! `core`: the criterion benches of as2-core (the crypto floor with `rsa` 0.10 and
//! aws-lc-rs, and the codec with both RSA backends, the aws-lc-rs one being
//! as2-crypto-aws-lc), `openssl speed -seconds 3 rsa2048`, pyas2lib building and parsing
//! the same messages (benches/pyas2lib_bench.py in the interop venv), and the peak memory
//! of a 100 MB round trip (examples/roundtrip_memory.rs under `/usr/bin/time -v`). The
//! ratios are printed and written to `<target>/bench-core-summary.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::bench_report::{Inputs, Memory, report};
use crate::paths::project_root;

pub(crate) fn run(target: &str) -> Result<()> {
    match target {
        "core" => core(),
        "api" | "gateway" | "big" => load(target),
        "all" => core()
            .and_then(|()| load("api"))
            .and_then(|()| load("gateway"))
            .and_then(|()| load("big")),
        other => {
            bail!("unknown benchmark set {other:?} (expected core, api, gateway, big or all)")
        }
    }
}

/// Runs a load generator of the as2-bench crate (built here, in the dev profile as before,
/// with dependencies optimised as the workspace's profile says).
fn load(set: &str) -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .args(["run", "--locked", "-p", "as2-bench", "--", set])
        .current_dir(project_root())
        .status()
        .context("running as2-bench")?;
    if !status.success() {
        bail!("as2-bench {set} failed with {status}");
    }
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), PathBuf::from)
}

fn check(cmd: &mut Command) -> Result<std::process::Output> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

fn core() -> Result<()> {
    let root = project_root();
    let target = target_dir();
    // as2-crypto-aws-lc has no benches of its own: the aws-lc-rs backend is measured by
    // as2-core's benches (a dev-dependency), next to the rsa 0.10 one, in the same run.
    let status = Command::new("cargo")
        .args(["bench", "-p", "as2-core", "--benches"])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("cargo bench -p as2-core failed with {status}");
    }

    eprintln!("xtask bench: openssl speed -seconds 3 rsa2048");
    let speed = check(Command::new("openssl").args(["speed", "-seconds", "3", "rsa2048"]))?;
    let openssl = String::from_utf8_lossy(&speed.stdout).into_owned();

    let pyas2lib = pyas2lib(&root, &target).unwrap_or_else(|e| {
        eprintln!("xtask bench: pyas2lib skipped: {e:#}");
        None
    });

    let memory = memory(&root, &target)?;
    let summary = report(&Inputs {
        criterion: target.join("criterion"),
        openssl_speed: openssl,
        pyas2lib,
        memory,
    })?;
    let out = target.join("bench-core-summary.md");
    std::fs::write(&out, &summary)?;
    eprintln!("{summary}");
    eprintln!(
        "xtask bench: summary written to {}; copy the ratios into docs/PERFORMANCE.md",
        out.display()
    );
    Ok(())
}

/// pyas2lib timings (JSON), when the interop venv can be made.
fn pyas2lib(root: &Path, target: &Path) -> Result<Option<serde_json::Value>> {
    let interop = root.join("../shared/interop");
    if !interop.join("setup.sh").exists() {
        bail!("{} not found", interop.display());
    }
    eprintln!("xtask bench: pyas2lib (venv /tmp/as2-interop-venv)");
    check(Command::new(interop.join("setup.sh")).current_dir(&interop))?;
    let certs = target.join("bench-certs");
    check(Command::new(interop.join("make_certs.sh")).arg(&certs))?;
    let json = target.join("pyas2lib-bench.json");
    check(
        Command::new("/tmp/as2-interop-venv/bin/python")
            .arg(root.join("crates/as2-core/benches/pyas2lib_bench.py"))
            .arg("--certs")
            .arg(&certs)
            .arg("--json")
            .arg(&json),
    )?;
    Ok(Some(serde_json::from_slice(&std::fs::read(&json)?)?))
}

/// Peak RSS of a 100 MB round trip.
fn memory(root: &Path, target: &Path) -> Result<Memory> {
    eprintln!("xtask bench: peak memory of a 100 MB round trip");
    check(
        Command::new("cargo")
            .args([
                "build",
                "--release",
                "-p",
                "as2-core",
                "--example",
                "roundtrip_memory",
            ])
            .current_dir(root),
    )?;
    let exe = target.join("release/examples/roundtrip_memory");
    let out = check(Command::new("/usr/bin/time").arg("-v").arg(&exe).arg("100"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let field = |text: &str, key: &str| -> Result<u64> {
        text.split(['\n', ' '])
            .find_map(|w| w.trim().strip_prefix(key))
            .or_else(|| {
                text.lines()
                    .find_map(|l| l.trim().strip_prefix(key).map(str::trim))
            })
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("{key} not found in {text}"))
    };
    Ok(Memory {
        payload_bytes: field(&stdout, "payload_bytes=")?,
        body_bytes: field(&stdout, "body_bytes=")?,
        max_rss_kib: field(&stderr, "Maximum resident set size (kbytes):")?,
    })
}
