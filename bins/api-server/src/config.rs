//! Configuration from the environment, with the defaults DESIGN.md fixes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use as2_domain::destination::{ALLOW_VAR, DestinationPolicy};
use as2_process::env::var;
use as2_process::listener::ListenerSettings;
use as2_store::secrets::SecretBox;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL` (default: SQLite under the data directory).
    pub database_url: String,
    /// `AS2_DATA_DIR` (default `./data`).
    pub data_dir: PathBuf,
    /// `AS2_MASTER_KEY` (default: generated into the data directory).
    pub master_key: Option<String>,
    /// `AS2_PREVIOUS_MASTER_KEYS`: older master keys (comma-separated) that still open
    /// secrets sealed before a rotation, never used to seal.
    pub previous_master_keys: Option<String>,
    /// `AS2_API_LISTEN` (default `127.0.0.1:8080`).
    pub api_listen: SocketAddr,
    /// The API listener's TLS (`AS2_API_TLS_CERT` + `AS2_API_TLS_KEY`, PEM; reloaded every
    /// `AS2_TLS_RELOAD_SECS` and on SIGHUP), `AS2_ALLOW_PLAIN_HTTP` (plain HTTP off loopback)
    /// and `AS2_TRUSTED_PROXIES` (whose forwarding headers the access log believes).
    pub listener: ListenerSettings,
    /// `AS2_PUBLIC_AS2_URL` (default `http://127.0.0.1:8081/as2/receive`).
    pub public_as2_url: String,
    /// `AS2_PUBLIC_AS2_TEST_URL` (default: the live URL with `/as2/test/receive`).
    pub public_as2_test_url: Option<String>,
    /// `AS2_STATION_ID`: the AS2 ID of the first station made on bootstrap.
    pub station_as2_id: String,
    /// `AS2_CONSOLE_OWNER_EMAIL`: the first console owner's email, made at the first start
    /// (default `owner@as2.localhost`).
    pub console_owner_email: String,
    /// `AS2_CONSOLE_MAX_FAILURES`: failed console sign-ins of one email or address within
    /// 15 minutes before it is locked out for 15 minutes (default 5).
    pub console_max_failures: u32,
    /// How long a request body may take (`AS2_API_BODY_TIMEOUT_SECS`, whole;
    /// `AS2_API_BODY_IDLE_TIMEOUT_SECS`, the longest pause).
    pub body_deadlines: as2_api::body_deadline::BodyDeadlines,
    /// `AS2_ENTERPRISE_RATE_LIMIT`: requests per minute (and burst) of Enterprise accounts.
    pub enterprise_rate_limit: Option<u32>,
    /// `AS2_RATE_LIMIT_STORE`: `auto` (the default: the database on PostgreSQL, this
    /// process on SQLite), `process` or `database`.
    pub rate_limit_store: as2_api::rate_limit_shared::RateLimitStore,
    /// `AS2_LOG_FORMAT`: `json` or `text`.
    pub json_logs: bool,
    /// `AS2_TSA_URL` + `AS2_TSA_CERT`: the RFC 3161 TSA of trust evidence (default: built in).
    pub tsa: as2_trust::stamper::TsaConfig,
    /// `AS2_OUTBOUND_ALLOW`: networks (comma-separated CIDRs) partner, MDN and webhook URLs
    /// and the TSA may be at although they are loopback, private, link-local or otherwise
    /// special (default: none).
    pub destinations: DestinationPolicy,
}

/// A positive number of seconds from `name`, or `default`.
fn seconds(name: &str, default: u64) -> anyhow::Result<Duration> {
    let secs = var(name)
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| format!("{name} must be a positive number of seconds"))
        })
        .transpose()?
        .unwrap_or(default);
    Ok(Duration::from_secs(secs))
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let data_dir = PathBuf::from(var("AS2_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("as2.sqlite3").display()));
        let api_listen = var("AS2_API_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("AS2_API_LISTEN must be an address such as 127.0.0.1:8080")?;
        Ok(Self {
            database_url,
            master_key: var("AS2_MASTER_KEY"),
            previous_master_keys: var("AS2_PREVIOUS_MASTER_KEYS"),
            api_listen,
            listener: ListenerSettings::from_env("the API", "AS2_API_TLS_CERT", "AS2_API_TLS_KEY")?,
            public_as2_url: var("AS2_PUBLIC_AS2_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8081/as2/receive".into()),
            public_as2_test_url: var("AS2_PUBLIC_AS2_TEST_URL"),
            station_as2_id: var("AS2_STATION_ID").unwrap_or_else(|| "AS2PLATFORM".into()),
            console_owner_email: var("AS2_CONSOLE_OWNER_EMAIL")
                .unwrap_or_else(|| "owner@as2.localhost".into()),
            console_max_failures: var("AS2_CONSOLE_MAX_FAILURES")
                .map(|v| {
                    v.parse::<u32>()
                        .ok()
                        .filter(|n| *n > 0)
                        .context("AS2_CONSOLE_MAX_FAILURES must be a positive number of failures")
                })
                .transpose()?
                .unwrap_or(5),
            body_deadlines: as2_api::body_deadline::BodyDeadlines {
                whole: seconds("AS2_API_BODY_TIMEOUT_SECS", 300)?,
                idle: seconds("AS2_API_BODY_IDLE_TIMEOUT_SECS", 30)?,
            },
            enterprise_rate_limit: var("AS2_ENTERPRISE_RATE_LIMIT")
                .map(|v| {
                    v.parse().context(
                        "AS2_ENTERPRISE_RATE_LIMIT must be a number of requests per minute",
                    )
                })
                .transpose()?,
            rate_limit_store: var("AS2_RATE_LIMIT_STORE")
                .map(|v| v.parse().map_err(anyhow::Error::msg))
                .transpose()
                .context("AS2_RATE_LIMIT_STORE")?
                .unwrap_or_default(),
            json_logs: var("AS2_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
            tsa: as2_trust::stamper::TsaConfig::from_env().map_err(anyhow::Error::msg)?,
            destinations: DestinationPolicy::parse(&var(ALLOW_VAR).unwrap_or_default())
                .with_context(|| format!("{ALLOW_VAR} must be comma-separated CIDRs"))?,
            data_dir,
        })
    }

    /// The secret box (the master key from the environment or the data directory).
    pub fn secrets(&self) -> anyhow::Result<SecretBox> {
        as2_process::secrets::load(
            self.master_key.as_deref(),
            self.previous_master_keys.as_deref(),
            &self.data_dir,
        )
        .context("loading the master key")
    }
}
