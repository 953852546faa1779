//! The job worker: claims jobs (`send_message`, `send_mdn`, `mdn_timeout`,
//! `deliver_webhook`, `send_alert`) under a lease, runs the synchronous parts on tokio's blocking pool and
//! the HTTP with reqwest. Each kind's run says how it ended ([`Run`]) and what to write with
//! that ([`Effects`]); [`Worker::handle`] records both in one transaction, the only place a
//! job's outcome is written. Several workers (in one process or many) share the queue; a job
//! whose worker died is claimed again when its lease runs out.

mod deliver_webhook;
mod encode_body;
pub(crate) mod partner_tls;
mod post;
mod send_alert;
mod send_mdn;
mod send_message;
mod stream_body;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::Ordering;

use crate::http_client::OutboundClient;
use as2_core::crypto::CryptoProvider;
use as2_domain::destination::DestinationPolicy;
use as2_domain::job::JobKind;
use as2_store::jobs::{Fate, Job, JobInput, MdnTimeout, Outcome, retry_policy};
use as2_store::payload::PayloadStore;
use as2_store::{Store, StoreResult, Tx};
use tokio::sync::watch;

use crate::error::EngineError;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::outbound::{self, OutboundConfig};

/// The jobs this worker runs: every kind.
const KINDS: [JobKind; 5] = [
    JobKind::SendMessage,
    JobKind::SendMdn,
    JobKind::MdnTimeout,
    JobKind::DeliverWebhook,
    JobKind::SendAlert,
];

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
    /// The mail server email alerts go through (`AS2_SMTP_URL`, `AS2_SMTP_FROM`); without
    /// one a `send_alert` job ends unsent, with that reason.
    pub mailer: Option<Mailer>,
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
            mailer: None,
        }
    }
}

/// Runs jobs.
#[derive(Debug, Clone)]
pub struct Worker {
    store: Arc<Store>,
    payloads: Arc<PayloadStore>,
    http: OutboundClient,
    partner_clients: Arc<partner_tls::PartnerClients>,
    config: Arc<WorkerConfig>,
    metrics: Arc<Metrics>,
}

/// How one run of a job ended.
#[derive(Debug)]
enum Run {
    /// It did its work (whatever became of the message).
    Done,
    /// It failed for now: again after its kind's backoff (from `base` instead of the kind's
    /// when given: a partner's own retry interval), unless this was the last attempt.
    Retry {
        reason: String,
        base: Option<chrono::Duration>,
    },
    /// It failed for good: no attempt can succeed (an unreadable input, a refused address).
    Stop { reason: String },
}

/// What a run writes together with its outcome, once the job's fate is known.
type Effects = Box<dyn FnOnce(&mut Tx<'_>, Fate) -> StoreResult<()> + Send>;

/// A run's outcome and its writes.
struct Finish {
    run: Run,
    effects: Option<Effects>,
}

impl Finish {
    fn done() -> Self {
        Self {
            run: Run::Done,
            effects: None,
        }
    }

    fn with(
        run: Run,
        effects: impl FnOnce(&mut Tx<'_>, Fate) -> StoreResult<()> + Send + 'static,
    ) -> Self {
        Self {
            run,
            effects: Some(Box::new(effects)),
        }
    }
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
            partner_clients: Arc::default(),
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

    /// Runs `job` and records how it ended, with the run's effects, in one transaction.
    async fn handle(&self, job: &Job) {
        let run = self.keeping_the_lease(job, self.run_kind(job)).await;
        let Finish { run, effects } = run.unwrap_or_else(|e| {
            tracing::error!(job = %job.id, kind = job.kind.as_str(), error = %e, "job attempt failed");
            let run = match e {
                EngineError::BadJob(bad) => Run::Stop {
                    reason: bad.to_string(),
                },
                other => Run::Retry {
                    reason: other.to_string(),
                    base: None,
                },
            };
            Finish { run, effects: None }
        });
        let outcome = match run {
            Run::Done => Outcome::Done,
            Run::Retry { reason, base } => {
                let policy = retry_policy(job.kind);
                let policy = base.map_or(policy, |base| policy.with_base(base));
                Outcome::Retry {
                    reason,
                    after: policy.delay(job.attempts),
                }
            }
            Run::Stop { reason } => Outcome::Stop { reason },
        };
        let counter = match outcome {
            Outcome::Done => &self.metrics.jobs_done,
            Outcome::Retry { .. } | Outcome::Stop { .. } => &self.metrics.jobs_failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        // the outcome is written once: while the database is away, wait for it (the
        // effects cannot be run twice, and a job left `running` waits for its lease)
        self.wait_for_database().await;
        let job = job.clone();
        let recorded = self
            .blocking(move |s, _| {
                let effects = effects.unwrap_or_else(|| Box::new(|_, _| Ok(())));
                Ok(s.jobs()
                    .finish(&job, &outcome, chrono::Utc::now(), effects)?)
            })
            .await;
        match recorded {
            Ok(Some(_)) => {}
            Ok(None) => tracing::warn!(
                "a job's lease was lost before its outcome was recorded; another worker runs it"
            ),
            Err(e) => tracing::error!(error = %e, "recording a job's outcome failed"),
        }
    }

    /// The kind's run of `job`.
    async fn run_kind(&self, job: &Job) -> Result<Finish, EngineError> {
        match job.kind {
            JobKind::SendMessage => self.send_message(job).await,
            JobKind::SendMdn => self.send_mdn(job).await,
            JobKind::MdnTimeout => self.mdn_timeout(job).await,
            JobKind::DeliverWebhook => self.deliver_webhook(job).await,
            JobKind::SendAlert => self.send_alert(job).await,
        }
    }

    /// Drives `work` while renewing `job`'s lease every third of it, so a run longer than the
    /// lease (a large file to a slow partner) is not claimed again by another worker.
    async fn keeping_the_lease<T>(&self, job: &Job, work: impl Future<Output = T>) -> T {
        let period = (self.config.lease / 3).max(Duration::from_millis(100));
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = heartbeat.tick() => self.renew_lease(job).await,
            }
        }
    }

    async fn renew_lease(&self, job: &Job) {
        let (held, lease) = (job.clone(), lease(self.config.lease));
        let renewed = self
            .blocking(move |s, _| Ok(s.jobs().renew(&held, chrono::Utc::now(), lease)?))
            .await;
        match renewed {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                job = %job.id,
                "the job's lease was lost while it ran; its outcome will not be recorded"
            ),
            Err(e) => tracing::warn!(job = %job.id, error = %e, "renewing a job's lease failed"),
        }
    }

    /// Returns once the database answers, or after half the lease (the job is then left to
    /// its lease running out). Asks at once, then with a growing pause of up to 5 seconds.
    async fn wait_for_database(&self) {
        let give_up = tokio::time::Instant::now() + self.config.lease / 2;
        let mut pause = Duration::from_millis(200);
        loop {
            let store = self.store.clone();
            match tokio::task::spawn_blocking(move || store.db().ping()).await {
                Ok(Ok(())) => return,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the database does not answer; the job's outcome waits");
                }
                Err(e) => tracing::warn!(error = %e, "asking the database did not finish"),
            }
            if tokio::time::Instant::now() + pause > give_up {
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    async fn mdn_timeout(&self, job: &Job) -> Result<Finish, EngineError> {
        let input = MdnTimeout::parse(&job.payload)?;
        let (scope, message) = (input.0.scope()?, input.0.message());
        Ok(Finish::with(Run::Done, move |tx, _| {
            outbound::mdn_timed_out(tx, scope, message)
        }))
    }
}
