//! `cargo xtask bench`: runs the criterion benchmarks whose figures go into docs/PERFORMANCE.md.

use std::process::Command;

use anyhow::{Result, bail};

use crate::paths::project_root;

pub(crate) fn run(target: &str) -> Result<()> {
    let packages: &[&str] = match target {
        "core" => &["as2-core"],
        "all" => &["as2-core"],
        other => bail!("unknown benchmark set {other:?} (expected core or all)"),
    };
    for package in packages {
        let status = Command::new("cargo")
            .args(["bench", "-p", package])
            .current_dir(project_root())
            .status()?;
        if !status.success() {
            bail!("cargo bench -p {package} failed with {status}");
        }
    }
    eprintln!("figures: copy the ratios into docs/PERFORMANCE.md (see its header for the method)");
    Ok(())
}
