//! The ratios of `cargo xtask bench core`, computed from criterion's estimates, `openssl
//! speed`, pyas2lib's timings and the peak-memory run of the same session.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

/// Peak memory of the round-trip example.
#[derive(Debug)]
pub(crate) struct Memory {
    pub payload_bytes: u64,
    pub body_bytes: u64,
    pub max_rss_kib: u64,
}

/// Everything measured in one run.
#[derive(Debug)]
pub(crate) struct Inputs {
    /// `<target>/criterion`
    pub criterion: PathBuf,
    pub openssl_speed: String,
    pub pyas2lib: Option<serde_json::Value>,
    pub memory: Memory,
}

const BACKENDS: [&str; 2] = ["rsa-0.10", "aws-lc-rs"];
const SIZES: [&str; 3] = ["1KB", "1MB", "100MB"];

/// The median of one criterion benchmark, in seconds (thread CPU time).
fn median(inputs: &Inputs, id: &str) -> Result<f64> {
    let path = inputs.criterion.join(id).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
    )?;
    v["median"]["point_estimate"]
        .as_f64()
        .map(|ns| ns / 1e9)
        .with_context(|| format!("no median in {}", path.display()))
}

/// Seconds per RSA-2048 signature and per verification from `openssl speed rsa2048` (CPU
/// time, its default): the line `rsa 2048 bits 0.000989s 0.000028s 1010.9 35512.7`.
/// OpenSSL 3.0 reports no RSA decryption; later versions add columns after these.
fn openssl_sign_verify(speed: &str) -> Option<(f64, f64)> {
    let line = speed
        .lines()
        .find(|l| l.trim_start().starts_with("rsa") && l.contains("2048 bits"))?;
    let mut secs = line
        .split_whitespace()
        .filter_map(|w| w.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()));
    Some((secs.next()?, secs.next()?))
}

fn fmt_time(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// The summary, as Markdown.
pub(crate) fn report(inputs: &Inputs) -> Result<String> {
    let m = |id: &str| median(inputs, id);
    let mut out = String::new();
    writeln!(
        out,
        "# as2-core benchmark summary (thread CPU time, medians)\n"
    )?;

    writeln!(out, "## RSA-2048 operations\n")?;
    let openssl = openssl_sign_verify(&inputs.openssl_speed);
    if openssl.is_none() {
        writeln!(out, "(openssl speed: no `rsa 2048 bits` line found)\n")?;
    }
    writeln!(
        out,
        "| op | rsa 0.10 | aws-lc-rs | openssl speed | rsa 0.10 / aws-lc-rs | rsa 0.10 / openssl | aws-lc-rs / openssl |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for (op, theirs) in [
        ("sign", openssl.map(|o| o.0)),
        ("verify", openssl.map(|o| o.1)),
        // OpenSSL 3.0's speed has no decrypt; the private-key operation is the same
        // exponentiation as sign
        ("decrypt", None),
    ] {
        let r = m(&format!("rsa2048/{op}/rsa-0.10"))?;
        let a = m(&format!("rsa2048/{op}/aws-lc-rs"))?;
        let (o, ro, ao) = match theirs {
            Some(o) => (
                fmt_time(o),
                format!("{:.2}×", r / o),
                format!("{:.2}×", a / o),
            ),
            None => ("—".into(), "—".into(), "—".into()),
        };
        writeln!(
            out,
            "| {op} | {} | {} | {o} | {:.2}× | {ro} | {ao} |",
            fmt_time(r),
            fmt_time(a),
            r / a
        )?;
    }
    writeln!(
        out,
        "\nkey-transport encrypt (rsa 0.10, the codec's public-key operations): {}",
        fmt_time(m("rsa2048/encrypt/rsa-0.10")?)
    )?;

    writeln!(
        out,
        "\n## Symmetric floor (RustCrypto, as used by as2-core; aws-lc-rs for comparison)\n"
    )?;
    writeln!(
        out,
        "| size | SHA-256 | AES-256-CBC enc | AES-256-CBC dec | aws-lc SHA-256 | aws-lc enc | aws-lc dec |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for size in SIZES {
        let g = format!("floor_{size}");
        writeln!(
            out,
            "| {size} | {} | {} | {} | {} | {} | {} |",
            fmt_time(m(&format!("{g}/sha256/rustcrypto"))?),
            fmt_time(m(&format!("{g}/aes256cbc_encrypt/rustcrypto"))?),
            fmt_time(m(&format!("{g}/aes256cbc_decrypt/rustcrypto"))?),
            fmt_time(m(&format!("{g}/sha256/aws-lc-rs"))?),
            fmt_time(m(&format!("{g}/aes256cbc_encrypt/aws-lc-rs"))?),
            fmt_time(m(&format!("{g}/aes256cbc_decrypt/aws-lc-rs"))?),
        )?;
    }

    writeln!(out, "\n## Codec per message vs the crypto floor\n")?;
    writeln!(
        out,
        "build floor = RSA sign + SHA-256(n) + AES-256-CBC encrypt(n) + RSA key-transport encrypt;"
    )?;
    writeln!(
        out,
        "parse floor = RSA decrypt + AES-256-CBC decrypt(n) + SHA-256(n) + RSA verify.\n"
    )?;
    writeln!(
        out,
        "| size | backend | build | build floor | build / floor | parse | parse floor | parse / floor |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for size in SIZES {
        let g = format!("floor_{size}");
        let sha = m(&format!("{g}/sha256/rustcrypto"))?;
        let enc = m(&format!("{g}/aes256cbc_encrypt/rustcrypto"))?;
        let dec = m(&format!("{g}/aes256cbc_decrypt/rustcrypto"))?;
        for b in BACKENDS {
            let bf = m(&format!("rsa2048/sign/{b}"))? + sha + enc + m("rsa2048/encrypt/rsa-0.10")?;
            let pf =
                m(&format!("rsa2048/decrypt/{b}"))? + dec + sha + m("rsa2048/verify/rsa-0.10")?;
            let build = m(&format!("codec_{size}/build/{b}"))?;
            let parse = m(&format!("codec_{size}/parse/{b}"))?;
            writeln!(
                out,
                "| {size} | {b} | {} | {} | {:.2}× | {} | {} | {:.2}× |",
                fmt_time(build),
                fmt_time(bf),
                build / bf,
                fmt_time(parse),
                fmt_time(pf),
                parse / pf
            )?;
        }
    }

    if let Some(py) = &inputs.pyas2lib {
        writeln!(
            out,
            "\n## pyas2lib (process CPU time, medians) vs as2-core\n"
        )?;
        writeln!(
            out,
            "| size | op | pyas2lib | ours (aws-lc-rs) | pyas2lib / ours | ours (rsa 0.10) | pyas2lib / ours |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        for size in SIZES {
            for op in ["build", "parse"] {
                let Some(p) = py["cases"][size][op]["cpu_s"].as_f64() else {
                    continue;
                };
                let a = m(&format!("codec_{size}/{op}/aws-lc-rs"))?;
                let r = m(&format!("codec_{size}/{op}/rsa-0.10"))?;
                writeln!(
                    out,
                    "| {size} | {op} | {} | {} | {:.1}× | {} | {:.1}× |",
                    fmt_time(p),
                    fmt_time(a),
                    p / a,
                    fmt_time(r),
                    p / r
                )?;
            }
        }
    }

    let mem = &inputs.memory;
    let rss = mem.max_rss_kib as f64 * 1024.0;
    writeln!(out, "\n## Peak memory (100 MiB round trip, rsa 0.10)\n")?;
    writeln!(
        out,
        "max RSS {:.0} MiB for a {:.0} MiB payload ({:.0} MiB body) = {:.2}× the payload",
        rss / 1048576.0,
        mem.payload_bytes as f64 / 1048576.0,
        mem.body_bytes as f64 / 1048576.0,
        rss / mem.payload_bytes as f64
    )?;
    if let Some(kib) = inputs
        .pyas2lib
        .as_ref()
        .and_then(|py| {
            py["cases"]["100MB"]
                .is_object()
                .then(|| py["max_rss_kib"].as_f64())
        })
        .flatten()
    {
        writeln!(
            out,
            "\npyas2lib, same 100 MiB round trip (its bench process, ru_maxrss): {:.0} MiB = {:.2}× the payload",
            kib / 1024.0,
            kib * 1024.0 / mem.payload_bytes as f64
        )?;
    }
    Ok(out)
}
