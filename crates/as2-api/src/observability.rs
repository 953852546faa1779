//! Request ids and structured access logs.
//!
//! Every request gets an `x-request-id` (the client's, if it sent a sane one, else a new
//! UUID), echoed on the response and carried by the request's tracing span. The access log
//! line records the client address (as the server loop derived it: `AS2_TRUSTED_PROXIES`),
//! method, path, status and latency; never headers or bodies, so an API key, a
//! partner password or a private key cannot reach a log line. `Authorization` is also marked
//! sensitive for any layer that would print headers.

use std::time::Duration;

use as2_domain::forwarded::ClientAddr;

use axum::{
    Router,
    extract::Request,
    http::{HeaderName, Response, header},
};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    trace::TraceLayer,
};
use tracing::Span;

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a router with request ids, sensitive-header marking and the access log.
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("-")
                        .to_owned();
                    // the client address the server loop derived (a trusted proxy's
                    // forwarding headers, else the peer); absent when served otherwise
                    let client = request
                        .extensions()
                        .get::<ClientAddr>()
                        .map_or_else(|| "-".to_owned(), |c| c.ip.to_string());
                    tracing::info_span!(
                        "request",
                        request_id = %id,
                        client = %client,
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_request(())
                .on_response(|response: &Response<_>, latency: Duration, _span: &Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1000.0,
                        "access"
                    );
                }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
        ]))
}
