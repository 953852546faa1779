//! Who used the two cores during a measured window: the gateway, the load generator (this
//! process) and the database server (every `postgres` process), read from `/proc`, so that a
//! row can say where a message's CPU went besides the gateway.

use anyhow::{Context as _, Result};

/// utime + stime of `pid` (a process, all its threads), in milliseconds.
pub(crate) fn process_ms(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    ticks_ms(&stat).context("a malformed /proc stat line")
}

/// utime + stime of this process, in milliseconds.
pub(crate) fn own_ms() -> Result<f64> {
    process_ms(std::process::id())
}

/// utime + stime of every process whose command name is `name`, in milliseconds (processes
/// that end within a window are not counted: PostgreSQL's backends live as long as the
/// gateway's pooled connections).
pub(crate) fn named_ms(name: &str) -> f64 {
    named(name)
        .iter()
        .filter_map(|(_, stat)| ticks_ms(stat))
        .sum()
}

/// The pids of every process whose command name is `name`.
pub(crate) fn pids_named(name: &str) -> Vec<u32> {
    named(name).into_iter().map(|(pid, _)| pid).collect()
}

/// Every process whose command name is `name`: its pid and its `/proc/<pid>/stat` line.
fn named(name: &str) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            (command(&stat) == Some(name)).then_some((pid, stat))
        })
        .collect()
}

/// The command name of a `/proc/<pid>/stat` line (between the parentheses).
fn command(stat: &str) -> Option<&str> {
    let start = stat.find('(')? + 1;
    let end = stat.rfind(')')?;
    stat.get(start..end)
}

/// utime + stime of a `/proc/<pid>/stat` line, in milliseconds.
fn ticks_ms(stat: &str) -> Option<f64> {
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0) // USER_HZ is 100 on Linux
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_its_command_and_cpu() {
        let line = "4242 (postgres) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 1 1 1";
        assert_eq!(command(line), Some("postgres"));
        assert_eq!(ticks_ms(line), Some(3250.0));
        assert_eq!(command("7 (a (b) c) R 1"), Some("a (b) c"));
    }
}
