//! `as2-gateway`: the AS2 endpoint (`POST /as2/receive` live, `/as2/test/receive` test, async
//! MDNs), Prometheus `/metrics` on its own listener, and the workers that
//! send queued messages, retry, post async MDNs and deliver webhooks. `serve [--migrate]`
//! runs it, `migrate` applies migrations. Configuration: see `config.rs` and README.md.

// A server binary: it prints its address to the terminal on purpose.
#![allow(clippy::print_stdout)]

mod config;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use as2_domain::public_url::{LIVE_PATH, TEST_PATH};
use as2_engine::WorkerConfig;
use as2_engine::gateway::{Gateway, GatewayConfig};
use as2_engine::http::metrics_router;
use as2_engine::http_client::OutboundClient;
use as2_engine::inbox::Inbox;
use as2_engine::outbound::OutboundConfig;
use as2_store::{Database, PoolOptions, Store};
use as2_trust::stamper::Stamper;
use clap::{Parser, Subcommand};
use tokio::sync::watch;

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "as2-gateway", version, about = "The AS2 platform's gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the AS2 endpoint and run the workers.
    Serve {
        /// Apply pending migrations before serving.
        #[arg(long)]
        migrate: bool,
        /// Listen address (overrides AS2_GATEWAY_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Run no workers (an endpoint-only instance).
        #[arg(long)]
        no_workers: bool,
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
        Command::Serve {
            migrate,
            listen,
            no_workers,
        } => serve(config, migrate, listen, no_workers).await,
    }
}

async fn serve(
    config: Config,
    migrate: bool,
    listen: Option<SocketAddr>,
    no_workers: bool,
) -> anyhow::Result<()> {
    // the listener's certificate and the plain-HTTP rule first: a bad setting stops the start
    // before anything else is done
    let addr = listen.unwrap_or(config.listen);
    let prepared = config.listener.prepare(addr)?;
    let db = Database::connect(
        &config.database_url,
        &PoolOptions::from_env().map_err(anyhow::Error::msg)?,
    )
    .with_context(|| format!("connecting to {}", as2_store::redact(&config.database_url)))?;
    if migrate {
        let applied = db.migrate().context("migrating")?;
        tracing::info!(applied, "migrations applied");
    } else if db.pending_migrations()? > 0 {
        anyhow::bail!(
            "the database has pending migrations: run `as2-gateway migrate` or `serve --migrate`"
        );
    }
    // The crypto provider, chosen here and passed to the engine: RSA private-key operations
    // on aws-lc-rs (docs/PERFORMANCE.md, "RSA: which implementation, and why").
    let crypto = &as2_crypto_aws_lc::DEFAULT_PROVIDER;
    let store = Arc::new(Store::new(db, config.secrets()?));
    // AS2_PAYLOAD_STORE (default: <AS2_DATA_DIR>/payloads), see docs/OPERATIONS.md
    let payloads = Arc::new(
        as2_payload_s3::from_env(&config.data_dir.join("payloads"))
            .context("opening the payload store (AS2_PAYLOAD_STORE)")?,
    );
    tracing::info!(payloads = %payloads.describe(), "payload store");
    let inbox = config
        .inbox_dir
        .as_ref()
        .map(|dir| Inbox::open(dir).map(Arc::new))
        .transpose()
        .context("opening AS2_INBOX_DIR")?;
    let gateway = Gateway::new(
        store.clone(),
        payloads,
        GatewayConfig {
            crypto,
            inbox,
            mic_choice: config.mic_choice,
            cem_policy: config.cem_policy,
            limits: config.inbound.clone(),
            worker: (!no_workers).then(|| WorkerConfig {
                concurrency: config.workers,
                lease: config.job_lease,
                outbound: OutboundConfig {
                    async_mdn_urls: config.public_as2_urls.clone(),
                    mdn_timeout: config.mdn_timeout,
                    unreachable_alert_after: config.unreachable_alert_after,
                    ..OutboundConfig::new(crypto)
                },
                destinations: config.destinations.clone(),
                mailer: config.mailer.clone(),
                ..WorkerConfig::new(crypto)
            }),
            maintenance: (
                Stamper::with_transport(
                    store.as_ref().clone(),
                    config.tsa.clone(),
                    Arc::new(
                        OutboundClient::new(
                            config.destinations.clone(),
                            concat!("as2-platform-tsa/", env!("CARGO_PKG_VERSION")),
                            Duration::from_secs(30),
                        )
                        .context("building the TSA's HTTP client")?,
                    ),
                ),
                config.maintenance_interval,
            ),
            orphan_grace: config.orphan_grace,
        },
    )
    .context("building the HTTP client")?;
    let metrics = gateway.metrics();
    let background = gateway.start_background();
    let (stop_tx, stop_rx) = watch::channel(false);
    if config.inbound.max_buffered_bytes < config.inbound.per_message_bytes() {
        tracing::warn!(
            "AS2_MAX_BUFFERED_BYTES is below what one message in flight reserves (AS2_MESSAGE_BUFFER_BYTES + 2 MiB): every message will be refused with 503"
        );
    }
    let metrics_server = match config.metrics_listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding AS2_METRICS_LISTEN {addr}"))?;
            tracing::info!(%addr, "metrics listening");
            let mut stop_gauges = stop_rx.clone();
            let gauges = tokio::spawn(as2_engine::metrics::refresh_gauges(
                metrics.clone(),
                store.clone(),
                config.metrics_refresh,
                async move {
                    let _ = stop_gauges.wait_for(|s| *s).await;
                },
            ));
            let mut stop_metrics = stop_rx.clone();
            let server = tokio::spawn(as2_engine::serve::serve(
                listener,
                metrics_router(metrics.clone()),
                config.serve_options(),
                async move {
                    let _ = stop_metrics.wait_for(|s| *s).await;
                },
            ));
            Some((server, gauges))
        }
        None => None,
    };
    let app = gateway.router();
    let reload = prepared.certificate.clone().map(|certificate| {
        let mut stop = stop_rx.clone();
        tokio::spawn(certificate.watch(
            "as2-gateway",
            config.listener.reload_interval,
            async move {
                let _ = stop.wait_for(|s| *s).await;
            },
        ))
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let scheme = prepared.scheme();
    tracing::info!(%addr, scheme, "as2-gateway listening");
    let local = listener.local_addr()?;
    println!(
        "AS2 endpoint on {scheme}://{local}{LIVE_PATH} (live) and {scheme}://{local}{TEST_PATH} (test)"
    );
    as2_engine::serve::serve_with(
        listener,
        app,
        config.serve_options(),
        prepared.transport,
        as2_process::shutdown::signal(),
    )
    .await;
    tracing::info!("HTTP stopped; stopping workers");
    let _ = stop_tx.send(true);
    background.stop().await;
    if let Some(reload) = reload {
        let _ = reload.await;
    }
    if let Some((server, gauges)) = metrics_server {
        let _ = server.await;
        let _ = gauges.await;
    }
    tracing::info!("as2-gateway stopped");
    Ok(())
}
