//! A private PostgreSQL server for tests that restart or stop the database: `initdb` into a
//! temporary directory, `pg_ctl` on a free port of 127.0.0.1 (never the shared server).
//!
//! The binaries are found under `/usr/lib/postgresql/<version>/bin` (the newest), or in the
//! directory `AS2_TEST_PG_BIN` names. PostgreSQL refuses to run as root, so when the tests run
//! as root (CI does) every command runs as the `postgres` user through `runuser`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The environment variable naming the directory of `initdb` and `pg_ctl`.
pub const PG_BIN_VAR: &str = "AS2_TEST_PG_BIN";

/// Why a private cluster could not be made or controlled.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(pub String);

/// A running PostgreSQL server of its own; stopped and removed on drop.
#[derive(Debug)]
pub struct PostgresCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    run_as_postgres: bool,
    _dir: tempfile::TempDir,
}

impl PostgresCluster {
    /// Makes and starts a cluster (trust authentication, user `postgres`, no fsync).
    ///
    /// # Errors
    /// No PostgreSQL binaries, or `initdb` or `pg_ctl` failed (their output is in the error).
    pub fn start() -> Result<Self, ClusterError> {
        let bin = pg_bin()?;
        let run_as_postgres = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("as2-pg-")
            .tempdir()
            .map_err(|e| ClusterError(format!("temp dir: {e}")))?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| ClusterError(format!("data dir: {e}")))?;
        if run_as_postgres {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .map_err(|e| ClusterError(format!("chmod: {e}")))?;
            checked(
                Command::new("chown").arg("postgres:").arg(&data).output(),
                "chown",
            )?;
        }
        let cluster = Self {
            bin,
            data,
            port: free_port()?,
            run_as_postgres,
            _dir: dir,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data_str(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        cluster.start_server()?;
        cluster.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &cluster.port.to_string(),
                "-U",
                "postgres",
                "test",
            ],
        )?;
        Ok(cluster)
    }

    /// The URL of its `test` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/test", self.port)
    }

    /// Starts the server (after [`Self::stop`]); returns once it accepts connections.
    ///
    /// # Errors
    /// `pg_ctl` failed.
    pub fn start_server(&self) -> Result<(), ClusterError> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            self.port,
            self.data_str()
        );
        let log = self.data.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-D",
                &self.data_str(),
                "-l",
                &log.display().to_string(),
                "-o",
                &options,
            ],
        )
    }

    /// Stops the server the way an operator's restart does (`-m fast`: sessions are
    /// terminated, connections closed).
    ///
    /// # Errors
    /// `pg_ctl` failed.
    pub fn stop(&self) -> Result<(), ClusterError> {
        self.run(
            "pg_ctl",
            &["stop", "-w", "-m", "fast", "-D", &self.data_str()],
        )
    }

    /// Stops and starts the server.
    ///
    /// # Errors
    /// `pg_ctl` failed.
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.stop()?;
        self.start_server()
    }

    fn data_str(&self) -> String {
        self.data.display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), ClusterError> {
        let path = self.bin.join(program);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        // pg_ctl's server inherits the working directory: one postgres can read
        command.args(args).current_dir(&self.data);
        checked(command.output(), program)
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["stop", "-w", "-m", "immediate", "-D", &self.data_str()],
        );
    }
}

fn checked(output: std::io::Result<Output>, what: &str) -> Result<(), ClusterError> {
    let output = output.map_err(|e| ClusterError(format!("{what}: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(ClusterError(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// The directory of `initdb` and `pg_ctl`.
fn pg_bin() -> Result<PathBuf, ClusterError> {
    if let Some(dir) = std::env::var_os(PG_BIN_VAR) {
        return Ok(PathBuf::from(dir));
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map_err(|e| ClusterError(format!("no PostgreSQL under {}: {e}", root.display())))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| ClusterError(format!("no initdb under {}", root.display())))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ClusterError(format!("free port: {e}")))
}
