//! The real `as2-gateway` binary as a child process over a SQLite store in a data directory:
//! what the SIGKILL, memory and timeout tests share. Started on a port of 127.0.0.1 with the
//! environment a test adds, killed without warning, its peak resident memory read.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use as2_store::{Database, PoolOptions, Store};

use crate::raw::peak_rss;
use crate::seed::MASTER_KEY;

/// A running gateway process; killed when dropped.
#[derive(Debug)]
pub struct GatewayProcess {
    child: Child,
    /// Where it listens for AS2.
    pub addr: SocketAddr,
}

impl GatewayProcess {
    /// Starts `binary` (the test's `env!("CARGO_BIN_EXE_as2-gateway")`) with `args` over the
    /// store in `data`, listening on `port`, with `env` on top of the basics (the data
    /// directory, the test master key, no metrics listener, errors only in the log); returns
    /// once the port accepts connections.
    ///
    /// # Panics
    /// When the binary cannot be started or does not listen within 30 s.
    pub fn start(
        binary: &str,
        args: &[&str],
        data: &Path,
        port: u16,
        env: &[(&str, String)],
    ) -> Self {
        let mut command = Command::new(binary);
        command
            .args(args)
            .env("AS2_DATA_DIR", data)
            .env("AS2_MASTER_KEY", MASTER_KEY)
            .env("AS2_GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("AS2_METRICS_LISTEN", "off")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("the gateway binary starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the gateway did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// The process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's peak resident memory so far (`VmHWM`), in bytes.
    ///
    /// # Panics
    /// When `/proc` cannot be read.
    pub fn peak_rss(&self) -> u64 {
        peak_rss(self.child.id()).expect("VmHWM of the gateway")
    }

    /// SIGKILL: no graceful shutdown, no chance to finish anything.
    ///
    /// # Panics
    /// When the process cannot be killed.
    pub fn kill(mut self) {
        self.child.kill().expect("kill the gateway");
        self.child.wait().expect("reap the gateway");
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 free right now.
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The migrated SQLite store in `data`, sealed with the test master key.
///
/// # Panics
/// When the database cannot be opened or migrated.
pub fn open_store(data: &Path) -> Store {
    let url = format!("sqlite://{}", data.join("as2.sqlite3").display());
    let db = Database::connect(&url, &PoolOptions::default()).expect("open the store");
    db.migrate().expect("migrate the store");
    Store::new(
        db,
        as2_store::secrets::SecretBox::parse(MASTER_KEY).expect("the test master key"),
    )
}
