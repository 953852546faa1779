//! `as2-bench`: the load generators behind `cargo xtask bench api|gateway|big`, in a crate of
//! their own so that xtask's everyday commands (migrations, tests) do not compile the
//! platform. Each set prints its figures and writes `<target>/bench-<set>-summary.md`.

// A command-line tool: printing to the terminal is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod api;
mod big;
mod floor;
mod gateway;
mod paths;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let set = args.get(1).map_or("", String::as_str);
    match set {
        "api" => api::run(),
        "gateway" => gateway::run(),
        "big" => big::run(),
        // a reference receiver of `bench gateway`, started by it in a process of its own
        "reference" => gateway::reference::serve(&args[2..]),
        other => anyhow::bail!("unknown load benchmark {other:?} (expected api, gateway or big)"),
    }
}
