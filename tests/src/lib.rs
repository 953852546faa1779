//! The end-to-end harness: one platform (the API router and the gateway router, each on its
//! own 127.0.0.1 port served by the gateway's server loop, the job worker and the maintenance
//! loop) over a fresh database, two tenants with their test keys, and a capture server for
//! webhooks. Everything talks real HTTP; the tenants' stations are test-mode stations, so
//! partners post to the gateway's test URL (`/as2/test/receive`).

pub use as2_test_support::listener;
pub mod api;
pub mod cluster;
pub mod link;
pub mod process;
pub mod proxy;
pub mod raw;
pub mod seed;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use as2_api::bootstrap::{bootstrap, create_key};
use as2_api::{ApiConfig, AppState};
use as2_domain::Mode;
use as2_domain::api_key::KeyKind;
use as2_domain::destination::DestinationPolicy;
use as2_domain::plan::Plan;
use as2_domain::public_url::{LIVE_PATH, PublicAs2Urls, TEST_PATH};
use as2_engine::WorkerConfig;
use as2_engine::gateway::{Background, Gateway, GatewayConfig};
use as2_engine::http::InboundLimits;
use as2_engine::inbox::Inbox;
use as2_engine::outbound::OutboundConfig;
use as2_engine::serve::{ServeOptions, Transport};
use as2_payload_s3::S3Config;
use as2_store::payload::PayloadStore;
use as2_store::testing::TestDb;
use as2_test_support::s3::S3Server;
use serde_json::{Value, json};

/// A running platform.
#[derive(Debug)]
pub struct Platform {
    /// The database (dropped last).
    pub db: TestDb,
    /// The API's base URL.
    pub api_url: String,
    /// The gateway's AS2 URL for test-mode stations (`…/as2/test/receive`), the one every
    /// tenant of the harness is reached on.
    pub as2_url: String,
    /// The gateway's AS2 URL for live-mode stations (`…/as2/receive`).
    pub live_as2_url: String,
    /// The gateway's address (`127.0.0.1:port`).
    pub gateway_addr: SocketAddr,
    /// Where the gateway delivers received payloads for the application.
    pub inbox: std::path::PathBuf,
    /// Tenant A's test key (the bootstrap account).
    pub key_a: String,
    /// Tenant B's test key (a second account).
    pub key_b: String,
    /// The payload store the API and the gateway share.
    pub payloads: PayloadStore,
    http: reqwest::Client,
    background: Background,
    _dir: tempfile::TempDir,
    _s3: Option<Arc<S3Server>>,
}

/// How the harness's gateway is set up, beyond the defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// The AS2 endpoint's limits (the harness's default: 64 MiB bodies, the rest as the
    /// gateway's defaults).
    pub limits: InboundLimits,
    /// The gateway's header read timeout.
    pub header_timeout: Duration,
    /// The destination policy of the API, the worker and the TSA client
    /// (`AS2_OUTBOUND_ALLOW`); loopback is allowed, as everything here is on 127.0.0.1.
    pub destinations: DestinationPolicy,
    /// What both listeners speak (TLS or plain HTTP) and which proxies they believe.
    pub transport: Transport,
    /// The CA certificate (PEM) the harness's own HTTP client trusts, with TLS.
    pub ca_pem: Option<String>,
    /// Payloads in a bucket of this S3 server instead of a temporary directory (the
    /// platform keeps the server running).
    pub s3: Option<Arc<S3Server>>,
    /// The largest payload kept in its message row (`AS2_INLINE_PAYLOAD_BYTES`; 0: every
    /// payload an object of the payload store).
    pub inline_payload_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: InboundLimits {
                max_message_bytes: 64 * 1024 * 1024,
                ..InboundLimits::default()
            },
            header_timeout: Duration::from_secs(30),
            destinations: DestinationPolicy::loopback(),
            transport: Transport::default(),
            ca_pem: None,
            s3: None,
            inline_payload_bytes: as2_store::payload::DEFAULT_INLINE_PAYLOAD_BYTES,
        }
    }
}

/// The payload store of a platform: a bucket of its own on `s3`, else under `dir`.
fn payload_store(s3: Option<&S3Server>, dir: &std::path::Path) -> Result<PayloadStore> {
    let Some(server) = s3 else {
        return Ok(PayloadStore::open(dir)?);
    };
    static PLATFORMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = PLATFORMS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let bucket = format!("as2-e2e-{}-{n}", std::process::id());
    server.create_bucket(&bucket);
    let config = S3Config::from_url(&format!("s3://{bucket}/platform"), |name| server.var(name))?;
    Ok(as2_payload_s3::open_s3(config)?)
}

async fn serve(app: axum::Router, options: &Options) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    serve_on(listener, app, options);
    Ok(addr)
}

/// Serves `app` on `listener` with the gateway's server loop until the process ends.
fn serve_on(listener: tokio::net::TcpListener, app: axum::Router, options: &Options) {
    tokio::spawn(as2_engine::serve::serve_with(
        listener,
        app,
        ServeOptions {
            header_read_timeout: options.header_timeout,
            ..ServeOptions::default()
        },
        options.transport.clone(),
        std::future::pending(),
    ));
}

/// The harness's HTTP client, trusting `ca_pem` too when given.
///
/// # Errors
/// The CA is not PEM, or the client cannot be built.
pub fn client(ca_pem: Option<&str>) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if let Some(ca) = ca_pem {
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes())?);
    }
    Ok(builder.build()?)
}

impl Platform {
    /// Starts the API, the gateway and a worker over `db`; they may connect to loopback
    /// (everything here is on 127.0.0.1), which the platform refuses by default.
    pub async fn start(db: TestDb) -> Result<Self> {
        Self::start_with(db, Options::default()).await
    }

    /// Starts the API, the gateway (with `options`) and a worker over `db`.
    pub async fn start_with(db: TestDb, options: Options) -> Result<Self> {
        let destinations = options.destinations.clone();
        let s3 = options.s3.clone();
        let dir = tempfile::tempdir()?;
        let boot = bootstrap(&db.store, "TENANT-A")?.context("bootstrap on an empty db")?;
        let account_b = db
            .store
            .accounts()
            .create_account("B", Plan::Professional)?;
        let tenant_b = db.store.accounts().create_tenant(account_b.id, "B")?;
        let key_b = create_key(
            &db.store,
            account_b.id,
            Some(tenant_b.id),
            KeyKind::Tenant,
            Mode::Test,
            "e2e",
        )?
        .secret;
        let store = Arc::new(db.store.clone());
        let payloads = payload_store(options.s3.as_deref(), dir.path())?
            .with_inline_limit(options.inline_payload_bytes);
        let inbox = dir.path().join("inbox");
        // the gateway's address is needed for its own async-MDN URLs: bind first
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let gateway = listener.local_addr()?;
        let scheme = if options.transport.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let live_as2_url = format!("{scheme}://{gateway}{LIVE_PATH}");
        let as2_url = format!("{scheme}://{gateway}{TEST_PATH}");
        let crypto = &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
        let api_state = AppState::new(
            db.store.clone(),
            payloads.clone(),
            ApiConfig {
                destinations: destinations.clone(),
                // what the API names as our AS2 URLs (a CEM's ResponseURL, say): this gateway
                public_as2_url: live_as2_url.clone(),
                public_as2_test_url: Some(as2_url.clone()),
                connection_tester: Some(Arc::new(as2_engine::connection_test::NetworkTester::new(
                    destinations.clone(),
                    Duration::from_secs(5),
                ))),
                ..ApiConfig::default()
            },
        );
        let api = serve(as2_api::router(api_state), &options).await?;
        let wired = Gateway::new(
            store,
            Arc::new(payloads.clone()),
            GatewayConfig {
                crypto,
                inbox: Some(Arc::new(Inbox::open(&inbox)?)),
                mic_choice: as2_core::message::MicChoice::SignatureDigest,
                cem_policy: as2_trust::cem::CemPolicy::AcceptValid,
                limits: options.limits.clone(),
                worker: Some(WorkerConfig {
                    concurrency: 2,
                    poll_interval: Duration::from_millis(50),
                    outbound: OutboundConfig {
                        async_mdn_urls: PublicAs2Urls::new(
                            live_as2_url.clone(),
                            Some(as2_url.clone()),
                        ),
                        ..OutboundConfig::new(crypto)
                    },
                    destinations: destinations.clone(),
                    ..WorkerConfig::new(crypto)
                }),
                maintenance: (
                    as2_trust::stamper::Stamper::new(
                        db.store.clone(),
                        as2_trust::stamper::TsaConfig::BuiltIn,
                    ),
                    Duration::from_millis(250),
                ),
                orphan_grace: as2_engine::maintenance::DEFAULT_ORPHAN_GRACE,
            },
        )?;
        serve_on(listener, wired.router(), &options);
        let background = wired.start_background();
        Ok(Self {
            db,
            api_url: format!("{scheme}://{api}"),
            as2_url,
            live_as2_url,
            gateway_addr: gateway,
            inbox,
            key_a: boot.test_key,
            key_b,
            payloads,
            http: client(options.ca_pem.as_deref())?,
            background,
            _dir: dir,
            _s3: s3,
        })
    }

    /// Calls the API with `key`; the status and the JSON body.
    pub async fn call(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api_url))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// POSTs JSON and expects 201/202; the `data` member.
    pub async fn create(&self, key: &str, path: &str, body: Value) -> Result<Value> {
        let (status, reply) = self
            .call(key, reqwest::Method::POST, path, Some(body))
            .await?;
        if !(200..300).contains(&status) {
            bail!("POST {path} answered {status}: {reply}");
        }
        Ok(reply["data"].clone())
    }

    /// GETs JSON and expects 200; the whole body.
    pub async fn get(&self, key: &str, path: &str) -> Result<Value> {
        let (status, reply) = self.call(key, reqwest::Method::GET, path, None).await?;
        if status != 200 {
            bail!("GET {path} answered {status}: {reply}");
        }
        Ok(reply)
    }

    /// GETs raw bytes.
    pub async fn download(&self, key: &str, path: &str) -> Result<Vec<u8>> {
        let response = self
            .http
            .get(format!("{}{path}", self.api_url))
            .bearer_auth(key)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("GET {path} answered {}", response.status());
        }
        Ok(response.bytes().await?.to_vec())
    }

    /// Waits until message `id` of `key`'s tenant reaches a final status; the message.
    pub async fn wait_final(&self, key: &str, id: &str) -> Result<Value> {
        for _ in 0..400 {
            let message = self.get(key, &format!("/v1/messages/{id}")).await?["data"].clone();
            if matches!(
                message["status"].as_str(),
                Some("delivered" | "failed" | "received")
            ) {
                return Ok(message);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let events = self
            .get(key, &format!("/v1/messages/{id}/events"))
            .await
            .unwrap_or_default();
        bail!("message {id} did not reach a final status in 20 s; its events: {events}")
    }

    /// Generates a key pair for `key`'s tenant; its id and its certificate in PEM.
    pub async fn key_pair(&self, key: &str, name: &str) -> Result<(String, String)> {
        let cert = self
            .create(
                key,
                "/v1/certificates/generate",
                json!({"name": name, "common_name": name, "days": 30}),
            )
            .await?;
        let id = cert["id"].as_str().context("certificate id")?.to_owned();
        let pem = String::from_utf8(
            self.download(key, &format!("/v1/certificates/{id}/download"))
                .await?,
        )?;
        Ok((id, pem))
    }

    /// The tenant and mode of `key` (for reading the store directly in a test).
    pub async fn scope_of(&self, key: &str) -> Result<as2_store::Scope> {
        let tenant = self.get(key, "/v1/tenants/current").await?;
        let id: as2_domain::id::TenantId = tenant["data"]["id"]
            .as_str()
            .context("tenant id")?
            .parse()
            .map_err(|_| anyhow::anyhow!("tenant id"))?;
        Ok(as2_store::Scope::new(id, Mode::Test))
    }

    /// POSTs a message built by the codec to the gateway; the disposition of the synchronous
    /// MDN it answers (read without checking a signature).
    pub async fn post_as2(&self, built: as2_core::message::BuiltMessage) -> Result<String> {
        let mut request = self.http.post(&self.as2_url).body(built.body);
        for (name, value) in &built.headers {
            request = request.header(name, value);
        }
        let response = request.send().await?;
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = response.bytes().await?;
        let mdn =
            as2_core::mdn::parse_mdn(&as2_core::mime::Headers::from_pairs(headers), &body, &[])?;
        Ok(mdn.disposition.to_field())
    }

    /// Gives tenant A's default station the key pair `a_pair` and tenant B a station
    /// `TENANT-B` on `b_pair`; the two station ids.
    pub async fn stations(&self, a_pair: &str, b_pair: &str) -> Result<(String, String)> {
        let a_station = self.get(&self.key_a, "/v1/stations").await?["data"][0]["id"]
            .as_str()
            .context("A's station")?
            .to_owned();
        let (status, reply) = self
            .call(
                &self.key_a,
                reqwest::Method::PATCH,
                &format!("/v1/stations/{a_station}"),
                Some(json!({"certificate_id": a_pair})),
            )
            .await?;
        if status != 200 {
            bail!("PATCH {a_station}: {status} {reply}");
        }
        let b_station = self
            .create(
                &self.key_b,
                "/v1/stations",
                json!({"name": "B", "as2_id": "TENANT-B", "certificate_id": b_pair}),
            )
            .await?["id"]
            .as_str()
            .context("B's station")?
            .to_owned();
        Ok((a_station, b_station))
    }

    /// Uploads a partner's public certificate; its id.
    pub async fn upload_certificate(&self, key: &str, name: &str, pem: &str) -> Result<String> {
        let cert = self
            .create(key, "/v1/certificates", json!({"name": name, "pem": pem}))
            .await?;
        Ok(cert["id"].as_str().context("certificate id")?.to_owned())
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.background.signal_stop();
    }
}

/// Webhook requests received by a capture server: headers and body.
pub type Captured = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

/// A server on 127.0.0.1 that records every POST and answers 200; its URL and the record.
pub async fn capture_server() -> Result<(String, Captured)> {
    let seen: Captured = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let record = record.clone();
                async move {
                    if let Ok(mut r) = record.lock() {
                        r.push((headers, body.to_vec()));
                    }
                    "ok"
                }
            },
        ),
    );
    let addr = serve(app, &Options::default()).await?;
    Ok((format!("http://{addr}/hook"), seen))
}
