//! `cargo xtask`: project automation (migrations, the test suite, benchmarks).
//!
//! Run `cargo xtask --help`. Each subcommand lives in its own module; this file only
//! parses the command line and dispatches.

// A command-line tool: printing to the terminal is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod bench_report;
mod db;
mod paths;
mod schemathesis;
mod test;
#[cfg(test)]
mod tidy;
mod up;

use clap::{Parser, Subcommand};

/// Project automation for the AS2 platform.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations (default: the embedded SQLite file under the data directory).
    Migrate {
        /// `sqlite://PATH` or `postgres://…`; defaults to `DATABASE_URL`, then SQLite under `AS2_DATA_DIR`.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Write an empty migration for both backends (`migrations/sqlite` and `migrations/postgres`).
    NewMigration {
        /// Short snake_case name, e.g. `add_partner_notes`.
        name: String,
    },
    /// Run the whole test suite: SQLite always, PostgreSQL when `AS2_TEST_POSTGRES_URL` is reachable.
    Test {
        /// Extra arguments passed to the test runner (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Run schemathesis against a real api-server's OpenAPI document (no 5xx, schema and status conformance).
    Schemathesis,
    /// Build and start the platform on the embedded SQLite database (prints the URLs and the first key).
    Up,
    /// Run the benchmarks and print where the figures go (docs/PERFORMANCE.md).
    Bench {
        /// Which benchmark set: `core` (codec), `api` (REST API under wrk), `gateway` (AS2
        /// receive under load), `big` (a 1 GiB file end to end, peak memory), or `all`.
        #[arg(default_value = "all")]
        target: String,
    },
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Revert every migration and apply them again (a SQLite file is deleted and recreated).
    Reset {
        #[arg(long)]
        database_url: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Migrate { database_url } => db::migrate(database_url),
        Command::Db {
            command: DbCommand::Reset { database_url },
        } => db::reset(database_url),
        Command::NewMigration { name } => db::new_migration(&name),
        Command::Test { args } => test::run(&args),
        Command::Up => up::run(),
        Command::Schemathesis => schemathesis::run(),
        Command::Bench { target } => bench::run(&target),
    }
}

#[cfg(test)]
mod cli_tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
