//! The job worker: claims jobs (`send_message`, `send_mdn`, `mdn_timeout`,
//! `deliver_webhook`) under a lease, runs the synchronous parts on tokio's blocking pool and
//! the HTTP with reqwest, and records every outcome. Several workers (in one process or many)
//! share the queue; a job whose worker died is claimed again when its lease runs out.

use as2_core::crypto::CryptoProvider;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use as2_domain::destination::DestinationPolicy;
use as2_domain::job::{JobKind, backoff};
use as2_store::Store;
use as2_store::jobs::{FailOutcome, Job};
use as2_store::payload::PayloadStore;
use as2_trust::http_client::{self, OutboundClient};
use tokio::sync::watch;

use crate::error::EngineError;
use crate::job_payload::MessageJob;
use crate::mdn_delivery;
use crate::metrics::Metrics;
use crate::outbound::{self, Conclusion, HttpOutcome, OutboundConfig, Prepared};
use crate::webhook_delivery;

/// The jobs this worker runs.
const KINDS: [JobKind; 4] = [
    JobKind::SendMessage,
    JobKind::SendMdn,
    JobKind::MdnTimeout,
    JobKind::DeliverWebhook,
];

/// Largest answer read from a partner or webhook endpoint (an MDN is a few KB).
const MAX_ANSWER: usize = 10 * 1024 * 1024;

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at once.
    pub concurrency: usize,
    /// Pause when the queue is empty.
    pub poll_interval: Duration,
    /// How long a claimed job is ours before another worker may take it.
    pub lease: Duration,
    /// How long in-flight jobs may run on after shutdown starts before they are released.
    pub shutdown_grace: Duration,
    /// Outbound settings.
    pub outbound: OutboundConfig,
    /// Where partners, async MDNs and webhooks may be posted to (`AS2_OUTBOUND_ALLOW`; by
    /// default public addresses only).
    pub destinations: DestinationPolicy,
}

impl WorkerConfig {
    /// The defaults, with `crypto`.
    #[must_use]
    pub fn new(crypto: &'static CryptoProvider) -> Self {
        Self {
            concurrency: 4,
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(300),
            shutdown_grace: Duration::from_secs(20),
            outbound: OutboundConfig::new(crypto),
            destinations: DestinationPolicy::strict(),
        }
    }
}

/// Runs jobs.
#[derive(Debug, Clone)]
pub struct Worker {
    store: Arc<Store>,
    payloads: Arc<PayloadStore>,
    http: OutboundClient,
    config: Arc<WorkerConfig>,
    metrics: Arc<Metrics>,
}

/// How one job attempt went.
enum Attempt {
    /// Finished (whatever the message's fate).
    Done,
    /// Try again after the backoff; the reason.
    Retry(String, Duration),
    /// The job's outcome is already recorded (with the message's, in one step).
    Recorded,
}

fn lease(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::minutes(5))
}

impl Worker {
    /// A worker over `store` and `payloads`.
    ///
    /// Its HTTP client connects only where `config.destinations` permits and follows no
    /// redirect.
    ///
    /// # Errors
    /// The HTTP client cannot be built (TLS roots unavailable).
    pub fn new(
        store: Arc<Store>,
        payloads: Arc<PayloadStore>,
        config: WorkerConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, reqwest::Error> {
        let http = OutboundClient::new(
            config.destinations.clone(),
            &config.outbound.user_agent,
            Duration::from_secs(30),
        )?;
        Ok(Self {
            store,
            payloads,
            http,
            config: Arc::new(config),
            metrics,
        })
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, EngineError>
    where
        T: Send + 'static,
        F: FnOnce(&Store, &PayloadStore) -> Result<T, EngineError> + Send + 'static,
    {
        let (store, payloads) = (self.store.clone(), self.payloads.clone());
        tokio::task::spawn_blocking(move || f(&store, &payloads))
            .await
            .map_err(|e| EngineError::Interrupted(e.to_string()))?
    }

    /// Runs `concurrency` job loops until `shutdown` resolves; in-flight jobs get
    /// `shutdown_grace` to finish, then they are released to the queue.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut loops = tokio::task::JoinSet::new();
        for _ in 0..self.config.concurrency.max(1) {
            let worker = self.clone();
            let stop = stop_rx.clone();
            loops.spawn(async move { worker.job_loop(stop).await });
        }
        shutdown.await;
        let _ = stop_tx.send(true);
        while loops.join_next().await.is_some() {}
    }

    async fn job_loop(&self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            match self.claim().await {
                Ok(Some(job)) => {
                    let mut watcher = stop.clone();
                    let grace = self.config.shutdown_grace;
                    let work = self.handle(&job);
                    tokio::pin!(work);
                    let stopped = async move {
                        let _ = watcher.wait_for(|s| *s).await;
                        tokio::time::sleep(grace).await;
                    };
                    tokio::select! {
                        () = &mut work => {}
                        () = stopped => {
                            tracing::warn!(job = %job.id, "shutdown grace over: releasing the job");
                            let released = job.clone();
                            let _ = self
                                .blocking(move |s, _| Ok(s.jobs().release(&released, chrono::Utc::now())?))
                                .await;
                            return;
                        }
                    }
                }
                Ok(None) => {
                    tokio::select! {
                        () = tokio::time::sleep(self.config.poll_interval) => {}
                        _ = stop.changed() => {}
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "claiming a job failed");
                    tokio::time::sleep(self.config.poll_interval * 4).await;
                }
            }
        }
    }

    async fn claim(&self) -> Result<Option<Job>, EngineError> {
        let lease = lease(self.config.lease);
        self.blocking(move |s, _| Ok(s.jobs().claim(&KINDS, chrono::Utc::now(), lease)?))
            .await
    }

    /// Claims and runs one due job; whether there was one (for tests and tools).
    ///
    /// # Errors
    /// The queue could not be read.
    pub async fn run_once(&self) -> Result<bool, EngineError> {
        match self.claim().await? {
            Some(job) => {
                self.handle(&job).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Runs jobs until none is due (for tests and tools).
    ///
    /// # Errors
    /// The queue could not be read.
    pub async fn drain(&self) -> Result<usize, EngineError> {
        let mut n = 0;
        while self.run_once().await? {
            n += 1;
        }
        Ok(n)
    }

    async fn handle(&self, job: &Job) {
        let attempt = match job.kind {
            JobKind::SendMessage => self.send_message(job).await,
            JobKind::SendMdn => self.send_mdn(job).await,
            JobKind::MdnTimeout => self.mdn_timeout(job).await,
            JobKind::DeliverWebhook => self.deliver_webhook(job).await,
            JobKind::TrustLifecycle => Ok(Attempt::Done),
        };
        let attempt = attempt.unwrap_or_else(|e| {
            tracing::error!(job = %job.id, kind = job.kind.as_str(), error = %e, "job attempt failed");
            Attempt::Retry(e.to_string(), Duration::from_secs(30))
        });
        let job_done = job.clone();
        let result = match attempt {
            Attempt::Recorded => Ok(()),
            Attempt::Done => {
                self.metrics
                    .jobs_done
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.blocking(move |s, _| {
                    s.jobs().complete(&job_done, chrono::Utc::now())?;
                    Ok(())
                })
                .await
            }
            Attempt::Retry(reason, wait) => {
                self.metrics
                    .jobs_failed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let backoff = lease(wait);
                self.blocking(move |s, _| {
                    s.jobs()
                        .fail(&job_done, &reason, chrono::Utc::now(), backoff)?;
                    Ok(())
                })
                .await
            }
        };
        if let Err(e) = result {
            tracing::error!(job = %job.id, error = %e, "recording a job's outcome failed");
        }
    }

    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> HttpOutcome {
        let mut request = match self.http.post(url) {
            Ok(request) => request.timeout(timeout).body(body),
            Err(refused) => return HttpOutcome::Refused(refused.to_string()),
        };
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return match http_client::refusal(&e) {
                    Some(refused) => HttpOutcome::Refused(refused.to_string()),
                    None => HttpOutcome::Transport(describe(&e)),
                };
            }
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        match read_limited(response).await {
            Ok(body) => HttpOutcome::Answer {
                status,
                headers,
                body,
            },
            Err(reason) => HttpOutcome::Transport(reason),
        }
    }

    async fn send_message(&self, job: &Job) -> Result<Attempt, EngineError> {
        let input = MessageJob::parse(&job.payload)?;
        let config = self.config.outbound.clone();
        let prepared = {
            let input = input.clone();
            self.blocking(move |s, p| outbound::prepare(s, p, &input, &config))
                .await?
        };
        let sent = match prepared {
            Prepared::Send(sent) => sent,
            Prepared::Done | Prepared::Failed(_) => return Ok(Attempt::Done),
        };
        let started = Instant::now();
        let outcome = self
            .post(&sent.url, &sent.headers, sent.body.clone(), sent.timeout)
            .await;
        let config = self.config.outbound.clone();
        let sent = Arc::new(*sent);
        let conclusion = {
            let (sent, outcome) = (sent.clone(), outcome.clone());
            self.blocking(move |s, p| outbound::conclude(s, p, &sent, &outcome, &config))
                .await?
        };
        self.metrics.send_latency.observe(started.elapsed());
        match conclusion {
            Conclusion::Final(_) | Conclusion::AwaitingMdn => Ok(Attempt::Done),
            Conclusion::Retry(reason) => {
                tracing::warn!(message = %sent.message.id, attempt = job.attempts, %reason, "send failed");
                let wait = backoff(
                    u32::try_from(job.attempts).unwrap_or(1),
                    lease(sent.retry_interval),
                    chrono::Duration::days(1),
                );
                let (job, reason2) = (job.clone(), reason.clone());
                let message = sent.message.clone();
                let scope = sent.scope;
                self.blocking(move |s, _| {
                    match s.jobs().fail(&job, &reason2, chrono::Utc::now(), wait)? {
                        Some(FailOutcome::RetryAt(_)) => {
                            outbound::requeue_after(s, scope, &message, &reason2)
                        }
                        Some(FailOutcome::Dead) => outbound::give_up(s, scope, &message, &reason2),
                        None => Ok(()),
                    }
                })
                .await?;
                self.metrics
                    .jobs_failed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(Attempt::Recorded)
            }
        }
    }

    async fn send_mdn(&self, job: &Job) -> Result<Attempt, EngineError> {
        let input = MessageJob::parse(&job.payload)?;
        let prepared = {
            let input = input.clone();
            self.blocking(move |s, p| mdn_delivery::prepare(s, p, &input))
                .await?
        };
        let Some(post) = prepared else {
            return Ok(Attempt::Done);
        };
        let outcome = self
            .post(&post.url, &post.headers, post.body, Duration::from_secs(60))
            .await;
        let (event, detail, ok) = match &outcome {
            HttpOutcome::Answer { status, .. } if (200..300).contains(status) => {
                ("mdn_async_sent", format!("Posted to {}", post.url), true)
            }
            HttpOutcome::Answer {
                status, headers, ..
            } => (
                "mdn_async_attempt_failed",
                match http_client::redirect_refusal(*status, location(headers)) {
                    Some(redirect) => format!("{} answered {redirect}", post.url),
                    None => format!("{} answered HTTP {status}", post.url),
                },
                false,
            ),
            HttpOutcome::Transport(reason) => (
                "mdn_async_attempt_failed",
                format!("{}: {reason}", post.url),
                false,
            ),
            // the address is refused: no retry can change that, the operator's policy can
            HttpOutcome::Refused(reason) => (
                "mdn_async_refused",
                format!("The MDN was not posted to {}: {reason}", post.url),
                true,
            ),
        };
        let scope = input.scope()?;
        let message = input.message();
        let detail2 = detail.clone();
        self.blocking(move |s, _| {
            s.messages()
                .add_event(scope, message, event, Some(&detail2))?;
            Ok(())
        })
        .await?;
        if ok {
            return Ok(Attempt::Done);
        }
        let wait = backoff(
            u32::try_from(job.attempts).unwrap_or(1),
            chrono::Duration::seconds(60),
            chrono::Duration::hours(2),
        );
        Ok(Attempt::Retry(
            detail,
            wait.to_std().unwrap_or(Duration::from_secs(60)),
        ))
    }

    async fn mdn_timeout(&self, job: &Job) -> Result<Attempt, EngineError> {
        let input = MessageJob::parse(&job.payload)?;
        self.blocking(move |s, _| outbound::mdn_timed_out(s, &input))
            .await?;
        Ok(Attempt::Done)
    }

    async fn deliver_webhook(&self, job: &Job) -> Result<Attempt, EngineError> {
        let delivery = webhook_delivery::delivery_of(&job.payload)?;
        let Some(post) = self
            .blocking(move |s, _| webhook_delivery::prepare(s, delivery))
            .await?
        else {
            return Ok(Attempt::Done);
        };
        self.metrics
            .webhook_attempts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let outcome = self
            .post(&post.url, &post.headers, post.body, Duration::from_secs(15))
            .await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status, error) = match &outcome {
            HttpOutcome::Answer { status, .. } if (200..300).contains(status) => {
                (Some(i32::from(*status)), None)
            }
            HttpOutcome::Answer {
                status, headers, ..
            } => (
                Some(i32::from(*status)),
                Some(
                    match http_client::redirect_refusal(*status, location(headers)) {
                        Some(redirect) => format!("The endpoint answered {redirect}"),
                        None => format!("The endpoint answered HTTP {status}"),
                    },
                ),
            ),
            HttpOutcome::Transport(reason) => (None, Some(reason.clone())),
            HttpOutcome::Refused(reason) => (
                None,
                Some(format!("The endpoint was not contacted: {reason}")),
            ),
        };
        let wait = backoff(
            u32::try_from(job.attempts).unwrap_or(1),
            chrono::Duration::seconds(30),
            chrono::Duration::hours(2),
        );
        let mut job = job.clone();
        if matches!(outcome, HttpOutcome::Refused(_)) {
            // no retry reaches a refused address: this attempt is the last
            job.attempts = job.attempts.max(job.max_attempts);
        }
        self.blocking(move |s, _| {
            let now = chrono::Utc::now();
            let Some(error) = error else {
                s.webhooks()
                    .record_attempt(delivery, status, None, duration_ms, None, true)?;
                s.jobs().complete(&job, now)?;
                return Ok(());
            };
            let next = match s.jobs().fail(&job, &error, now, wait)? {
                Some(FailOutcome::RetryAt(at)) => Some(at),
                _ => None,
            };
            s.webhooks().record_attempt(
                delivery,
                status,
                Some(&error),
                duration_ms,
                next,
                false,
            )?;
            Ok(())
        })
        .await?;
        Ok(Attempt::Recorded)
    }
}

/// The `Location` of an answer, if it has one.
fn location(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| value.as_str())
}

/// A transport error as a sentence (reqwest's Display hides the cause chain).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER {
                    return Err(format!("the answer is larger than {MAX_ANSWER} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(describe(&e)),
        }
    }
}
