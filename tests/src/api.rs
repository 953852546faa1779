//! The REST API of several API servers at once, for the tests that run more than one (the
//! scale-out test): each call names the server it goes to; GETs that get no answer at all
//! are sent again, and counted; a 429 is waited out as its Retry-After says, and counted;
//! tenant A linked to tenant B through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};

/// The REST API of several servers; each call names the server it goes to (its index,
/// modulo their number).
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The servers' base URLs.
    pub servers: Vec<String>,
    /// GETs sent again after they got no answer at all (see [`Api::fetch`]).
    pub resent: Arc<AtomicUsize>,
    /// Requests answered 429 and sent again after their Retry-After (see [`Api::fetch`]).
    pub throttled: Arc<AtomicUsize>,
}

/// How many times one request is sent again after a 429 before the test gives up.
const THROTTLED_RETRIES: usize = 20;

/// The wait a 429 asks for: its Retry-After in seconds (one when absent), at most five.
fn retry_after(response: &reqwest::Response) -> Duration {
    let seconds = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Duration::from_secs(seconds.clamp(1, 5))
}

impl Api {
    /// A client of `servers` (base URLs) whose requests give up after a minute.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(servers: Vec<String>) -> Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            servers,
            resent: Arc::default(),
            throttled: Arc::default(),
        })
    }

    fn url(&self, server: usize, path: &str) -> String {
        format!("{}{path}", self.servers[server % self.servers.len()])
    }

    /// Sends a request once; the status and the JSON body (null when it is not JSON).
    pub async fn call(
        &self,
        server: usize,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method, self.url(server, path))
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

    /// GETs `path` and expects 2xx; the body. A GET that gets no answer at all (a transport
    /// error) is sent again, twice at most, and counted: what is checked here are the API's
    /// answers, not the connection that carried one. A 429 is waited out as its Retry-After
    /// says and sent again, as any well-behaved client does (the tenant's plan limits how
    /// fast the test may read; the rate limit itself has its own check). Any other answer,
    /// whatever its status, is never sent again.
    #[allow(
        clippy::print_stderr,
        reason = "a resent GET is reported with its error"
    )]
    pub async fn fetch(&self, server: usize, key: &str, path: &str) -> Result<Vec<u8>> {
        let (mut attempt, mut throttled) = (0, 0);
        loop {
            let sent = async {
                let response = self
                    .http
                    .get(self.url(server + attempt, path))
                    .bearer_auth(key)
                    .send()
                    .await?;
                let status = response.status();
                let wait = retry_after(&response);
                anyhow::Ok((status, wait, response.bytes().await?))
            };
            match sent.await {
                Ok((reqwest::StatusCode::TOO_MANY_REQUESTS, wait, _))
                    if throttled < THROTTLED_RETRIES =>
                {
                    self.throttled.fetch_add(1, Ordering::Relaxed);
                    throttled += 1;
                    tokio::time::sleep(wait).await;
                }
                Ok((status, _, body)) => {
                    ensure!(
                        status.is_success(),
                        "GET {path} answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                    return Ok(body.to_vec());
                }
                Err(e) if attempt < 2 => {
                    eprintln!("GET {path} got no answer, sent again: {e:#}");
                    self.resent.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                }
                Err(e) => return Err(e.context(format!("GET {path}, three times"))),
            }
        }
    }

    /// POSTs JSON and expects 2xx; the `data` member. A 429 (the request was not
    /// processed) is waited out and sent again, as in [`Api::fetch`].
    pub async fn create(&self, server: usize, key: &str, path: &str, body: Value) -> Result<Value> {
        let mut throttled = 0;
        let (status, reply) = loop {
            let answer = self
                .call(server, key, reqwest::Method::POST, path, Some(body.clone()))
                .await?;
            if answer.0 != 429 || throttled == THROTTLED_RETRIES {
                break answer;
            }
            self.throttled.fetch_add(1, Ordering::Relaxed);
            throttled += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        ensure!(
            (200..300).contains(&status),
            "POST {path} answered {status}: {reply}"
        );
        Ok(reply["data"].clone())
    }

    /// GETs JSON and expects 2xx; the whole body.
    pub async fn get(&self, server: usize, key: &str, path: &str) -> Result<Value> {
        let body = self.fetch(server, key, path).await?;
        serde_json::from_slice(&body).with_context(|| format!("GET {path}: not JSON"))
    }

    /// GETs raw bytes.
    pub async fn download(&self, server: usize, key: &str, path: &str) -> Result<Vec<u8>> {
        self.fetch(server, key, path).await
    }

    /// The number of `key`'s messages matching `query` (`direction=…&status=…`).
    pub async fn count(&self, server: usize, key: &str, query: &str) -> Result<u64> {
        let list = self
            .get(server, key, &format!("/v1/messages?{query}&per_page=1"))
            .await?;
        list["total"].as_u64().context("the list's total")
    }

    /// Every message of `key` matching `query`, a page of 100 at a time.
    pub async fn all(&self, key: &str, query: &str) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        for page in 1.. {
            let list = self
                .get(
                    page,
                    key,
                    &format!("/v1/messages?{query}&per_page=100&page={page}"),
                )
                .await?;
            let data = list["data"].as_array().context("the list's data")?;
            if data.is_empty() {
                break;
            }
            all.extend(data.iter().cloned());
        }
        Ok(all)
    }

    /// A key pair generated for `key`'s tenant: its id and its certificate in PEM.
    pub async fn key_pair(&self, key: &str, name: &str) -> Result<(String, String)> {
        let cert = self
            .create(
                0,
                key,
                "/v1/certificates/generate",
                json!({"name": name, "common_name": name, "days": 30}),
            )
            .await?;
        let id = cert["id"].as_str().context("certificate id")?.to_owned();
        let pem = String::from_utf8(
            self.download(0, key, &format!("/v1/certificates/{id}/download"))
                .await?,
        )?;
        Ok((id, pem))
    }

    /// Links A to B as `crate::link` does, B reached on `as2_url`: key pairs, A's
    /// default station on its pair, a station `TENANT-B`, each tenant's partner for the
    /// other (signed, encrypted, signed sync MDNs; A retries every second); the id of A's
    /// partner for B.
    pub async fn link(&self, key_a: &str, key_b: &str, as2_url: &str) -> Result<String> {
        let (a_pair, a_pem) = self.key_pair(key_a, "tenant-a").await?;
        let (b_pair, b_pem) = self.key_pair(key_b, "tenant-b").await?;
        let a_station = self.get(0, key_a, "/v1/stations").await?["data"][0]["id"]
            .as_str()
            .context("A's station")?
            .to_owned();
        let (status, reply) = self
            .call(
                0,
                key_a,
                reqwest::Method::PATCH,
                &format!("/v1/stations/{a_station}"),
                Some(json!({"certificate_id": a_pair})),
            )
            .await?;
        ensure!(status == 200, "PATCH {a_station}: {status} {reply}");
        let b_station = self
            .create(
                1,
                key_b,
                "/v1/stations",
                json!({"name": "B", "as2_id": "TENANT-B", "certificate_id": b_pair}),
            )
            .await?["id"]
            .as_str()
            .context("B's station")?
            .to_owned();
        let a_at_b = self
            .create(
                1,
                key_b,
                "/v1/certificates",
                json!({"name": "A", "pem": a_pem}),
            )
            .await?["id"]
            .clone();
        let b_at_a = self
            .create(
                0,
                key_a,
                "/v1/certificates",
                json!({"name": "B", "pem": b_pem}),
            )
            .await?["id"]
            .clone();
        self.create(
            1,
            key_b,
            "/v1/partners",
            json!({"name": "A", "as2_id": "TENANT-A", "url": as2_url, "station_id": b_station,
                   "certificate_id": a_at_b, "sign": true, "encrypt": true,
                   "mdn_mode": "sync", "mdn_signed": true}),
        )
        .await?;
        let partner = self
            .create(
                0,
                key_a,
                "/v1/partners",
                json!({"name": "B", "as2_id": "TENANT-B", "url": as2_url,
                       "station_id": a_station, "certificate_id": b_at_a, "sign": true,
                       "encrypt": true, "mdn_mode": "sync", "mdn_signed": true,
                       "retry_interval": 1, "retry_attempts": 20}),
            )
            .await?;
        Ok(partner["id"].as_str().context("partner id")?.to_owned())
    }
}
