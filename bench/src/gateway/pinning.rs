//! `AS2_BENCH_GATEWAY_CORES=LIST` (a `taskset` CPU list, such as `0`): the gateway runs on
//! those cores only, and the load generator (this process) and the database server (every
//! `postgres` process, the postmaster included, so new backends inherit it) on the others.
//! The floor is then measured on the gateway's cores alone: what the gateway's own share of
//! the machine could do, with the processes that only serve the measurement off it, the way
//! a deployment puts the database and the partners on other machines. Unset, everything
//! shares every core, as before.

use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// The gateway's cores and the rest, when pinning is asked for.
#[derive(Clone, Debug)]
pub(crate) struct Pinning {
    /// The gateway's CPU list, as `taskset -c` takes it.
    pub(crate) gateway: String,
    /// Every other online CPU, as a list.
    pub(crate) others: String,
    /// How many cores the gateway has.
    pub(crate) gateway_cores: usize,
}

impl Pinning {
    /// From `AS2_BENCH_GATEWAY_CORES`; `None` when unset.
    pub(crate) fn from_env() -> Result<Option<Self>> {
        let Ok(list) = std::env::var("AS2_BENCH_GATEWAY_CORES") else {
            return Ok(None);
        };
        let online = std::thread::available_parallelism().map_or(1, usize::from);
        let gateway = parse_list(&list)?;
        let others: Vec<usize> = (0..online).filter(|c| !gateway.contains(c)).collect();
        if gateway.is_empty() || others.is_empty() || gateway.iter().any(|c| *c >= online) {
            bail!(
                "AS2_BENCH_GATEWAY_CORES={list:?} must name some but not all of the {online} cores"
            );
        }
        Ok(Some(Self {
            gateway: join(&gateway),
            others: join(&others),
            gateway_cores: gateway.len(),
        }))
    }

    /// Moves this process (every thread) onto `list`.
    pub(crate) fn move_self(list: &str) -> Result<()> {
        set_affinity(std::process::id(), list)
    }

    /// Moves every PostgreSQL process onto the other cores (one that ended meanwhile, a
    /// backend whose client went away, is no longer there to move).
    pub(crate) fn move_database(&self) {
        for pid in crate::gateway::cpu::pids_named("postgres") {
            let _ = set_affinity(pid, &self.others);
        }
    }

    /// Gives every PostgreSQL process and this one all cores back.
    fn release(&self) {
        let all = format!("{},{}", self.gateway, self.others);
        for pid in crate::gateway::cpu::pids_named("postgres") {
            let _ = set_affinity(pid, &all);
        }
        let _ = Self::move_self(&all);
    }
}

/// Gives the cores back when dropped ([`Pinning::release`]): the machine's PostgreSQL must
/// not stay on one core after the bench, whether it finished or failed.
pub(crate) struct Release<'a>(pub(crate) &'a Pinning);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// `taskset -a -p -c LIST PID`: every thread of `pid` onto `list`. A thread that ends while
/// taskset walks the process's threads (the floor's signing threads, just joined) fails the
/// call, so it is tried again a few times.
fn set_affinity(pid: u32, list: &str) -> Result<()> {
    let mut tries = 0;
    loop {
        let status = Command::new("taskset")
            .args(["-a", "-p", "-c", list, &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .context("running taskset (util-linux)")?;
        if status.success() {
            return Ok(());
        }
        tries += 1;
        if tries == 5 {
            bail!("taskset -a -p -c {list} {pid} failed with {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The CPUs of a list such as `0`, `0,2` or `0-1`.
fn parse_list(list: &str) -> Result<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => cpus.extend(from.parse::<usize>()?..=to.parse::<usize>()?),
            None => cpus.push(part.parse()?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

fn join(cpus: &[usize]) -> String {
    cpus.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_list_reads_as_taskset_writes_it() {
        assert_eq!(parse_list("0").unwrap(), vec![0]);
        assert_eq!(parse_list("2,0-1").unwrap(), vec![0, 1, 2]);
        assert!(parse_list("x").is_err());
        assert_eq!(join(&[0, 3]), "0,3");
    }
}
