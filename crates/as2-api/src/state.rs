//! `AppState`: what every handler shares (the store, the payload store, the rate limiter,
//! configuration), and `blocking`, which runs diesel work off the async threads.

use std::sync::Arc;

use as2_domain::public_url::PublicAs2Urls;
use as2_store::payload::PayloadStore;
use as2_store::{Store, StoreError};

use crate::error::ApiError;
use crate::rate_limit::{ConcurrencyLimiter, Limits};
use crate::rate_limit_shared::{RateLimitStore, RateLimits};

/// API configuration (from the environment in the binary, literal in tests).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The URL partners post live AS2 messages to (`AS2_PUBLIC_AS2_URL`; the default MDN URL
    /// of live stations).
    pub public_as2_url: String,
    /// The URL for test-mode messages (`AS2_PUBLIC_AS2_TEST_URL`; derived from the live one
    /// when unset, see [`PublicAs2Urls::new`]).
    pub public_as2_test_url: Option<String>,
    /// Limits of Enterprise accounts without their own.
    pub enterprise_limits: Limits,
    /// Where the per-key rate limit is counted (`AS2_RATE_LIMIT_STORE`).
    pub rate_limit_store: RateLimitStore,
    /// Largest message payload accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most database tasks at once: one less than the pool's connections, so that a task
    /// that needs a second connection while holding one (API-key authentication does) always
    /// finds it, and waiting requests queue here instead of on blocking threads.
    pub db_concurrency: usize,
    /// Where the time-stamp tokens of trust events come from (the built-in authority by
    /// default, or an RFC 3161 TSA over HTTP).
    pub tsa: as2_trust::stamper::TsaConfig,
    /// Which addresses partner, MDN and webhook URLs may name (`AS2_OUTBOUND_ALLOW`; by
    /// default no loopback, private or link-local address).
    pub destinations: as2_domain::destination::DestinationPolicy,
    /// How queries reach a remote TSA: the binary passes the platform's outbound client
    /// (which applies the same destination policy); `None` leaves a remote TSA unreachable.
    pub tsa_transport: Option<Arc<dyn as2_trust::tsa_transport::TsaTransport>>,
    /// Runs partner connection tests (`POST /v1/partners/{id}/test`): the binary passes the
    /// engine's network tester (the same destination policy); `None` answers 503.
    pub connection_tester: Option<Arc<dyn as2_domain::connection_test::ConnectionTester>>,
    /// The operator console's sessions and sign-in rules.
    pub console: crate::console::ConsoleConfig,
    /// How long a request body may take (`AS2_API_BODY_TIMEOUT_SECS`,
    /// `AS2_API_BODY_IDLE_TIMEOUT_SECS`).
    pub body_deadlines: crate::body_deadline::BodyDeadlines,
}

impl ApiConfig {
    /// The public AS2 URL of each mode.
    pub fn public_as2_urls(&self) -> PublicAs2Urls {
        PublicAs2Urls::new(
            self.public_as2_url.clone(),
            self.public_as2_test_url.clone(),
        )
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            public_as2_url: "http://127.0.0.1:8081/as2/receive".into(),
            public_as2_test_url: None,
            enterprise_limits: Limits {
                per_minute: 5000,
                burst: 1000,
                concurrent: 100,
            },
            rate_limit_store: RateLimitStore::Auto,
            max_message_bytes: 1 << 30,
            db_concurrency: usize::try_from(
                as2_store::PoolOptions::default()
                    .max_connections
                    .saturating_sub(1)
                    .max(1),
            )
            .unwrap_or(1),
            tsa: as2_trust::stamper::TsaConfig::BuiltIn,
            destinations: as2_domain::destination::DestinationPolicy::strict(),
            tsa_transport: None,
            connection_tester: None,
            console: crate::console::ConsoleConfig::default(),
            body_deadlines: crate::body_deadline::BodyDeadlines::default(),
        }
    }
}

/// Shared state of the API.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    payloads: PayloadStore,
    limiter: RateLimits,
    in_flight: ConcurrencyLimiter,
    db_permits: Arc<tokio::sync::Semaphore>,
    stamper: as2_trust::stamper::Stamper,
    config: ApiConfig,
    readiness: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl AppState {
    /// State over a store and a payload store.
    pub fn new(store: Store, payloads: PayloadStore, config: ApiConfig) -> Self {
        let stamper = match &config.tsa_transport {
            Some(transport) => as2_trust::stamper::Stamper::with_transport(
                store.clone(),
                config.tsa.clone(),
                transport.clone(),
            ),
            None => as2_trust::stamper::Stamper::new(store.clone(), config.tsa.clone()),
        };
        let limiter = RateLimits::new(config.rate_limit_store, store.db().backend());
        Self {
            inner: Arc::new(Inner {
                store,
                payloads,
                limiter,
                in_flight: ConcurrencyLimiter::default(),
                db_permits: Arc::new(tokio::sync::Semaphore::new(config.db_concurrency.max(1))),
                stamper,
                config,
                readiness: tokio::sync::Mutex::default(),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The payload store.
    pub fn payloads(&self) -> &PayloadStore {
        &self.inner.payloads
    }

    /// The rate limiter.
    pub fn limiter(&self) -> &RateLimits {
        &self.inner.limiter
    }

    /// The requests of each account in flight.
    pub fn in_flight(&self) -> &ConcurrencyLimiter {
        &self.inner.in_flight
    }

    /// The time-stamper of trust events.
    pub fn stamper(&self) -> &as2_trust::stamper::Stamper {
        &self.inner.stamper
    }

    /// Configuration.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// The last `/readyz` verdict and when it was taken.
    pub(crate) fn readiness(&self) -> &tokio::sync::Mutex<Option<(std::time::Instant, bool)>> {
        &self.inner.readiness
    }

    /// Runs `work` on the blocking pool with the store; store errors become API errors
    /// (`NotFound` as a 404 naming `resource`).
    pub async fn blocking<T, F>(&self, resource: &'static str, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Self) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let state = self.clone();
        let permit = self
            .inner
            .db_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal(&e))?;
        // The permit goes with the work: a cancelled request's task still holds it until done.
        match tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&state)
        })
        .await
        {
            Ok(result) => result.map_err(|e| e.or_not_found(resource)),
            Err(join) => Err(ApiError::internal(&join)),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::not_found("Resource"),
            StoreError::Conflict(what) => Self::conflict(
                crate::error::ErrorKind::Conflict,
                "conflict",
                capitalize(&what),
            ),
            StoreError::Invalid(errors) => crate::validation::into_api(&errors),
            StoreError::Unavailable(_) => {
                tracing::error!(error = %error, "database unavailable");
                Self::database_unavailable()
            }
            other => Self::internal(&other),
        }
    }
}

impl From<as2_trust::TrustOpError> for ApiError {
    fn from(error: as2_trust::TrustOpError) -> Self {
        use as2_trust::TrustOpError;
        match error {
            TrustOpError::Invalid(errors) => crate::validation::into_api(&errors),
            TrustOpError::NotFound(resource) => Self::not_found(resource),
            TrustOpError::Conflict(what) => Self::conflict(
                crate::error::ErrorKind::Conflict,
                "conflict",
                capitalize(&what),
            ),
            TrustOpError::Store(store) => store.into(),
            other => Self::internal(&other),
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
