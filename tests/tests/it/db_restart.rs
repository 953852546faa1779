//! A database restart (a failover, a maintenance window) needs no process restart: the API,
//! the gateway and its worker on a private PostgreSQL under load from a few clients; the
//! server is restarted, then stopped for five seconds and started again. While it is away
//! every answer is 503 with `Retry-After` (the API's `database_unavailable` error), never
//! 500 and never an MDN; within a few seconds of its return every request succeeds again,
//! and every message the API accepted is delivered exactly once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use as2_e2e::Platform;
use as2_store::testing::TestDb;
use as2_test_support::postgres_cluster::PostgresCluster;
use base64::Engine as _;
use serde_json::{Value, json};

/// How long after the database is back every request must succeed again.
const RECOVERY: Duration = Duration::from_secs(5);

/// One answer a client got.
#[derive(Debug, Clone)]
struct Answer {
    at: Instant,
    client: &'static str,
    status: u16,
    retry_after: bool,
    /// The API's `error.code`, or the start of the gateway's text.
    said: String,
    /// The id of a message the API accepted.
    accepted: Option<String>,
}

impl Answer {
    /// What this client gets while the database is up.
    fn ok(&self) -> bool {
        match self.client {
            // the gateway refuses a stranger from the headers: the database answered
            "gateway-stranger" => self.status == 404 || self.status == 403,
            _ => (200..300).contains(&self.status),
        }
    }

    /// What every client must get while the database is away.
    fn unavailable(&self) -> bool {
        self.status == 503
            && self.retry_after
            && (self.client.starts_with("gateway") || self.said == "database_unavailable")
    }
}

/// Clients calling the platform until stopped; every answer is kept.
struct Load {
    answers: Arc<Mutex<Vec<Answer>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(p: &Platform, partner: &str) -> Self {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        let api = p.api_url.clone();
        let mut tasks = Vec::new();
        let mut client =
            |client: &'static str,
             every: Duration,
             request: Box<dyn Fn() -> reqwest::RequestBuilder + Send>| {
                let (answers, stop) = (answers.clone(), stop.clone());
                tasks.push(tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let answer = call(client, request()).await;
                        answers
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(answer);
                        tokio::time::sleep(every).await;
                    }
                }));
            };
        for reader in ["api-list-1", "api-list-2", "api-list-3"] {
            let (http, url, key) = (http.clone(), format!("{api}/v1/partners"), p.key_a.clone());
            client(
                reader,
                Duration::from_millis(100),
                Box::new(move || http.get(&url).bearer_auth(&key)),
            );
        }
        let (h, url, key, partner) = (
            http.clone(),
            format!("{api}/v1/messages"),
            p.key_a.clone(),
            partner.to_owned(),
        );
        let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        client(
            "api-send",
            Duration::from_millis(300),
            Box::new(move || {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let content =
                    base64::engine::general_purpose::STANDARD.encode(format!("order {n}"));
                h.post(&url)
                    .bearer_auth(&key)
                    .header("Content-Type", "application/json")
                    .body(json!({"partner_id": partner, "content": content, "filename": format!("o{n}.txt")}).to_string())
            }),
        );
        let (h, url) = (http.clone(), format!("{api}/readyz"));
        client(
            "api-readyz",
            Duration::from_millis(200),
            Box::new(move || h.get(&url)),
        );
        let (h, url) = (http.clone(), p.as2_url.clone());
        client(
            "gateway-stranger",
            Duration::from_millis(200),
            Box::new(move || {
                h.post(&url)
                    .header("AS2-From", "STRANGER")
                    .header("AS2-To", "NOBODY")
                    .header("AS2-Version", "1.2")
                    .header("Message-ID", "<stranger@test>")
                    .header("Content-Type", "application/pkcs7-mime")
                    .body("not really")
            }),
        );
        let (h, url) = (http, format!("http://{}/readyz", p.gateway_addr));
        client(
            "gateway-readyz",
            Duration::from_millis(200),
            Box::new(move || h.get(&url)),
        );
        Self {
            answers,
            stop,
            tasks,
        }
    }

    fn since(&self, from: Instant) -> Vec<Answer> {
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|a| a.at >= from)
            .cloned()
            .collect()
    }

    async fn stop(self) -> Vec<Answer> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            let _ = task.await;
        }
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

async fn call(client: &'static str, request: reqwest::RequestBuilder) -> Answer {
    let sent = Instant::now();
    let Ok(response) = request.send().await else {
        return Answer {
            at: sent,
            client,
            status: 0,
            retry_after: false,
            said: "no answer".into(),
            accepted: None,
        };
    };
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let bytes = response.bytes().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let said = body["error"]["code"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(60).collect());
    let accepted = (status == 202)
        .then(|| body["data"]["id"].as_str().map(str::to_owned))
        .flatten();
    Answer {
        at: sent,
        client,
        status,
        retry_after,
        said,
        accepted,
    }
}

/// Every answer from `from` on is either success or 503 + `Retry-After`; from `back +
/// RECOVERY` on, only success. Returns how many were unavailable.
fn check_outage(load: &Load, from: Instant, back: Instant, what: &str) -> Result<usize> {
    let answers = load.since(from);
    let mut unavailable = 0;
    for a in &answers {
        if a.ok() {
            continue;
        }
        ensure!(
            a.unavailable(),
            "{what}: an answer that is neither success nor 503 + Retry-After: {a:?}"
        );
        ensure!(
            a.at < back + RECOVERY,
            "{what}: still failing {:?} after the database was back: {a:?}",
            a.at - back
        );
        unavailable += 1;
    }
    let late = answers.iter().filter(|a| a.at > back + RECOVERY).count();
    ensure!(
        late > 20,
        "{what}: too few answers after recovery ({late}) to judge it"
    );
    Ok(unavailable)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_platform_rides_out_a_database_restart_and_an_outage() -> Result<()> {
    let cluster = tokio::task::spawn_blocking(PostgresCluster::start).await??;
    let url = cluster.url();
    let db = tokio::task::spawn_blocking(move || TestDb::postgres_on(&url)).await?;
    let cluster = Arc::new(cluster);
    let p = Platform::start(db).await?;
    let partner = p.link_a_to_b().await?;
    let started = Instant::now();
    let load = Load::start(&p, &partner);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let warm = load.since(started);
    ensure!(
        warm.iter().all(Answer::ok),
        "before any restart every request succeeds: {:?}",
        warm.iter().find(|a| !a.ok())
    );

    // a restart (pg_ctl restart -m fast: every connection is terminated)
    let restarted = Instant::now();
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.restart()).await??;
    let back = Instant::now();
    tokio::time::sleep(RECOVERY + Duration::from_secs(3)).await;
    let during_restart = check_outage(&load, restarted, back, "restart")?;
    eprintln!("restart: {during_restart} answers were 503 + Retry-After");

    // an outage of five seconds
    let stopped = Instant::now();
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop()).await??;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start_server()).await??;
    let back = Instant::now();
    tokio::time::sleep(RECOVERY + Duration::from_secs(3)).await;
    let during_outage = check_outage(&load, stopped, back, "outage")?;
    let seen: Vec<_> = load
        .since(stopped)
        .into_iter()
        .filter(|a| a.at < back && a.unavailable())
        .map(|a| a.client)
        .collect();
    for client in [
        "api-list-1",
        "api-send",
        "api-readyz",
        "gateway-stranger",
        "gateway-readyz",
    ] {
        ensure!(
            seen.contains(&client),
            "{client} was never told the database is away during the outage"
        );
    }
    // nobody waits long for the 503: the three readers together were told many times (a request waits at most the pool's brief checkout while the
    // server is unreachable, never its 30 s timeout). Counted over the three readers: one
    // request that checks a connection out just as the server goes away can wait for it to
    // come back and then succeed (seen: [15, 15, 1] answers), which is no failure.
    let per_reader: Vec<usize> = ["api-list-1", "api-list-2", "api-list-3"]
        .iter()
        .map(|reader| seen.iter().filter(|c| *c == reader).count())
        .collect();
    ensure!(
        per_reader.iter().sum::<usize>() >= 9,
        "readers got only {per_reader:?} answers in 5 s of outage"
    );
    eprintln!("outage: {during_outage} answers were 503 + Retry-After");

    let answers = load.stop().await;
    ensure!(
        !answers.iter().any(|a| a.status == 500 || a.status == 0),
        "no 500 and no hanging request: {:?}",
        answers.iter().find(|a| a.status == 500 || a.status == 0)
    );

    // every message the API accepted is delivered once, its MDN verified
    let accepted: Vec<String> = answers.iter().filter_map(|a| a.accepted.clone()).collect();
    ensure!(
        accepted.len() > 20,
        "only {} messages were accepted",
        accepted.len()
    );
    let mut as2_ids = Vec::new();
    for id in &accepted {
        let done = wait_delivered(&p, id).await?;
        let mdn = p.get(&p.key_a, &format!("/v1/messages/{id}/mdn")).await?;
        ensure!(mdn["data"]["verified"] == true, "{id}: {mdn}");
        as2_ids.push(
            done["message_id"]
                .as_str()
                .context("message_id")?
                .to_owned(),
        );
    }
    let mut received = Vec::new();
    for page in 1.. {
        let list = p
            .get(
                &p.key_b,
                &format!("/v1/messages?direction=inbound&per_page=100&page={page}"),
            )
            .await?;
        let data = list["data"].as_array().context("list")?.clone();
        if data.is_empty() {
            break;
        }
        received.extend(
            data.into_iter()
                .filter_map(|m| m["message_id"].as_str().map(str::to_owned)),
        );
    }
    received.sort();
    as2_ids.sort();
    ensure!(
        received == as2_ids,
        "B received every accepted message exactly once ({} sent, {} received)",
        as2_ids.len(),
        received.len()
    );
    eprintln!(
        "{} messages accepted during the load, each delivered once",
        accepted.len()
    );
    Ok(())
}

/// Waits up to a minute for message `id` of A to be delivered (retries after an outage are a
/// second apart, doubling).
async fn wait_delivered(p: &Platform, id: &str) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let message = p.get(&p.key_a, &format!("/v1/messages/{id}")).await?["data"].clone();
        match message["status"].as_str() {
            Some("delivered") => return Ok(message),
            Some("failed") => anyhow::bail!("{id} failed: {message}"),
            _ if Instant::now() > deadline => {
                anyhow::bail!("{id} not delivered in a minute: {message}")
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
