//! The gateway's HTTP surface (axum). Live AS2 traffic on `POST /as2/receive` and `/as2`
//! (messages, and async MDNs recognised by their content) and `POST /as2/mdn` (async MDNs);
//! test traffic on the same paths under `/as2/test/…`; `/healthz` and `/readyz`. Prometheus
//! `/metrics` is a separate router ([`metrics_router`]) for a separate, private listener.
//!
//! An AS2 request is handled in two steps: admission on its headers alone
//! ([`crate::admission`]), under a cap on concurrent AS2 requests; then, only if admitted, the
//! synchronous pipeline runs on the blocking pool while its body is read
//! ([`crate::body_reader`]) within the receiver's size limit (413 as soon as it is over,
//! chunked or not) and the body timeouts. A message's body streams through a bounded channel
//! into the decoder, so what a message in flight holds is a fixed reservation
//! (`AS2_MESSAGE_BUFFER_BYTES` plus the channel) from the budget of bytes held at once across
//! requests; an MDN, small, is read whole within that budget. The header read timeout belongs
//! to the server loop ([`crate::serve`]).

use crate::tls::PeerCertificate;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use as2_core::crypto::CryptoProvider;
use as2_core::message::MicChoice;
use as2_domain::Mode;
use as2_domain::forwarded::ClientAddr;
use as2_domain::public_url::{LIVE_PATH, TEST_PATH};
use as2_store::Store;
use as2_store::payload::PayloadStore;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Semaphore, mpsc};

use crate::admission::{AdmissionRequest, admit};
use crate::body_reader::{
    BodyReader, Budget, CHANNEL_PIECES, MAX_MDN_BYTES, Reserved, SMALL_BODY_BYTES, TRANSIT_BYTES,
    head_of, pump, read_small, read_whole,
};
use crate::inbound::body::{ChannelBody, WholeBody};
use crate::inbound::{ReceiveOptions, receive_admitted};
use crate::inbox::Inbox;
use crate::mdn::receive_async::{is_multipart_signed, looks_like_mdn, receive_mdn};
use crate::metrics::Metrics;
use crate::outcome::HttpAnswer;
use crate::refusal::Refusal;

/// What the gateway's handlers share.
#[derive(Debug, Clone)]
pub struct GatewayState {
    /// The database.
    pub store: Arc<Store>,
    /// Payloads, raw MDNs.
    pub payloads: Arc<PayloadStore>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Where received payloads are also delivered, if anywhere.
    pub inbox: Option<Arc<Inbox>>,
    /// The MIC algorithm rule for signed messages.
    pub mic_choice: MicChoice,
    /// What to do with a partner's certificate exchange (CEM) request.
    pub cem_policy: as2_trust::cem::CemPolicy,
    /// The crypto provider: randomness and the key implementation (the binary chooses it).
    pub crypto: &'static CryptoProvider,
}

/// The limits of the AS2 endpoint: what one stranger can make the gateway hold.
#[derive(Debug, Clone)]
pub struct InboundLimits {
    /// The largest request body accepted (`AS2_MAX_MESSAGE_BYTES`); a tenant's own limit may
    /// be smaller.
    pub max_message_bytes: u64,
    /// How long a whole body may take to arrive (`AS2_BODY_TIMEOUT_SECS`).
    pub body_timeout: Duration,
    /// How long the body may pause between two pieces (`AS2_BODY_IDLE_TIMEOUT_SECS`).
    pub body_idle_timeout: Duration,
    /// AS2 requests (messages and MDNs) handled at once; beyond, 503 with `Retry-After`
    /// (`AS2_MAX_CONCURRENT_REQUESTS`).
    pub max_concurrent_requests: usize,
    /// Request body bytes held in memory at once across requests: each message in flight
    /// reserves [`Self::message_buffer_bytes`] and the channel's share, each MDN its size; a
    /// request that would exceed what is left is refused with 503 (`AS2_MAX_BUFFERED_BYTES`).
    pub max_buffered_bytes: u64,
    /// What the decoder of one message may hold at once (a signature part, the recipients,
    /// a header block), whatever the message's size (`AS2_MESSAGE_BUFFER_BYTES`).
    pub message_buffer_bytes: u64,
}

impl InboundLimits {
    /// What one message in flight reserves from [`Self::max_buffered_bytes`].
    #[must_use]
    pub fn per_message_bytes(&self) -> u64 {
        self.message_buffer_bytes.saturating_add(TRANSIT_BYTES)
    }
}

impl Default for InboundLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 1536 * 1024 * 1024,
            body_timeout: Duration::from_secs(3600),
            body_idle_timeout: Duration::from_secs(60),
            max_concurrent_requests: 64,
            max_buffered_bytes: 256 * 1024 * 1024,
            message_buffer_bytes: as2_core::message::DEFAULT_MAX_BUFFERED as u64,
        }
    }
}

#[derive(Debug, Clone)]
struct Front {
    state: GatewayState,
    limits: Arc<InboundLimits>,
    requests: Arc<Semaphore>,
    budget: Budget,
    /// The last `/readyz` verdict and when it was taken: anyone can call it, so the
    /// database is asked at most once per [`READY_CACHE`].
    readiness: Arc<tokio::sync::Mutex<Option<(Instant, bool)>>>,
}

/// How long a `/readyz` verdict is reused.
const READY_CACHE: Duration = Duration::from_secs(1);

/// Which requests a path takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// Messages, and MDNs recognised by their content.
    Any,
    /// Async MDNs only.
    Mdn,
}

/// The gateway's public router: the AS2 endpoints of both modes, `/healthz`, `/readyz`.
pub fn router(state: GatewayState, limits: InboundLimits) -> Router {
    let front = Front {
        budget: Budget::new(limits.max_buffered_bytes, state.metrics.clone()),
        state,
        requests: Arc::new(Semaphore::new(
            limits.max_concurrent_requests.min(Semaphore::MAX_PERMITS),
        )),
        limits: Arc::new(limits),
        readiness: Arc::default(),
    };
    let mut router = Router::new();
    for (mode, receive_path) in [(Mode::Live, LIVE_PATH), (Mode::Test, TEST_PATH)] {
        let base = receive_path.trim_end_matches("/receive");
        router = router
            .route(
                receive_path,
                post(move |s: State<Front>, r: Request| as2_request(s, r, mode, Endpoint::Any)),
            )
            .route(
                base,
                post(move |s: State<Front>, r: Request| as2_request(s, r, mode, Endpoint::Any)),
            )
            .route(
                &format!("{base}/mdn"),
                post(move |s: State<Front>, r: Request| as2_request(s, r, mode, Endpoint::Mdn)),
            );
    }
    router
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(ready))
        .with_state(front)
}

/// The metrics router (`GET /metrics`), for the private metrics listener: counters and the
/// database gauges as last refreshed by [`crate::metrics::refresh_gauges`]; a scrape never
/// queries the database.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let text = metrics.render();
            async move {
                (
                    [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                    text,
                )
            }
        }),
    )
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            // Header values are bytes; partners send Latin-1 at worst.
            let value = v
                .to_str()
                .map(str::to_owned)
                .unwrap_or_else(|_| v.as_bytes().iter().map(|&b| char::from(b)).collect());
            (n.as_str().to_owned(), value)
        })
        .collect()
}

fn answer(a: HttpAnswer) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in &a.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Body::from(a.body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// One AS2 request: admission, body, pipeline.
async fn as2_request(
    State(front): State<Front>,
    request: Request,
    mode: Mode,
    endpoint: Endpoint,
) -> Response {
    let started = Instant::now();
    let metrics = front.state.metrics.clone();
    let reply = match front.requests.clone().try_acquire_owned() {
        Ok(slot) => {
            let reply = admit_read_process(&front, request, mode, endpoint).await;
            drop(slot);
            reply
        }
        Err(_) => {
            metrics.shed_concurrency.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                limit = front.limits.max_concurrent_requests,
                "refused: too many AS2 requests at once"
            );
            unread(Refusal::Busy.answer())
        }
    };
    metrics.inbound(reply.status, started.elapsed());
    tracing::info!(
        status = reply.status,
        mode = mode.as_str(),
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "as2 request"
    );
    answer(reply)
}

/// A refusal answered while the body may still be on its way: the connection is closed after
/// it rather than the body read.
fn unread(answer: HttpAnswer) -> HttpAnswer {
    answer.with_header("Connection", "close")
}

async fn admit_read_process(
    front: &Front,
    request: Request,
    mode: Mode,
    endpoint: Endpoint,
) -> HttpAnswer {
    let (parts, body) = request.into_parts();
    // the client address the server loop derived (a trusted proxy's forwarding headers), else
    // the socket's peer
    let remote = parts
        .extensions
        .get::<ClientAddr>()
        .map(|client| client.ip)
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        });
    let pairs = header_pairs(&parts.headers);
    let content_length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let store = front.state.store.clone();
    let max_bytes = front.limits.max_message_bytes;
    let peer = parts.extensions.get::<PeerCertificate>().cloned();
    let admitted = tokio::task::spawn_blocking(move || {
        let request = AdmissionRequest {
            headers: &pairs,
            mode,
            remote,
            content_length,
            max_bytes,
            client_certificate: peer.as_ref().map(|p| &*p.0),
        };
        admit(&store, &request).map(|admitted| (admitted, pairs))
    })
    .await;
    let (admitted, pairs) = match admitted {
        Ok(Ok(admitted)) => admitted,
        Ok(Err(refusal)) => return unread(refusal.answer()),
        Err(e) => {
            tracing::error!(error = %e, "admission did not finish");
            return unread(Refusal::Unavailable.answer());
        }
    };
    let admitted = Arc::new(admitted);
    let mut reader = BodyReader::new(
        body,
        admitted.clone(),
        front.limits.clone(),
        front.state.metrics.clone(),
    );
    let (is_mdn, read_ahead) = match endpoint {
        Endpoint::Mdn => (true, Vec::new()),
        Endpoint::Any => match sniff_mdn(&pairs, &mut reader).await {
            Ok(sniffed) => sniffed,
            Err(refusal) => return unread(refusal.answer()),
        },
    };
    let mut reserved = Reserved::default();
    if is_mdn {
        // an MDN is read whole: one announced larger than that is refused unread
        if let Some(declared) = content_length.filter(|n| *n > MAX_MDN_BYTES) {
            tracing::warn!(
                bytes = declared,
                "refused: an MDN larger than the gateway reads"
            );
            return unread(
                Refusal::TooLarge {
                    limit: MAX_MDN_BYTES,
                    tenant: false,
                }
                .answer(),
            );
        }
        let body = match read_whole(&mut reader, read_ahead, &front.budget, &mut reserved).await {
            Ok(body) => body,
            Err(refusal) => return unread(refusal.answer()),
        };
        let state = front.state.clone();
        let reply = tokio::task::spawn_blocking(move || {
            let reply = receive_mdn(
                state.crypto,
                &state.store,
                &state.payloads,
                &admitted,
                &pairs,
                &body,
            );
            drop(reserved);
            reply
        })
        .await;
        return reply.unwrap_or_else(|e| {
            tracing::error!(error = %e, "the MDN pipeline did not finish");
            Refusal::NotProcessed.answer()
        });
    }
    // A message holds a fixed share of the budget whatever its size.
    if let Err(refusal) = front
        .budget
        .reserve(&mut reserved, front.limits.per_message_bytes())
    {
        return unread(refusal.answer());
    }
    let state = front.state.clone();
    let buffer_bytes = usize::try_from(front.limits.message_buffer_bytes).unwrap_or(usize::MAX);
    let not_finished = |e: tokio::task::JoinError| {
        tracing::error!(error = %e, "the inbound pipeline did not finish");
        Refusal::NotProcessed.answer()
    };
    if content_length.is_some_and(|n| n <= SMALL_BODY_BYTES) {
        let body = match read_small(&mut reader, read_ahead).await {
            Ok(body) => body,
            Err(refusal) => return unread(refusal.answer()),
        };
        let reply = tokio::task::spawn_blocking(move || {
            let options = receive_options(&state, buffer_bytes);
            receive_admitted(
                &state.store,
                &state.payloads,
                options,
                &admitted,
                &mut WholeBody::new(&body),
            )
        })
        .await;
        drop(reserved);
        return reply.unwrap_or_else(not_finished);
    }
    let (sender, receiver) = mpsc::channel(CHANNEL_PIECES);
    let pipeline = tokio::task::spawn_blocking(move || {
        let mut body = ChannelBody::new(receiver);
        let options = receive_options(&state, buffer_bytes);
        receive_admitted(&state.store, &state.payloads, options, &admitted, &mut body)
    });
    let (read_to_end, reply) = tokio::join!(pump(&mut reader, read_ahead, sender), pipeline);
    drop(reserved);
    let reply = reply.unwrap_or_else(not_finished);
    // an answer given before the whole body was read closes the connection
    if read_to_end { reply } else { unread(reply) }
}

/// How the gateway's state receives a message whose decoder may hold `buffer_bytes`.
fn receive_options(state: &GatewayState, buffer_bytes: usize) -> ReceiveOptions<'_> {
    ReceiveOptions {
        crypto: state.crypto,
        inbox: state.inbox.as_deref(),
        mic_choice: state.mic_choice,
        cem_policy: state.cem_policy,
        buffer_bytes,
    }
}

/// Whether a request to the general endpoint is an MDN: by its content type, and for
/// `multipart/signed` by the start of its body; the pieces read to tell.
async fn sniff_mdn(
    pairs: &[(String, String)],
    reader: &mut BodyReader,
) -> Result<(bool, Vec<axum::body::Bytes>), Refusal> {
    if looks_like_mdn(pairs, b"") {
        return Ok((true, Vec::new()));
    }
    if !is_multipart_signed(pairs) {
        return Ok((false, Vec::new()));
    }
    let pieces = reader.sniff().await?;
    Ok((looks_like_mdn(pairs, &head_of(&pieces)), pieces))
}

async fn ready(State(front): State<Front>) -> Response {
    // one caller asks the database while the others wait for its verdict
    let mut last = front.readiness.lock().await;
    let ready = match *last {
        Some((at, verdict)) if at.elapsed() < READY_CACHE => verdict,
        _ => {
            let store = front.state.store.clone();
            let verdict = matches!(
                tokio::task::spawn_blocking(move || store.jobs().depth()).await,
                Ok(Ok(_))
            );
            *last = Some((Instant::now(), verdict));
            verdict
        }
    };
    drop(last);
    if ready {
        axum::Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            // a restart of the database takes seconds; the pool reconnects on its own
            [("Retry-After", "2")],
            axum::Json(serde_json::json!({ "status": "unavailable", "reason": "the database does not answer" })),
        )
            .into_response()
    }
}
