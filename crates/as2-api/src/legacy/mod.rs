//! `/api/v1`: the station-style API of seed 000. Every call is a POST with a JSON body, ids
//! are integers (`prt_000107` is `107` here), and answers are `{"status":"success","msg",
//! "data"}` or `{"status":"error","msg"}`. It reads and writes the same rows as `/v1`.

pub mod cem;
pub mod certificates;
pub mod firewall;
pub mod messages;
pub mod partners;
pub mod reply;
pub mod stations;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;

use crate::state::AppState;

/// The `/api/v1` routes, behind the same authentication as `/v1`.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/partners", post(partners::list))
        .route("/api/v1/partners/detail", post(partners::detail))
        .route("/api/v1/partners/create", post(partners::create))
        .route("/api/v1/partners/cem/trust", post(cem::show))
        .route(
            "/api/v1/partners/cem/schedule-rollover",
            post(cem::schedule),
        )
        .route(
            "/api/v1/partners/cem/schedule_rollover",
            post(cem::schedule),
        )
        .route("/api/v1/partners/cem/activate", post(cem::activate))
        .route("/api/v1/partners/cem/retire", post(cem::retire))
        .route("/api/v1/partners/cem/events", post(cem::events))
        .route("/api/v1/partners/cem/verify", post(cem::verify))
        .route("/api/v1/partners/cem/send", post(cem::send))
        .route("/api/v1/partners/cem/requests", post(cem::requests))
        .route("/api/v1/partners/cem/accept", post(cem::accept))
        .route("/api/v1/partners/cem/reject", post(cem::reject))
        .route("/api/v1/stations", post(stations::list))
        .route("/api/v1/stations/detail", post(stations::detail))
        .route("/api/v1/stations/create", post(stations::create))
        .route("/api/v1/certificates", post(certificates::list))
        .route("/api/v1/certificates/detail", post(certificates::detail))
        .route("/api/v1/certificates/create", post(certificates::create))
        .route(
            "/api/v1/certificates/download",
            post(certificates::download),
        )
        .route("/api/v1/messages", post(messages::list))
        .route("/api/v1/messages/detail", post(messages::detail))
        .route("/api/v1/messages/send", post(messages::send))
        .route("/api/v1/messages/create", post(messages::send))
        .route("/api/v1/messages/download", post(messages::download))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::audit::audit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ))
        .layer(middleware::from_fn(legacy_errors))
}

/// Rewrites the `/v1` error envelope of any failure (authentication, rate limit, validation)
/// into seed 000's `{"status":"error","msg",...}`, keeping the status code and field errors.
async fn legacy_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let rewritten = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(value) if value.get("error").is_some() => {
            let mut out = serde_json::json!({
                "status": "error",
                "msg": value["message"].clone(),
                "code": value["error"]["code"].clone(),
            });
            if let Some(errors) = value.get("errors") {
                out["errors"] = errors.clone();
            }
            serde_json::to_vec(&out).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(rewritten))
}
