//! `api-server`: the REST API. `serve [--migrate]` runs it, `migrate` applies migrations.
//!
//! Configuration comes from the environment (see README.md): `DATABASE_URL`, `AS2_DATA_DIR`,
//! `AS2_MASTER_KEY`, `AS2_API_LISTEN`, `AS2_PUBLIC_AS2_URL`, `AS2_LOG_FORMAT`, `RUST_LOG`.

// A server binary: it prints the bootstrap key to the terminal on purpose.
#![allow(clippy::print_stdout)]

mod config;

use std::net::SocketAddr;

use anyhow::Context;
use as2_api::{ApiConfig, AppState};
use as2_store::payload::PayloadStore;
use as2_store::{Database, PoolOptions, Store};
use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "api-server", version, about = "The AS2 platform's REST API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// Apply pending migrations before serving.
        #[arg(long)]
        migrate: bool,
        /// Listen address (overrides AS2_API_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Apply pending migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    as2_process::logging::init(config.json_logs);
    match cli.command {
        Command::Migrate => {
            let applied = as2_store::migrate(&config.database_url).context("migrating")?;
            tracing::info!(applied, database = %as2_store::redact(&config.database_url), "migrations applied");
            Ok(())
        }
        Command::Serve { migrate, listen } => serve(config, migrate, listen).await,
    }
}

async fn serve(config: Config, migrate: bool, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let db = Database::connect(&config.database_url, &PoolOptions::default())
        .with_context(|| format!("connecting to {}", as2_store::redact(&config.database_url)))?;
    if migrate {
        let applied = db.migrate().context("migrating")?;
        tracing::info!(applied, "migrations applied");
    } else if db.pending_migrations()? > 0 {
        anyhow::bail!(
            "the database has pending migrations: run `api-server migrate` or `serve --migrate`"
        );
    }
    let secrets = config.secrets()?;
    let store = Store::new(db, secrets);
    if let Some(boot) = as2_api::bootstrap::bootstrap(&store, &config.station_as2_id)? {
        println!(
            "First start: created {} with tenant {}.",
            boot.account_id, boot.tenant_id
        );
        println!("Test API key (shown once, store it now): {}", boot.test_key);
    }
    let payloads = PayloadStore::open(config.data_dir.join("payloads"))
        .context("opening the payload store")?;
    let mut api_config = ApiConfig {
        public_as2_url: config.public_as2_url.clone(),
        public_as2_test_url: config.public_as2_test_url.clone(),
        tsa: config.tsa.clone(),
        ..ApiConfig::default()
    };
    if let Some(per_minute) = config.enterprise_rate_limit {
        api_config.enterprise_limits = as2_api::rate_limit::Limits {
            per_minute,
            burst: per_minute,
        };
    }
    let app = as2_api::router(AppState::new(store, payloads, api_config));
    let addr = listen.unwrap_or(config.api_listen);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "api-server listening");
    println!("API listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(as2_process::shutdown::signal())
        .await?;
    tracing::info!("api-server stopped");
    Ok(())
}
