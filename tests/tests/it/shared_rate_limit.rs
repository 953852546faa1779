//! The rate limit holds for a key as a whole, however many api-servers answer it: two API
//! routers (each with its own pool, as two processes have) on one PostgreSQL database, a
//! burst from one Free key spread over both: no more requests pass than the plan's burst plus
//! what its rate refills meanwhile. With one server the answers are as before: the burst
//! passes, the next request is 429 with `Retry-After` and the `X-RateLimit-*` headers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use as2_api::bootstrap::create_key;
use as2_api::{ApiConfig, AppState};
use as2_domain::Mode;
use as2_domain::api_key::KeyKind;
use as2_domain::plan::Plan;
use as2_store::payload::PayloadStore;
use as2_store::testing::{TestDb, test_secrets};
use as2_store::{Database, PoolOptions, Store};

/// The Free plan: 100 requests a minute, a burst of 20.
const BURST: usize = 20;
const PER_MINUTE: f64 = 100.0;

/// An API router over its own pool on `url`, served on 127.0.0.1; its base URL.
async fn api_server(url: &str, payloads: &std::path::Path) -> Result<String> {
    let db = Database::connect(url, &PoolOptions::default())?;
    let state = AppState::new(
        Store::new(db, test_secrets()),
        PayloadStore::open(payloads)?,
        ApiConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    tokio::spawn(as2_engine::serve::serve(
        listener,
        as2_api::router(state),
        as2_engine::serve::ServeOptions::default(),
        std::future::pending(),
    ));
    Ok(format!("http://{addr}"))
}

/// A Free account's tenant key.
fn free_key(store: &Store) -> Result<String> {
    let account = store.accounts().create_account("Free Co", Plan::Free)?;
    let tenant = store.accounts().create_tenant(account.id, "Free Co")?;
    Ok(create_key(
        store,
        account.id,
        Some(tenant.id),
        KeyKind::Tenant,
        Mode::Test,
        "k",
    )?
    .secret)
}

/// `per_server` requests against each of `servers` from four clients each (fewer than the
/// plan's five in flight); the statuses and how long it took.
async fn burst(servers: &[String], key: &str, per_server: usize) -> Result<(Vec<u16>, Duration)> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for server in servers {
        for _ in 0..4 {
            let (http, url, key) = (
                http.clone(),
                format!("{server}/v1/partners"),
                key.to_owned(),
            );
            tasks.spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..per_server / 4 {
                    let response = http.get(&url).bearer_auth(&key).send().await?;
                    statuses.push(response.status().as_u16());
                }
                anyhow::Ok(statuses)
            });
        }
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        statuses.extend(done??);
    }
    Ok((statuses, started.elapsed()))
}

/// The most requests the plan lets through in `elapsed`: the burst and what came back.
fn allowed_in(elapsed: Duration) -> usize {
    BURST + (elapsed.as_secs_f64() * PER_MINUTE / 60.0).ceil() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_api_servers_share_one_rate_limit() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("skipped: AS2_TEST_POSTGRES_URL is not set");
        return Ok(());
    };
    let key = free_key(&db.store)?;
    let payloads = tempfile::tempdir()?;
    let servers = vec![
        api_server(&db.url, payloads.path()).await?,
        api_server(&db.url, payloads.path()).await?,
    ];
    let (statuses, elapsed) = burst(&servers, &key, 40).await?;
    let passed = statuses.iter().filter(|s| (200..300).contains(*s)).count();
    ensure!(
        statuses.iter().all(|s| (200..300).contains(s) || *s == 429),
        "only 2xx and 429: {statuses:?}"
    );
    ensure!(
        (BURST..=allowed_in(elapsed)).contains(&passed),
        "{passed} of {} requests passed in {elapsed:?} over two servers; the plan allows {}",
        statuses.len(),
        allowed_in(elapsed)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_api_server_answers_as_before() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("skipped: AS2_TEST_POSTGRES_URL is not set");
        return Ok(());
    };
    let key = free_key(&db.store)?;
    let payloads = tempfile::tempdir()?;
    let server = api_server(&db.url, payloads.path()).await?;
    let http = reqwest::Client::new();
    let url = format!("{server}/v1/partners");
    let started = Instant::now();
    for i in 0..BURST {
        let response = http.get(&url).bearer_auth(&key).send().await?;
        ensure!(
            response.status() == 200,
            "request {i} of the burst: {}",
            response.status()
        );
        let remaining = response.headers()["x-ratelimit-remaining"]
            .to_str()?
            .parse::<usize>()?;
        // a token may have come back meanwhile
        ensure!(
            remaining >= BURST - 1 - i && remaining <= allowed_in(started.elapsed()) - 1 - i,
            "request {i}: {remaining} remaining"
        );
        ensure!(response.headers()["x-ratelimit-limit"] == "100");
    }
    // past the burst (and whatever refilled meanwhile): 429 with the whole contract
    let mut refused = None;
    for _ in 0..allowed_in(started.elapsed()) {
        let response = http.get(&url).bearer_auth(&key).send().await?;
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.context("the request after the burst was not refused")?;
    let headers = refused.headers().clone();
    ensure!(headers["retry-after"] == "1", "{headers:?}");
    ensure!(headers["x-ratelimit-remaining"] == "0", "{headers:?}");
    ensure!(headers["x-ratelimit-limit"] == "100", "{headers:?}");
    let reset: u64 = headers["x-ratelimit-reset"].to_str()?.parse()?;
    let now = u64::try_from(chrono::Utc::now().timestamp())?;
    ensure!(
        reset > now && reset <= now + 13,
        "reset {reset} vs now {now}"
    );
    let body: serde_json::Value = serde_json::from_slice(&refused.bytes().await?)?;
    ensure!(body["error"]["type"] == "rate_limit_error", "{body}");
    ensure!(body["error"]["code"] == "rate_limit_exceeded", "{body}");
    // a token is back after 0.6 s
    tokio::time::sleep(Duration::from_millis(700)).await;
    let again = http.get(&url).bearer_auth(&key).send().await?;
    ensure!(again.status() == 200, "{}", again.status());
    Ok(())
}
