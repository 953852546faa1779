//! `GET /v1/messages/{id}/evidence`: the message's evidence of delivery as one zip (the
//! signed MDN, its signer's certificate, the timeline, a manifest and an RFC 3161
//! time-stamp over it; `as2_evidence::bundle`), made on the first request and the same on
//! every later one (`as2_trust::message_evidence`).

use as2_domain::id::MessageId;
use as2_store::{Scope, StoreError};
use as2_trust::message_evidence::{EvidenceError, bundle};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorKind};
use crate::params::path_id;
use crate::state::AppState;

/// The message's evidence of delivery: a zip an auditor checks with `openssl` or
/// `as2 evidence verify` (docs/API-GUIDE.md, "Evidence").
#[utoipa::path(get, path = "/v1/messages/{id}/evidence", tag = "messages", params(("id" = String, Path, description = "msg_…")),
    responses((status = 200, content_type = "application/zip", description = "A zip of manifest.json (message, MDN, MICs, signer, SHA-256 of each file), mdn.eml (the signed MDN byte for byte), signer-chain.pem, timeline.json, timestamp.tsr (RFC 3161 TimeStampResp over the SHA-256 of manifest.json) and tsa-chain.pem; the same bytes on every request"),
        (status = 404, description = "Not found", body = Object),
        (status = 409, description = "No signed MDN kept for this message (none yet, unsigned, or its signature verifies under no certificate of the tenant)", body = Object),
        (status = 503, description = "The time-stamping authority did not answer", body = Object)))]
pub async fn message_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    evidence_response(&state, caller.scope(), id).await
}

/// The evidence zip of message `id` of `scope` as a download (the API's and the console's).
pub(crate) async fn evidence_response(
    state: &AppState,
    scope: Scope,
    id: MessageId,
) -> Result<Response, ApiError> {
    let files = bundle(state.store(), state.payloads(), state.stamper(), scope, id)
        .await
        .map_err(into_api)?;
    let zip = files.to_zip().map_err(|e| ApiError::internal(&e))?;
    let mut response = Body::from(zip).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("attachment; filename=\"evidence-{id}.zip\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

fn into_api(error: EvidenceError) -> ApiError {
    match error {
        EvidenceError::Store(StoreError::NotFound) => ApiError::not_found("Message"),
        EvidenceError::Store(e) => e.into(),
        EvidenceError::Unavailable(sentence) => {
            ApiError::conflict(ErrorKind::Conflict, "evidence_unavailable", sentence)
        }
        EvidenceError::Stamp(e) => {
            tracing::warn!(error = %e, "evidence not time-stamped");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::Unavailable,
                "tsa_unavailable",
                "The time-stamping authority did not answer; try again later",
            )
        }
        other => ApiError::internal(&other),
    }
}
