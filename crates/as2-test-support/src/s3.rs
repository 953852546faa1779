//! A real S3-compatible server on 127.0.0.1 for tests: `moto_server` (PyPI's `moto[server]`)
//! on a free port, with a bucket, killed when dropped.
//!
//! The server is `AS2_TEST_S3_SERVER` (a path to `moto_server`), else
//! [`DEFAULT_SERVER`] (where `.ci/run` and `cargo xtask test` install it). Without one a test
//! is skipped with a notice, except under CI (`CI` set), where it fails.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `.ci/run` and `cargo xtask test` install `moto_server`.
pub const DEFAULT_SERVER: &str = "/var/cache/as2-ci/moto-venv/bin/moto_server";

/// The variable naming the server binary.
pub const SERVER_VAR: &str = "AS2_TEST_S3_SERVER";

/// The credentials the server accepts (any; these are what the tests send).
pub const ACCESS_KEY_ID: &str = "as2-test";
/// See [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "as2-test-secret";
/// The region the tests name.
pub const REGION: &str = "us-east-1";

/// A running server.
#[derive(Debug)]
pub struct S3Server {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    port: u16,
    child: Child,
}

impl S3Server {
    /// Starts a server, or `None` (with a notice) when none is installed and CI is not set.
    ///
    /// # Panics
    /// No server is installed and CI is set, or the server does not come up.
    #[allow(clippy::print_stderr, reason = "a skipped test says so")]
    pub fn start() -> Option<Self> {
        let Some(binary) = server_binary() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but no S3 test server is installed: set {SERVER_VAR} or run .ci/run (moto_server at {DEFAULT_SERVER})"
            );
            eprintln!(
                "NOTICE: no S3 test server ({SERVER_VAR} or {DEFAULT_SERVER} missing); skipping (a failure when CI is set)"
            );
            return None;
        };
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(&binary)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let mut server = Self {
                endpoint: format!("http://127.0.0.1:{port}"),
                port,
                child,
            };
            if server.wait_ready(Duration::from_secs(30)) {
                return Some(server);
            }
            // the port was taken meanwhile, or the server died: another port
        }
        panic!("the S3 test server {} did not come up", binary.display());
    }

    /// Creates `bucket` (an empty one).
    ///
    /// # Panics
    /// The server refuses.
    pub fn create_bucket(&self, bucket: &str) {
        let status = self.request("PUT", &format!("/{bucket}"));
        assert_eq!(status, Some(200), "creating bucket {bucket}");
    }

    /// The standard AWS variables that reach this server (for `S3Config::from_url` and for
    /// a child process's environment).
    pub fn var(&self, name: &str) -> Option<String> {
        match name {
            "AWS_ENDPOINT_URL" => Some(self.endpoint.clone()),
            "AWS_ACCESS_KEY_ID" => Some(ACCESS_KEY_ID.to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some(SECRET_ACCESS_KEY.to_owned()),
            "AWS_REGION" => Some(REGION.to_owned()),
            _ => None,
        }
    }

    fn wait_ready(&mut self, patience: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < patience {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if self.request("GET", "/").is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// One unsigned HTTP/1.1 request; the status, if the server answered.
    fn request(&self, method: &str, path: &str) -> Option<u16> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).ok()?;
        let line = String::from_utf8_lossy(&answer);
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `AS2_TEST_S3_SERVER`, else [`DEFAULT_SERVER`], if that file exists.
fn server_binary() -> Option<PathBuf> {
    let path = std::env::var_os(SERVER_VAR)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_SERVER), PathBuf::from);
    path.exists().then_some(path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}
