//! The gateway's wiring in one place, for the binary and the end-to-end harness alike: the
//! AS2 endpoint's router over the shared state, the job worker and the maintenance loop, and
//! one stop signal for the background work.

use std::sync::Arc;
use std::time::Duration;

use as2_core::crypto::CryptoProvider;
use as2_core::message::MicChoice;
use as2_store::Store;
use as2_store::payload::PayloadStore;
use as2_trust::cem::CemPolicy;
use as2_trust::stamper::Stamper;
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::{GatewayState, InboundLimits, router};
use crate::inbox::Inbox;
use crate::maintenance::Maintenance;
use crate::metrics::Metrics;
use crate::worker::{Worker, WorkerConfig};

/// What the gateway is made of, beyond the store and the payloads.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Randomness and the key implementation (the binary chooses it).
    pub crypto: &'static CryptoProvider,
    /// Where received payloads are also delivered, if anywhere.
    pub inbox: Option<Arc<Inbox>>,
    /// The MIC algorithm rule for signed messages.
    pub mic_choice: MicChoice,
    /// What to do with a partner's certificate exchange request.
    pub cem_policy: CemPolicy,
    /// The AS2 endpoint's limits.
    pub limits: InboundLimits,
    /// The job worker's settings; `None` for an endpoint-only instance (no worker and no
    /// maintenance loop).
    pub worker: Option<WorkerConfig>,
    /// The time-stamper of trust events and how often the maintenance loop runs.
    pub maintenance: (Stamper, Duration),
    /// How long a payload may exist without a row before the maintenance loop deletes it
    /// (`AS2_ORPHAN_GRACE_SECS`; [`crate::maintenance::DEFAULT_ORPHAN_GRACE`]).
    pub orphan_grace: Duration,
}

/// The gateway, wired and not yet running.
#[derive(Debug)]
pub struct Gateway {
    state: GatewayState,
    limits: InboundLimits,
    worker: Option<Worker>,
    maintenance: Option<Maintenance>,
}

/// The gateway's background work, running until the stop signal.
#[derive(Debug)]
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Gateway {
    /// Wires the gateway over `store` and `payloads`.
    ///
    /// # Errors
    /// The worker's HTTP client cannot be built (TLS roots unavailable).
    pub fn new(
        store: Arc<Store>,
        payloads: Arc<PayloadStore>,
        config: GatewayConfig,
    ) -> Result<Self, reqwest::Error> {
        let metrics = Arc::new(Metrics::default());
        let worker = config
            .worker
            .map(|worker| Worker::new(store.clone(), payloads.clone(), worker, metrics.clone()))
            .transpose()?;
        let maintenance = worker.as_ref().map(|_| {
            let (stamper, interval) = config.maintenance;
            Maintenance::new(store.clone(), payloads.clone(), stamper, interval)
                .with_orphan_grace(config.orphan_grace)
        });
        Ok(Self {
            state: GatewayState {
                store,
                payloads,
                metrics,
                inbox: config.inbox,
                mic_choice: config.mic_choice,
                cem_policy: config.cem_policy,
                crypto: config.crypto,
            },
            limits: config.limits,
            worker,
            maintenance,
        })
    }

    /// The AS2 endpoint (`/as2/receive`, `/as2/test/receive`, the MDN URLs, the probes).
    pub fn router(&self) -> Router {
        router(self.state.clone(), self.limits.clone())
    }

    /// The counters the endpoint and the worker keep (for `/metrics`).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.state.metrics.clone()
    }

    /// Starts the worker and the maintenance loop (when the gateway has them).
    pub fn start_background(&self) -> Background {
        let (stop, stopped) = watch::channel(false);
        let until = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let mut tasks = Vec::new();
        if let Some(worker) = self.worker.clone() {
            tasks.push(tokio::spawn(worker.run(until(stopped.clone()))));
        }
        if let Some(maintenance) = self.maintenance.clone() {
            tasks.push(tokio::spawn(maintenance.run(until(stopped))));
        }
        Background { stop, tasks }
    }
}

impl Background {
    /// Stops the background work: in-flight jobs get their grace period, then are released.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Signals the stop without waiting (a harness that is being dropped).
    pub fn signal_stop(&self) {
        let _ = self.stop.send(true);
    }
}
