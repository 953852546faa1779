//! `cargo xtask test`: the whole suite, on SQLite always and on PostgreSQL when reachable.
//!
//! PostgreSQL is named by `AS2_TEST_POSTGRES_URL`. Under CI (`CI` set) an unset or unreachable
//! server is an error; elsewhere the run goes on with SQLite only and says so loudly. The S3
//! test server (`moto_server`) is handed to the tests as `AS2_TEST_S3_SERVER`, with the same
//! rule: required under CI, skipped loudly elsewhere.

use std::{
    net::{TcpStream, ToSocketAddrs},
    path::PathBuf,
    process::Command,
    time::Duration,
};

use anyhow::{Result, bail};

use crate::paths::project_root;

pub(crate) fn run(extra: &[String]) -> Result<()> {
    let in_ci = std::env::var_os("CI").is_some();
    let postgres = std::env::var("AS2_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let mut postgres_ok = false;
    match &postgres {
        Some(url) if reachable(url) => {
            eprintln!("xtask test: PostgreSQL reachable, running both backends");
            postgres_ok = true;
        }
        Some(url) if in_ci => bail!("AS2_TEST_POSTGRES_URL={url} is unreachable and CI is set"),
        Some(url) => banner(&format!("PostgreSQL at {url} is unreachable")),
        None if in_ci => bail!("CI is set but AS2_TEST_POSTGRES_URL is not"),
        None => banner("AS2_TEST_POSTGRES_URL is not set"),
    }

    let s3_server = s3_server(in_ci)?;

    let mut cmd = if has_nextest() {
        let mut c = Command::new("cargo");
        c.args([
            "nextest",
            "run",
            "--workspace",
            // Not benches: criterion's one-shot test mode of the 100 MB benches takes minutes
            // unoptimised; `cargo xtask bench` runs them properly.
            "--lib",
            "--bins",
            "--tests",
            "--no-fail-fast",
        ]);
        c
    } else {
        let mut c = Command::new("cargo");
        c.args([
            "test",
            "--workspace",
            "--lib",
            "--bins",
            "--tests",
            "--no-fail-fast",
        ]);
        c
    };
    cmd.args(extra).current_dir(project_root());
    if let Some(server) = &s3_server {
        cmd.env(S3_SERVER_VAR, server);
    }
    if !postgres_ok {
        cmd.env_remove("AS2_TEST_POSTGRES_URL");
    }
    run_checked(cmd)?;

    // nextest does not run doctests.
    let mut doc = Command::new("cargo");
    doc.args(["test", "--workspace", "--doc"])
        .current_dir(project_root());
    run_checked(doc)?;

    // The API against its own OpenAPI document, over real HTTP.
    crate::schemathesis::run()?;

    if postgres_ok {
        // The API suite once more, with every test's database on PostgreSQL.
        let mut api = Command::new("cargo");
        api.args(["test", "-p", "as2-api", "--tests"])
            .env("AS2_TEST_API_BACKEND", "postgres")
            .current_dir(project_root());
        run_checked(api)?;
    } else {
        banner("PostgreSQL tests were SKIPPED (SQLite only)");
    }
    Ok(())
}

/// The variable the S3 tests read (`as2_test_support::s3`).
const S3_SERVER_VAR: &str = "AS2_TEST_S3_SERVER";
/// Where `.ci/run` installs `moto_server`.
const DEFAULT_S3_SERVER: &str = "/var/cache/as2-ci/moto-venv/bin/moto_server";

/// The S3 test server: `AS2_TEST_S3_SERVER`, else the one `.ci/run` installs. Under CI a
/// missing one is an error; elsewhere the S3 tests are skipped, loudly.
fn s3_server(in_ci: bool) -> Result<Option<PathBuf>> {
    let server = std::env::var_os(S3_SERVER_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_S3_SERVER));
    if server.exists() {
        eprintln!("xtask test: S3 test server {}", server.display());
        return Ok(Some(server));
    }
    if in_ci {
        bail!(
            "CI is set but the S3 test server {} is missing (.ci/run installs it)",
            server.display()
        );
    }
    let line = "=".repeat(78);
    eprintln!(
        "{line}\n!! no S3 test server at {}: S3 tests will be SKIPPED.\n!! Install it: python3 -m venv /var/cache/as2-ci/moto-venv && /var/cache/as2-ci/moto-venv/bin/pip install 'moto[server]==5.2.5'\n{line}",
        server.display()
    );
    Ok(None)
}

fn run_checked(mut cmd: Command) -> Result<()> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd.status()?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn has_nextest() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether a TCP connection to the URL's host and port succeeds within two seconds.
fn reachable(url: &str) -> bool {
    let Some((host, port)) = host_port(url) else {
        return false;
    };
    let Ok(addrs) = (host.as_str(), port).to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

/// Host and port of `postgres://user:pass@host:port/db?…` (port 5432 by default).
fn host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            Some((h.trim_matches(['[', ']']).to_owned(), p.parse().ok()?))
        }
        _ => Some((hostport.trim_matches(['[', ']']).to_owned(), 5432)),
    }
}

fn banner(text: &str) {
    let line = "=".repeat(78);
    eprintln!("{line}\n!! {text}: PostgreSQL tests will be SKIPPED.\n{line}");
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn host_and_port_are_read_from_urls() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/test"),
            Some(("127.0.0.1".to_owned(), 5432))
        );
        assert_eq!(
            host_port("postgres://u:p@db/x"),
            Some(("db".to_owned(), 5432))
        );
        assert_eq!(
            host_port("postgresql://h:6000"),
            Some(("h".to_owned(), 6000))
        );
        assert_eq!(host_port("not a url"), None);
    }
}
