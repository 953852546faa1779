//! `Idempotency-Key` on POST and PATCH: the first request with a key runs and its response is
//! kept for 24 hours; the same key and body get that response again; another body is 422; a
//! second request while the first still runs is 409; a malformed key is 400.
//!
//! A kept response is sealed with the master key like every other secret at rest: the answer
//! to creating an API key or a webhook endpoint carries its secret, shown once.

use as2_domain::idempotency::{Replay, StoredResponse, is_valid_key, request_fingerprint};
use as2_store::repo::idempotency::Claim;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorKind};
use crate::json::MAX_JSON_BODY;
use crate::state::AppState;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";
/// The purpose (AES-GCM associated data) kept responses are sealed under.
const SEAL_PURPOSE: &str = as2_store::reseal::IDEMPOTENT_RESPONSE_PURPOSE;

/// The middleware (inside authentication: it needs the caller's tenant).
pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::POST | Method::PATCH) {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let Some(key) = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| is_valid_key(k))
        .map(str::to_ascii_lowercase)
    else {
        return ApiError::bad_request(
            "invalid_idempotency_key",
            "The Idempotency-Key header must be a UUID version 4",
        )
        .into_response();
    };
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_JSON_BODY).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let too_large = ApiError::payload_too_large(MAX_JSON_BODY);
            return crate::body_deadline::read_failure(&error, too_large).into_response();
        }
    };
    let target = format!(
        "{} {} {}",
        caller.mode(),
        parts.uri.path(),
        parts.uri.query().unwrap_or("")
    );
    let fingerprint = request_fingerprint(parts.method.as_str(), &target, &bytes);
    let tenant = caller.tenant_id;
    let claim = {
        let (key, fingerprint) = (key.clone(), fingerprint.clone());
        state
            .blocking("Idempotency key", move |s| {
                Ok(s.store()
                    .idempotency()
                    .claim(tenant, &key, &fingerprint, chrono::Utc::now())?)
            })
            .await
    };
    match claim {
        Err(error) => error.into_response(),
        Ok(Claim::Existing(record)) => match record.replay(&fingerprint) {
            Replay::Stored(stored) => replayed(&state, stored),
            Replay::InProgress => ApiError::conflict(
                ErrorKind::Idempotency,
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still being processed",
            )
            .into_response(),
            Replay::Mismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorKind::Idempotency,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request",
            )
            .into_response(),
        },
        Ok(Claim::Claimed) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            remember(&state, tenant, key, response).await
        }
    }
}

/// Keeps the response of the request that owned the key (a 5xx frees the key instead).
async fn remember(
    state: &AppState,
    tenant: as2_domain::id::TenantId,
    key: String,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_JSON_BODY).await else {
        return ApiError::internal(&std::io::Error::other("response body too large to keep"))
            .into_response();
    };
    let status = parts.status;
    let stored = StoredResponse {
        status: status.as_u16(),
        body: state
            .store()
            .secrets()
            .seal(SEAL_PURPOSE, &bytes)
            .into_bytes(),
    };
    let result = state
        .blocking("Idempotency key", move |s| {
            let keys = s.store().idempotency();
            if status.is_server_error() {
                keys.abandon(tenant, &key)?;
            } else {
                keys.finish(tenant, &key, &stored)?;
            }
            Ok(())
        })
        .await;
    if let Err(error) = result {
        tracing::error!(
            status = error.status().as_u16(),
            "could not record the idempotent response"
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The kept response again (responses kept before they were sealed are plain JSON).
fn replayed(state: &AppState, stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let body = if stored.body.starts_with(b"v1.") {
        let opened = std::str::from_utf8(&stored.body)
            .map_err(|_| as2_store::secrets::SecretError::Malformed)
            .and_then(|sealed| state.store().secrets().open(SEAL_PURPOSE, sealed));
        match opened {
            Ok(body) => body,
            Err(error) => return ApiError::internal(&error).into_response(),
        }
    } else {
        stored.body
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
