//! A scaled-out installation on one machine: `api-server` and `as2-gateway` processes (the
//! real binaries, each gateway with its workers and maintenance loop) over one PostgreSQL
//! database and one S3 bucket, the gateways behind a round-robin proxy that is the AS2 URL
//! partners and the platform's own async MDNs use. The test starts, kills and replaces them.
//!
//! Cargo builds a package's binaries only for that package's own tests, so the binaries are
//! looked for beside the running test's `deps/` directory: run with `--workspace` (as
//! `cargo xtask test` does) or add `-p as2-gateway -p api-server` to the command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use as2_domain::public_url::{LIVE_PATH, TEST_PATH};
use as2_test_support::s3::S3Server;

use crate::process::{GatewayProcess, free_port};
use crate::proxy::RoundRobin;
use crate::seed::{MASTER_KEY, OUTBOUND_ALLOW_LOOPBACK};

/// The two platform binaries of the build that made the running test.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `as2-gateway`.
    pub gateway: PathBuf,
    /// `api-server`.
    pub api: PathBuf,
}

impl Binaries {
    /// Both binaries, or a sentence naming what is missing.
    ///
    /// # Errors
    /// One of them is not built.
    pub fn find() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("the test's own path: {e}"))?;
        // <target>/<profile>/deps/<test binary>: the binaries are in <target>/<profile>
        let profile = exe
            .parent()
            .and_then(std::path::Path::parent)
            .ok_or_else(|| format!("no profile directory above {}", exe.display()))?;
        let built = |name: &str| {
            let path = profile.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(format!(
                    "{} is not built (run with --workspace, or add -p as2-gateway -p api-server)",
                    path.display()
                ))
            }
        };
        Ok(Self {
            gateway: built("as2-gateway")?,
            api: built("api-server")?,
        })
    }
}

/// The processes' shared setting and the proxy in front of the gateways.
#[derive(Debug)]
pub struct Cluster {
    /// The gateways' proxy: where partners post.
    pub proxy: RoundRobin,
    /// The proxy's AS2 URL for test-mode stations (`…/as2/test/receive`).
    pub as2_url: String,
    binaries: Binaries,
    env: Vec<(&'static str, String)>,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// A cluster on `database_url` (migrated, sealed with the test master key) whose payloads
    /// go to `bucket` (made already) of `s3` under `prefix`; no process runs yet.
    ///
    /// # Errors
    /// The proxy cannot listen or no temporary directory can be made.
    pub async fn new(
        binaries: Binaries,
        database_url: &str,
        s3: &S3Server,
        bucket: &str,
        prefix: &str,
    ) -> std::io::Result<Self> {
        let proxy = RoundRobin::start().await?;
        let live = format!("http://{}{LIVE_PATH}", proxy.addr);
        let as2_url = format!("http://{}{TEST_PATH}", proxy.addr);
        let mut env = vec![
            ("DATABASE_URL", database_url.to_owned()),
            ("AS2_PAYLOAD_STORE", format!("s3://{bucket}/{prefix}")),
            ("AS2_OUTBOUND_ALLOW", OUTBOUND_ALLOW_LOOPBACK.to_owned()),
            ("AS2_PUBLIC_AS2_URL", live),
            ("AS2_PUBLIC_AS2_TEST_URL", as2_url.clone()),
            ("AS2_MASTER_KEY", MASTER_KEY.to_owned()),
        ];
        for name in [
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
        ] {
            env.extend(s3.var(name).map(|value| (name, value)));
        }
        Ok(Self {
            proxy,
            as2_url,
            binaries,
            env,
            dir: tempfile::tempdir()?,
        })
    }

    /// Starts an `api-server`; the process and its base URL. Blocks until it listens.
    ///
    /// # Panics
    /// It does not start.
    pub fn start_api(&self) -> (GatewayProcess, String) {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let api = GatewayProcess::start(
            &self.binaries.api.to_string_lossy(),
            &["serve", "--listen", &listen],
            self.dir.path(),
            port,
            &self.env,
        );
        (api, format!("http://{listen}"))
    }

    /// Starts an `as2-gateway` with its workers, with `extra` settings on top, and adds it to
    /// the proxy's rotation once it listens. Blocks until then.
    ///
    /// # Panics
    /// It does not start.
    pub fn start_gateway(&self, extra: &[(&'static str, String)]) -> GatewayProcess {
        let mut env = self.env.clone();
        env.extend_from_slice(extra);
        let gateway = GatewayProcess::start(
            &self.binaries.gateway.to_string_lossy(),
            &["serve"],
            self.dir.path(),
            free_port(),
            &env,
        );
        let addr: SocketAddr = gateway.addr;
        self.proxy.add(addr);
        gateway
    }
}
