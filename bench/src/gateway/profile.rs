//! `perf record` attached to the gateway while a case is measured (`AS2_BENCH_PERF=DIR`), or
//! to the whole machine with `AS2_BENCH_PERF_SYSTEM=1` beside it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::Case;

/// `perf record` attached to the gateway while a case is measured, when `AS2_BENCH_PERF`
/// names a directory: one `perf-<case>.data` there per case (read it with `perf report -i`).
/// Stacks are unwound from DWARF (the release profile keeps no frame pointers); the gateway's
/// CPU figure then includes perf's sampling cost.
pub(crate) struct Profile(Option<Child>);

impl Profile {
    pub(crate) fn attach(case: &Case<'_>, pid: u32) -> Result<Self> {
        let Some(dir) = std::env::var_os("AS2_BENCH_PERF") else {
            return Ok(Self(None));
        };
        let name: String = format!(
            "perf-{}-{}-{}.data",
            case.backend,
            case.wire.label(),
            case.payloads.label()
        )
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
        let mut perf = Command::new("perf");
        perf.args(["record", "-F", "499"]);
        if std::env::var_os("AS2_BENCH_PERF_SYSTEM").is_some() {
            // every process on the machine (the database server and the load generator
            // beside the gateway), with frame-pointer stacks only
            perf.args(["-a", "-g"]);
        } else {
            perf.args(["--call-graph", "dwarf,16384", "-p"])
                .arg(pid.to_string());
        }
        let child = perf
            .arg("-o")
            .arg(Path::new(&dir).join(name))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("AS2_BENCH_PERF is set but perf cannot be started")?;
        // perf needs a moment to attach to every thread
        std::thread::sleep(Duration::from_millis(500));
        Ok(Self(Some(child)))
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            // SIGINT: perf writes its data file and exits
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}
