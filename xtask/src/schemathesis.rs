//! `cargo xtask schemathesis`: property-based API testing. Starts a real api-server on a fresh
//! SQLite database and runs schemathesis (from PyPI, in its own venv) against
//! `/v1/openapi.json`: no 5xx, and every response must match the document.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::paths::project_root;

const VENV: &str = "/tmp/as2-schemathesis-venv";
const VERSION: &str = "schemathesis==4.32.5";

fn venv_ready(venv: &Path) -> bool {
    venv.join("bin/schemathesis").exists()
}

fn ensure_venv() -> Result<PathBuf> {
    let venv =
        PathBuf::from(std::env::var("AS2_SCHEMATHESIS_VENV").unwrap_or_else(|_| VENV.into()));
    if !venv_ready(&venv) {
        eprintln!(
            "xtask schemathesis: installing {VERSION} into {}",
            venv.display()
        );
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()?
            .success()
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", VERSION])
                .status()?
                .success();
        if !ok {
            bail!("could not install {VERSION}");
        }
    }
    Ok(venv)
}

pub(crate) fn run() -> Result<()> {
    let root = project_root();
    let venv = ensure_venv()?;
    if !Command::new("cargo")
        .args(["build", "-p", "api-server"])
        .current_dir(&root)
        .status()?
        .success()
    {
        bail!("building api-server failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), Into::into);
    let data = tempfile::tempdir()?;
    let port = free_port()?;
    let mut server = Command::new(target.join("debug/api-server"))
        .args(["serve", "--migrate"])
        .env("AS2_DATA_DIR", data.path())
        .env("AS2_API_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("DATABASE_URL")
        .env_remove("AS2_MASTER_KEY")
        .stdout(Stdio::piped())
        .spawn()
        .context("starting api-server")?;
    let result = (|| {
        let stdout = server.stdout.take().context("no stdout")?;
        let mut key = None;
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line?;
            if let Some(k) = line.split_whitespace().find(|w| w.starts_with("pk_test_")) {
                key = Some(k.to_owned());
            }
            if line.starts_with("API listening") {
                break;
            }
        }
        // keep reading what the server prints after that (the console's address, ...): a
        // closed pipe would make its next line fail
        std::thread::spawn(move || lines.for_each(drop));
        let key = key.context("api-server printed no bootstrap key")?;
        let status = Command::new(venv.join("bin/schemathesis"))
            .args(["run", &format!("http://127.0.0.1:{port}/v1/openapi.json")])
            .args(["-H", &format!("Authorization: Bearer {key}")])
            // No 5xx, every body as documented, every status documented (the cross-cutting
            // 4xx are listed on every operation by the CommonResponses modifier).
            .args([
                "--checks",
                "not_a_server_error,response_schema_conformance,status_code_conformance",
            ])
            .args(["--max-examples", "40", "--seed", "1"])
            .status()
            .context("running schemathesis")?;
        if !status.success() {
            bail!("schemathesis found failures");
        }
        Ok(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    result
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
