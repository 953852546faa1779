//! A real SMTP server on 127.0.0.1 for tests: Python's aiosmtpd running
//! `scripts/smtp_sink.py` on a free port, writing every mail it accepts to a directory the
//! test reads; killed when dropped.
//!
//! The Python is `AS2_TEST_SMTP_PYTHON` (an interpreter that imports `aiosmtpd`), else
//! [`DEFAULT_PYTHON`] (where `.ci/run` installs it). Without one a test is skipped with a
//! notice, except under CI (`CI` set), where it fails.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `.ci/run` installs a Python with aiosmtpd.
pub const DEFAULT_PYTHON: &str = "/var/cache/as2-ci/smtp-venv/bin/python";

/// The variable naming the Python.
pub const PYTHON_VAR: &str = "AS2_TEST_SMTP_PYTHON";

/// The sink script.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smtp_sink.py");

/// A running server.
#[derive(Debug)]
pub struct SmtpSink {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

/// One mail as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// `MAIL FROM`.
    pub envelope_from: String,
    /// Every `RCPT TO`.
    pub envelope_to: Vec<String>,
    /// The message: headers and body, as sent.
    pub message: String,
}

impl ReceivedMail {
    /// The first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self
            .message
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ");
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The body (after the blank line).
    pub fn body(&self) -> &str {
        self.message
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }
}

impl SmtpSink {
    /// Starts a server that accepts every mail, or `None` (with a notice) when no Python
    /// with aiosmtpd is installed and CI is not set.
    ///
    /// # Panics
    /// None is installed and CI is set, or the server does not come up.
    pub fn start() -> Option<Self> {
        Self::deferring(0)
    }

    /// The same, answering the first `defer` mails `451` (try again later).
    ///
    /// # Panics
    /// See [`SmtpSink::start`].
    #[allow(clippy::print_stderr, reason = "a skipped test says so")]
    pub fn deferring(defer: u32) -> Option<Self> {
        let Some(python) = python() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but no Python with aiosmtpd is installed: set {PYTHON_VAR} or run .ci/run (a venv at {DEFAULT_PYTHON})"
            );
            eprintln!(
                "NOTICE: no Python with aiosmtpd ({PYTHON_VAR} or {DEFAULT_PYTHON}); skipping (a failure when CI is set)"
            );
            return None;
        };
        let mut said = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("a directory for the mails");
            // the server's own words, outside the mail directory, for the panic below
            let log = tempfile::NamedTempFile::new().expect("a file for the server's output");
            let port = free_port();
            let child = Command::new(&python)
                .arg(SCRIPT)
                .args(["--port", &port.to_string(), "--defer", &defer.to_string()])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log.reopen().map_or_else(|_| Stdio::null(), Stdio::from))
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", python.display()));
            let mut sink = Self { port, dir, child };
            if sink.wait_ready(Duration::from_secs(30)) {
                return Some(sink);
            }
            said = std::fs::read_to_string(log.path()).unwrap_or_default();
        }
        panic!("the SMTP test server ({SCRIPT}) did not come up; it said: {said}");
    }

    /// `smtp://127.0.0.1:<port>` (plain SMTP, loopback only).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The mails received so far, in the order they arrived.
    ///
    /// # Panics
    /// The directory cannot be read.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        read_mails(self.dir.path())
    }

    fn wait_ready(&mut self, patience: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < patience {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_mails(dir: &Path) -> Vec<ReceivedMail> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the mail directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|path| {
            let text =
                String::from_utf8_lossy(&std::fs::read(path).expect("a mail file")).into_owned();
            let mut envelope_from = String::new();
            let mut envelope_to = Vec::new();
            let mut rest = text.as_str();
            while let Some((line, after)) = rest.split_once("\r\n") {
                if let Some(from) = line.strip_prefix("X-Envelope-From: ") {
                    envelope_from = from.to_owned();
                } else if let Some(to) = line.strip_prefix("X-Envelope-To: ") {
                    envelope_to.push(to.to_owned());
                } else {
                    break;
                }
                rest = after;
            }
            ReceivedMail {
                envelope_from,
                envelope_to,
                message: rest.to_owned(),
            }
        })
        .collect()
}

/// `AS2_TEST_SMTP_PYTHON`, else [`DEFAULT_PYTHON`], if it imports aiosmtpd.
fn python() -> Option<PathBuf> {
    let path = std::env::var_os(PYTHON_VAR)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_PYTHON), PathBuf::from);
    let imports = Command::new(&path)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    imports.then_some(path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
