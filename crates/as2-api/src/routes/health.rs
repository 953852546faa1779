//! The load balancer's checks: `/healthz` (the process answers) and `/readyz` (the database
//! answers too; 503 with `Retry-After` while it does not, so the balancer sends requests to
//! another api-server). Anyone may call them: a `/readyz` verdict is reused for a second, so
//! the database is asked at most once a second however often it is called.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// How long a `/readyz` verdict is reused.
const READY_CACHE: Duration = Duration::from_secs(1);

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Response {
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: the process is up and its database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    // one caller asks the database while the others wait for its verdict
    let mut last = state.readiness().lock().await;
    let ready = match *last {
        Some((at, verdict)) if at.elapsed() < READY_CACHE => verdict,
        _ => {
            let store = state.store().clone();
            let verdict = matches!(
                tokio::task::spawn_blocking(move || store.db().ping()).await,
                Ok(Ok(()))
            );
            *last = Some((Instant::now(), verdict));
            verdict
        }
    };
    drop(last);
    if ready {
        axum::Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        ApiError::database_unavailable().into_response()
    }
}
