//! The gateway's HTTP surface (axum): `POST /as2/receive` for messages and async MDNs,
//! `POST /as2/mdn` for async MDNs, `/healthz`, `/readyz` and Prometheus `/metrics`.
//! Bodies are read whole up to `max_body` (chunked and `Expect: 100-continue` are handled
//! by hyper); the synchronous pipeline runs on the blocking pool.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use as2_core::message::MicChoice;
use as2_store::Store;
use as2_store::payload::PayloadStore;
use axum::Extension;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::inbound::{InboundRequest, ReceiveOptions, receive};
use crate::inbox::Inbox;
use crate::mdn_inbound::{looks_like_mdn, receive_mdn};
use crate::metrics::Metrics;
use crate::outcome::HttpAnswer;

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
}

/// The gateway's router; `max_body` bounds one AS2 request's body.
pub fn router(state: GatewayState, max_body: usize) -> Router {
    Router::new()
        .route("/as2/receive", post(receive_as2))
        .route("/as2", post(receive_as2))
        .route("/as2/mdn", post(receive_async_mdn))
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
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

async fn receive_as2(
    State(state): State<GatewayState>,
    remote: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let pairs = header_pairs(&headers);
    let remote = remote.map(|Extension(ConnectInfo(addr))| addr.ip());
    let (store, payloads, inbox, mic_choice, cem_policy) = (
        state.store.clone(),
        state.payloads.clone(),
        state.inbox.clone(),
        state.mic_choice,
        state.cem_policy,
    );
    let result = tokio::task::spawn_blocking(move || {
        if looks_like_mdn(&pairs, &body) {
            receive_mdn(&store, &payloads, &pairs, &body)
        } else {
            receive(
                &store,
                &payloads,
                ReceiveOptions {
                    inbox: inbox.as_deref(),
                    mic_choice,
                    cem_policy,
                },
                &InboundRequest {
                    headers: &pairs,
                    body: &body,
                    remote,
                },
            )
        }
    })
    .await;
    let reply = result.unwrap_or_else(|e| {
        tracing::error!(error = %e, "the inbound pipeline did not finish");
        HttpAnswer::text(503, "The message could not be processed; retry later")
    });
    state.metrics.inbound(reply.status, started.elapsed());
    tracing::info!(
        status = reply.status,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "as2 request"
    );
    answer(reply)
}

async fn receive_async_mdn(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = header_pairs(&headers);
    let (store, payloads) = (state.store.clone(), state.payloads.clone());
    let reply = tokio::task::spawn_blocking(move || receive_mdn(&store, &payloads, &pairs, &body))
        .await
        .unwrap_or_else(|_| HttpAnswer::text(503, "The MDN could not be recorded; retry later"));
    answer(reply)
}

async fn ready(State(state): State<GatewayState>) -> Response {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.jobs().depth()).await {
        Ok(Ok(_)) => axum::Json(serde_json::json!({ "status": "ready" })).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "unavailable", "reason": "the database does not answer" })),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<GatewayState>) -> Response {
    let store = state.store.clone();
    let gauges = tokio::task::spawn_blocking(move || {
        let depth = store.jobs().depth().ok()?;
        let statuses = store.messages().count_by_status().ok()?;
        Some((depth, statuses))
    })
    .await
    .ok()
    .flatten();
    let mut text = state.metrics.render();
    if let Some((depth, statuses)) = gauges {
        text.push_str("# HELP as2_queue_depth Jobs waiting or running, by kind.\n# TYPE as2_queue_depth gauge\n");
        for (kind, n) in depth {
            text.push_str(&format!("as2_queue_depth{{kind=\"{kind}\"}} {n}\n"));
        }
        text.push_str(
            "# HELP as2_messages Messages by direction and status.\n# TYPE as2_messages gauge\n",
        );
        for (direction, status, n) in statuses {
            text.push_str(&format!(
                "as2_messages{{direction=\"{direction}\",status=\"{status}\"}} {n}\n"
            ));
        }
    }
    (
        [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}
