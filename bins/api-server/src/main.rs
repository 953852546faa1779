//! `api-server`: the REST API. `serve [--migrate]` runs it, `migrate` applies migrations,
//! `create-key` makes a key for the operator (the first live key: no test key can create
//! one through the API), `rotate-master-key` re-seals the secrets at rest under the current
//! master key (docs/OPERATIONS.md), `user create` makes a console user (the password read
//! from stdin or generated and printed once).
//!
//! Configuration comes from the environment (see README.md): `DATABASE_URL`, `AS2_DATA_DIR`,
//! `AS2_MASTER_KEY`, `AS2_PREVIOUS_MASTER_KEYS`, `AS2_API_LISTEN`, `AS2_API_TLS_CERT`/`AS2_API_TLS_KEY`, `AS2_ALLOW_PLAIN_HTTP`,
//! `AS2_TRUSTED_PROXIES`, `AS2_TLS_RELOAD_SECS`, `AS2_PUBLIC_AS2_URL`, `AS2_LOG_FORMAT`, `RUST_LOG`.

// A server binary: it prints the bootstrap key to the terminal on purpose.
#![allow(clippy::print_stdout)]

mod config;
mod rotate;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use as2_api::{ApiConfig, AppState};
use as2_domain::Mode;
use as2_domain::api_key::KeyKind;
use as2_domain::id::TenantId;
use as2_domain::user::Role;
use as2_engine::http_client::OutboundClient;
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
    /// Create an API key with every scope and print its secret once (how an operator gets
    /// the first live key).
    CreateKey {
        /// The tenant (`tnt_000001`): the key's tenant (`tk`), or whose account it serves (`pk`).
        #[arg(long)]
        tenant: String,
        /// `test` or `live`.
        #[arg(long)]
        mode: String,
        /// `tk` (one tenant) or `pk` (every tenant of the account).
        #[arg(long, default_value = "tk")]
        kind: String,
        /// The key's name, shown in lists.
        #[arg(long)]
        name: String,
    },
    /// Re-seal every secret at rest under AS2_MASTER_KEY, opening the old values with
    /// AS2_PREVIOUS_MASTER_KEYS; safe while the platform runs, resumed by running it again.
    RotateMasterKey {
        /// Rows read and written per batch.
        #[arg(long, default_value_t = 200)]
        batch_size: usize,
        /// Pause between batches, in milliseconds (spares a busy database).
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
    },
    /// Console users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a console user with a role in a tenant; without `--password-stdin` a password
    /// is generated and printed once.
    Create {
        /// The sign-in email (unique in the installation).
        #[arg(long)]
        email: String,
        /// `owner`, `admin`, `operator` or `viewer`.
        #[arg(long)]
        role: String,
        /// The tenant (`tnt_000001`).
        #[arg(long)]
        tenant: String,
        /// The name shown in the console (default: the email).
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
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
        Command::CreateKey {
            tenant,
            mode,
            kind,
            name,
        } => create_key(&config, &tenant, &mode, &kind, &name),
        Command::RotateMasterKey {
            batch_size,
            pause_ms,
        } => rotate::rotate_master_key(&config, batch_size, Duration::from_millis(pause_ms)).await,
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    role,
                    tenant,
                    name,
                    password_stdin,
                },
        } => create_user(&config, &email, &role, &tenant, &name, password_stdin),
    }
}

fn open_store(config: &Config) -> anyhow::Result<Store> {
    let db = Database::connect(
        &config.database_url,
        &PoolOptions::from_env().map_err(anyhow::Error::msg)?,
    )
    .with_context(|| format!("connecting to {}", as2_store::redact(&config.database_url)))?;
    if db.pending_migrations()? > 0 {
        anyhow::bail!("the database has pending migrations: run `api-server migrate` first");
    }
    Ok(Store::new(db, config.secrets()?))
}

fn create_user(
    config: &Config,
    email: &str,
    role: &str,
    tenant: &str,
    name: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let tenant: TenantId = tenant
        .parse()
        .map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let role: Role = role.parse().map_err(|_| {
        anyhow::anyhow!("--role must be `owner`, `admin`, `operator` or `viewer`, not {role:?}")
    })?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let store = open_store(config)?;
    let made = as2_api::console_users::create_user(
        &store,
        email,
        name,
        password.as_deref(),
        tenant,
        role,
    )?;
    tracing::info!(user = %made.user.id, %tenant, %role, "console user created by the operator");
    println!(
        "{} ({}) is {role} of {tenant}.",
        made.user.email, made.user.id
    );
    if let Some(password) = made.generated_password {
        println!("Password (shown once, store it now): {password}");
    }
    Ok(())
}

fn create_key(
    config: &Config,
    tenant: &str,
    mode: &str,
    kind: &str,
    name: &str,
) -> anyhow::Result<()> {
    let tenant: TenantId = tenant
        .parse()
        .map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let mode: Mode = mode
        .parse()
        .map_err(|_| anyhow::anyhow!("--mode must be `test` or `live`, not {mode:?}"))?;
    let kind = match kind {
        "tk" => KeyKind::Tenant,
        "pk" => KeyKind::Account,
        other => {
            anyhow::bail!("--kind must be `tk` (one tenant) or `pk` (the account), not {other:?}")
        }
    };
    let store = open_store(config)?;
    let made = as2_api::bootstrap::operator_key(&store, tenant, kind, mode, name)?;
    tracing::info!(
        tenant = %made.tenant_id,
        account = %made.account_id,
        %mode,
        prefix = %made.key.display_prefix,
        "API key created by the operator"
    );
    println!(
        "{mode} key for tenant {} (account {}), every scope; shown once, store it now:",
        made.tenant_id, made.account_id
    );
    println!("{}", made.key.secret);
    Ok(())
}

async fn serve(config: Config, migrate: bool, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    // the listener's certificate and the plain-HTTP rule first: a bad setting stops the start
    // before anything else is done
    let addr = listen.unwrap_or(config.api_listen);
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
        if let Some(owner) = as2_api::console_users::bootstrap_owner(
            &store,
            &config.console_owner_email,
            boot.tenant_id,
        )? {
            println!(
                "Console owner {} (password shown once, store it now): {}",
                owner.user.email,
                owner.generated_password.unwrap_or_default()
            );
        }
    }
    // AS2_PAYLOAD_STORE (default: <AS2_DATA_DIR>/payloads), see docs/OPERATIONS.md
    let payloads = as2_payload_s3::from_env(&config.data_dir.join("payloads"))
        .context("opening the payload store (AS2_PAYLOAD_STORE)")?;
    tracing::info!(payloads = %payloads.describe(), "payload store");
    let mut api_config = ApiConfig {
        public_as2_url: config.public_as2_url.clone(),
        public_as2_test_url: config.public_as2_test_url.clone(),
        tsa: config.tsa.clone(),
        destinations: config.destinations.clone(),
        rate_limit_store: config.rate_limit_store,
        tsa_transport: Some(Arc::new(
            OutboundClient::new(
                config.destinations.clone(),
                concat!("as2-platform-tsa/", env!("CARGO_PKG_VERSION")),
                Duration::from_secs(30),
            )
            .context("building the TSA's HTTP client")?,
        )),
        connection_tester: Some(Arc::new(as2_engine::connection_test::NetworkTester::new(
            config.destinations.clone(),
            Duration::from_secs(10),
        ))),
        body_deadlines: config.body_deadlines,
        console: as2_api::console::ConsoleConfig {
            secure_cookie: prepared.scheme() == "https",
            lockout: as2_domain::user::LockoutPolicy {
                max_failures: config.console_max_failures,
                ..as2_domain::user::LockoutPolicy::default()
            },
            ..as2_api::console::ConsoleConfig::default()
        },
        ..ApiConfig::default()
    };
    if let Some(per_minute) = config.enterprise_rate_limit {
        api_config.enterprise_limits = as2_api::rate_limit::Limits {
            per_minute,
            burst: per_minute,
            concurrent: api_config.enterprise_limits.concurrent,
        };
    }
    let app = as2_api::router(AppState::new(store, payloads, api_config));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let reload = prepared.certificate.clone().map(|certificate| {
        let mut stop = stop_rx.clone();
        tokio::spawn(
            certificate.watch("api-server", config.listener.reload_interval, async move {
                let _ = stop.wait_for(|s| *s).await;
            }),
        )
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let scheme = prepared.scheme();
    tracing::info!(%addr, scheme, "api-server listening");
    // written, not printed: a server whose standard output was closed keeps serving
    let local = listener.local_addr()?;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "API listening on {scheme}://{local}");
    let _ = writeln!(out, "Console on {scheme}://{local}/console");
    let _ = out.flush();
    // the gateway's server loop: TLS, a header read timeout, a cap on open connections
    as2_engine::serve::serve_with(
        listener,
        app,
        as2_engine::serve::ServeOptions::default(),
        prepared.transport,
        as2_process::shutdown::signal(),
    )
    .await;
    let _ = stop_tx.send(true);
    if let Some(reload) = reload {
        let _ = reload.await;
    }
    tracing::info!("api-server stopped");
    Ok(())
}
