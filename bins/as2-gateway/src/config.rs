//! Configuration from the environment (README.md lists every variable), with the defaults
//! DESIGN.md fixes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use as2_core::message::MicChoice;
use as2_domain::public_url::PublicAs2Urls;
use as2_engine::http::InboundLimits;
use as2_process::env::{number, var};
use as2_process::listener::ListenerSettings;
use as2_store::secrets::SecretBox;

/// The gateway's settings.
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
    /// `AS2_GATEWAY_LISTEN` (default `127.0.0.1:8081`).
    pub listen: SocketAddr,
    /// The AS2 listener's TLS (`AS2_GATEWAY_TLS_CERT` + `AS2_GATEWAY_TLS_KEY`, PEM; reloaded
    /// every `AS2_TLS_RELOAD_SECS` and on SIGHUP), `AS2_ALLOW_PLAIN_HTTP` (plain HTTP off
    /// loopback) and `AS2_TRUSTED_PROXIES` (whose forwarding headers the partner firewall
    /// believes).
    pub listener: ListenerSettings,
    /// `AS2_PUBLIC_AS2_URL` (default `http://127.0.0.1:8081/as2/receive`) and
    /// `AS2_PUBLIC_AS2_TEST_URL` (default: the live URL with `/as2/test/receive` for
    /// `/as2/receive`): where partners post live and test traffic, also our async MDN URL of
    /// each mode.
    pub public_as2_urls: PublicAs2Urls,
    /// `AS2_WORKERS`: jobs run at once (default 4).
    pub workers: usize,
    /// `AS2_MDN_TIMEOUT_SECS`: how long an async MDN may take (default 6 hours).
    pub mdn_timeout: Duration,
    /// After how many send attempts in a row without an answer a partner is announced
    /// unreachable (`AS2_ALERT_UNREACHABLE_ATTEMPTS`, 5 by default).
    pub unreachable_alert_after: u32,
    /// The AS2 endpoint's limits: `AS2_MAX_MESSAGE_BYTES` (the largest request body, default
    /// 1.5 GiB), `AS2_BODY_TIMEOUT_SECS` (3600: the whole body), `AS2_BODY_IDLE_TIMEOUT_SECS`
    /// (60: the longest pause inside a body), `AS2_MAX_CONCURRENT_REQUESTS` (64),
    /// `AS2_MAX_BUFFERED_BYTES` (256 MiB of request bodies held at once) and
    /// `AS2_MESSAGE_BUFFER_BYTES` (1 MiB: what the decoder of one message holds at most).
    pub inbound: InboundLimits,
    /// `AS2_HEADER_TIMEOUT_SECS` (30): how long a client may take to send its request headers.
    pub header_timeout: Duration,
    /// `AS2_MAX_CONNECTIONS` (1024): connections to the AS2 listener open at once.
    pub max_connections: usize,
    /// `AS2_METRICS_LISTEN` (default `127.0.0.1:9464`; empty or `off`: no metrics listener):
    /// where Prometheus `/metrics` is served, never on the AS2 listener.
    pub metrics_listen: Option<SocketAddr>,
    /// `AS2_METRICS_REFRESH_SECS` (30): how often the database gauges of `/metrics` are read.
    pub metrics_refresh: Duration,
    /// `AS2_JOB_LEASE_SECS`: how long a claimed job is a worker's before another may take
    /// it, after a crash (default 300).
    pub job_lease: Duration,
    /// `AS2_INBOX_DIR`: where received payloads are also written for the application
    /// (default: none; they are always in the payload store and the API).
    pub inbox_dir: Option<PathBuf>,
    /// `AS2_MIC_ALGORITHM`: for signed messages, `signature` (the signature's digest, the
    /// default: what every sender can compare) or `negotiated` (the partner's first requested
    /// `signed-receipt-micalg` when it does not list the signature's digest).
    pub mic_choice: MicChoice,
    /// `AS2_LOG_FORMAT`: `json` or `text`.
    pub json_logs: bool,
    /// `AS2_TSA_URL` + `AS2_TSA_CERT`: the RFC 3161 TSA of trust evidence (default: built in).
    pub tsa: as2_trust::stamper::TsaConfig,
    /// `AS2_CEM_POLICY`: `accept` (default: a partner's CEM request whose certificate is
    /// valid over the switch and the overlap is accepted at once) or `manual` (an operator
    /// answers through the API).
    pub cem_policy: as2_trust::cem::CemPolicy,
    /// `AS2_MAINTENANCE_INTERVAL_SECS` (30): how often trust transitions, pending time-stamps
    /// and certificate expiry are looked at.
    pub maintenance_interval: Duration,
    /// `AS2_ORPHAN_GRACE_SECS` (3600): how old a payload without a row (a crash between
    /// writing it and inserting its row) must be before the maintenance loop deletes it;
    /// longer than the longest upload (docs/OPERATIONS.md).
    pub orphan_grace: Duration,
    /// `AS2_OUTBOUND_ALLOW`: networks (comma-separated CIDRs) partners, async MDNs, webhooks
    /// and the TSA may be at although they are loopback, private, link-local or otherwise
    /// special (default: none).
    pub destinations: as2_domain::destination::DestinationPolicy,
    /// `AS2_SMTP_URL` + `AS2_SMTP_FROM`: the mail server email alerts go through and their
    /// sender (both or neither; without them no alert is emailed).
    pub mailer: Option<as2_engine::mail::Mailer>,
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let data_dir = PathBuf::from(var("AS2_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("as2.sqlite3").display()));
        let listen = var("AS2_GATEWAY_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8081".into())
            .parse()
            .context("AS2_GATEWAY_LISTEN must be an address such as 127.0.0.1:8081")?;
        Ok(Self {
            database_url,
            master_key: var("AS2_MASTER_KEY"),
            previous_master_keys: var("AS2_PREVIOUS_MASTER_KEYS"),
            listen,
            // partners may have to present a TLS client certificate (mutual TLS)
            listener: ListenerSettings::from_env(
                "the AS2 endpoint",
                "AS2_GATEWAY_TLS_CERT",
                "AS2_GATEWAY_TLS_KEY",
            )?
            .requesting_client_certificates(),
            public_as2_urls: PublicAs2Urls::new(
                var("AS2_PUBLIC_AS2_URL")
                    .unwrap_or_else(|| "http://127.0.0.1:8081/as2/receive".into()),
                var("AS2_PUBLIC_AS2_TEST_URL"),
            ),
            workers: number("AS2_WORKERS", 4)?,
            mdn_timeout: Duration::from_secs(number("AS2_MDN_TIMEOUT_SECS", 6 * 3600)?),
            unreachable_alert_after: u32::try_from(positive("AS2_ALERT_UNREACHABLE_ATTEMPTS", 5)?)
                .context("AS2_ALERT_UNREACHABLE_ATTEMPTS is too large")?,
            inbound: inbound_limits()?,
            header_timeout: Duration::from_secs(positive("AS2_HEADER_TIMEOUT_SECS", 30)?),
            max_connections: usize::try_from(positive("AS2_MAX_CONNECTIONS", 1024)?)
                .context("AS2_MAX_CONNECTIONS is too large")?,
            metrics_listen: match std::env::var("AS2_METRICS_LISTEN").ok().as_deref().map(str::trim) {
                None => Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
                Some("" | "off") => None,
                Some(addr) => Some(addr.parse().with_context(|| {
                    format!("AS2_METRICS_LISTEN must be an address such as 127.0.0.1:9464, or `off`, not {addr:?}")
                })?),
            },
            metrics_refresh: Duration::from_secs(positive("AS2_METRICS_REFRESH_SECS", 30)?),
            job_lease: Duration::from_secs(number("AS2_JOB_LEASE_SECS", 300)?),
            inbox_dir: var("AS2_INBOX_DIR").map(PathBuf::from),
            mic_choice: match var("AS2_MIC_ALGORITHM").as_deref() {
                None | Some("signature") => MicChoice::SignatureDigest,
                Some("negotiated") => MicChoice::Negotiated,
                Some(other) => anyhow::bail!(
                    "AS2_MIC_ALGORITHM must be `signature` or `negotiated`, not {other:?}"
                ),
            },
            json_logs: var("AS2_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
            tsa: as2_trust::stamper::TsaConfig::from_env().map_err(anyhow::Error::msg)?,
            cem_policy: match var("AS2_CEM_POLICY").as_deref() {
                None | Some("accept") => as2_trust::cem::CemPolicy::AcceptValid,
                Some("manual") => as2_trust::cem::CemPolicy::Manual,
                Some(other) => {
                    anyhow::bail!("AS2_CEM_POLICY must be `accept` or `manual`, not {other:?}")
                }
            },
            maintenance_interval: Duration::from_secs(number("AS2_MAINTENANCE_INTERVAL_SECS", 30)?),
            orphan_grace: Duration::from_secs(positive("AS2_ORPHAN_GRACE_SECS", 3600)?),
            destinations: as2_domain::destination::DestinationPolicy::parse(
                &var(as2_domain::destination::ALLOW_VAR).unwrap_or_default(),
            )
            .context("AS2_OUTBOUND_ALLOW must be comma-separated CIDRs")?,
            mailer: mailer(var("AS2_SMTP_URL"), var("AS2_SMTP_FROM"))?,
            data_dir,
        })
    }

    /// How the AS2 listener serves connections (the header read timeout, the connection cap).
    pub fn serve_options(&self) -> as2_engine::serve::ServeOptions {
        as2_engine::serve::ServeOptions {
            header_read_timeout: self.header_timeout,
            max_connections: self.max_connections,
            ..as2_engine::serve::ServeOptions::default()
        }
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

/// A whole number of at least 1 in `name`, or `default`.
fn positive(name: &str, default: u64) -> anyhow::Result<u64> {
    let value: u64 = number(name, default)?;
    anyhow::ensure!(value > 0, "{name} must be at least 1");
    Ok(value)
}

/// The smallest decoder buffer a message can be decoded in.
const MIN_MESSAGE_BUFFER_BYTES: u64 = 64 * 1024;

fn inbound_limits() -> anyhow::Result<InboundLimits> {
    let defaults = InboundLimits::default();
    let limits = InboundLimits {
        max_message_bytes: number("AS2_MAX_MESSAGE_BYTES", defaults.max_message_bytes)?,
        body_timeout: Duration::from_secs(positive(
            "AS2_BODY_TIMEOUT_SECS",
            defaults.body_timeout.as_secs(),
        )?),
        body_idle_timeout: Duration::from_secs(positive(
            "AS2_BODY_IDLE_TIMEOUT_SECS",
            defaults.body_idle_timeout.as_secs(),
        )?),
        max_concurrent_requests: usize::try_from(positive(
            "AS2_MAX_CONCURRENT_REQUESTS",
            u64::try_from(defaults.max_concurrent_requests).unwrap_or(64),
        )?)
        .context("AS2_MAX_CONCURRENT_REQUESTS is too large")?,
        max_buffered_bytes: positive("AS2_MAX_BUFFERED_BYTES", defaults.max_buffered_bytes)?,
        message_buffer_bytes: number("AS2_MESSAGE_BUFFER_BYTES", defaults.message_buffer_bytes)?,
    };
    anyhow::ensure!(
        limits.message_buffer_bytes >= MIN_MESSAGE_BUFFER_BYTES,
        "AS2_MESSAGE_BUFFER_BYTES must be at least {MIN_MESSAGE_BUFFER_BYTES} (a signature part and the recipients are held whole)"
    );
    Ok(limits)
}

/// The alerts' mail server: both variables or neither.
fn mailer(
    url: Option<String>,
    from: Option<String>,
) -> anyhow::Result<Option<as2_engine::mail::Mailer>> {
    match (url, from) {
        (None, None) => Ok(None),
        (Some(url), Some(from)) => Ok(Some(as2_engine::mail::Mailer::new(&url, &from)?)),
        (Some(_), None) => {
            anyhow::bail!("AS2_SMTP_URL is set: set AS2_SMTP_FROM too (the alerts' sender)")
        }
        (None, Some(_)) => {
            anyhow::bail!("AS2_SMTP_FROM is set: set AS2_SMTP_URL too (the mail server)")
        }
    }
}
