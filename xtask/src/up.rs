//! `cargo xtask up`: builds and starts the platform on the embedded SQLite database (the
//! api-server and the as2-gateway), migrating first, and prints the URLs and the first key.

use std::process::{Child, Command};

use anyhow::{Context, Result, bail};

use crate::paths::project_root;

/// The binaries the platform is made of (those present in the workspace).
fn binaries() -> Vec<&'static str> {
    let root = project_root();
    ["api-server", "as2-gateway"]
        .into_iter()
        .filter(|b| root.join("bins").join(b).exists())
        .collect()
}

/// What `cargo xtask up` lets partners, webhooks and the TSA be at besides public addresses:
/// loopback, so that both processes on this machine can talk to each other.
const LOCAL_OUTBOUND_ALLOW: &str = "127.0.0.0/8,::1";

pub(crate) fn run() -> Result<()> {
    let root = project_root();
    let bins = binaries();
    let mut build = Command::new("cargo");
    build.arg("build").current_dir(&root);
    for bin in &bins {
        build.args(["-p", bin]);
    }
    if !build.status().context("running cargo build")?.success() {
        bail!("cargo build failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), Into::into);
    let data_dir =
        std::env::var("AS2_DATA_DIR").unwrap_or_else(|_| root.join("data").display().to_string());
    // Migrate once, before either process starts, so they never race on the schema.
    let migrated = Command::new(target.join("debug").join(bins[0]))
        .arg("migrate")
        .env("AS2_DATA_DIR", &data_dir)
        .current_dir(&root)
        .status()
        .context("migrating")?;
    if !migrated.success() {
        bail!("migrating the database failed");
    }
    // Local development posts to 127.0.0.1 (the README's tenant-to-tenant example): allow
    // loopback, which production refuses, unless the developer chose a policy.
    let outbound_allow =
        std::env::var("AS2_OUTBOUND_ALLOW").unwrap_or_else(|_| LOCAL_OUTBOUND_ALLOW.into());
    let mut children: Vec<(&str, Child)> = Vec::new();
    for bin in &bins {
        let child = Command::new(target.join("debug").join(bin))
            .arg("serve")
            .env("AS2_DATA_DIR", &data_dir)
            .env("AS2_OUTBOUND_ALLOW", &outbound_allow)
            .current_dir(&root)
            .spawn()
            .with_context(|| format!("starting {bin}"))?;
        children.push((bin, child));
    }
    eprintln!(
        "xtask up: data in {data_dir}; the API is on http://127.0.0.1:8080 (AS2_API_LISTEN), the AS2 endpoint on http://127.0.0.1:8081/as2/receive (live) and /as2/test/receive (test) (AS2_GATEWAY_LISTEN), metrics on http://127.0.0.1:9464/metrics; Ctrl-C stops everything"
    );
    eprintln!("xtask up: on the first start the api-server prints a test API key once; keep it");
    eprintln!(
        "xtask up: outbound requests may go to public addresses and {outbound_allow} (AS2_OUTBOUND_ALLOW)"
    );
    for (bin, child) in &mut children {
        let status = child.wait()?;
        eprintln!("xtask up: {bin} exited with {status}");
    }
    Ok(())
}
