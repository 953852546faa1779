//! `/v1/messages`: sending (see `message_create`), listing with filters, one message, its
//! payload (streamed), MDN, timeline, and the retry of a failed outbound message (search
//! parameters: `message_search`; resend and cancel: `message_support`).

use as2_domain::ValidationErrors;
use as2_domain::id::MessageId;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::Message;
use as2_domain::webhook::EventType;
use as2_store::repo::messages::MessageEvent;
use as2_store::{Announce, Scope};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{message_create, message_evidence, message_search, message_support};
use crate::auth::Caller;
use crate::envelope::{Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::params::{QueryMap, meta, only, page, path_id};
use crate::state::AppState;
use crate::time::format;

/// A message's failure on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageErrorDto {
    /// The error type (`transport_error`, `negative_mdn`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// A sentence a person can act on.
    pub message: String,
}

/// A message's MDN on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct MdnDto {
    /// The disposition line.
    pub disposition: String,
    /// `Received-Content-MIC` as given.
    pub mic: Option<String>,
    /// Whether the MIC matched (null: nothing to compare).
    pub mic_matched: Option<bool>,
    /// Whether the MDN was signed.
    pub signed: bool,
    /// Whether its signature verified.
    pub verified: bool,
    /// When it arrived.
    pub received_at: String,
}

impl From<MdnRecord> for MdnDto {
    fn from(m: MdnRecord) -> Self {
        Self {
            disposition: m.disposition,
            mic: m.mic,
            mic_matched: m.mic_matched,
            signed: m.signed,
            verified: m.verified,
            received_at: format(m.created_at),
        }
    }
}

/// A message on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDto {
    /// `msg_…`.
    pub id: String,
    /// The AS2 `Message-ID`, with its angle brackets.
    pub message_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The partner.
    pub partner_id: String,
    /// Our station.
    pub station_id: String,
    /// Subject.
    pub subject: Option<String>,
    /// File name.
    pub filename: Option<String>,
    /// MIME type of the payload.
    pub content_type: String,
    /// Payload size.
    pub bytes: i64,
    /// Payload SHA-256, hex.
    pub sha256: String,
    /// sync, async, none.
    pub mdn_mode: String,
    /// Current status.
    pub status: String,
    /// Transmission attempts so far.
    pub attempts: i32,
    /// The failure, or null.
    pub error: Option<MessageErrorDto>,
    /// The MDN, or null.
    pub mdn: Option<MdnDto>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// The message this one sent again (`POST /v1/messages/{id}/resend`), or null.
    pub resent_from: Option<String>,
    /// When the payload (and raw MDN) was deleted under the tenant's retention, or null.
    pub payload_purged_at: Option<String>,
}

impl MessageDto {
    /// The wire form of a message and its MDN.
    pub fn new(m: Message, mdn: Option<MdnRecord>) -> Self {
        Self {
            id: m.id.to_string(),
            message_id: m.as2_message_id,
            direction: m.direction.to_string(),
            partner_id: m.partner_id.to_string(),
            station_id: m.station_id.to_string(),
            subject: m.subject,
            filename: m.filename,
            content_type: m.content_type,
            bytes: m.bytes,
            sha256: m.sha256,
            mdn_mode: m.mdn_mode.to_string(),
            status: m.status.to_string(),
            attempts: m.attempts,
            error: m.error.map(|e| MessageErrorDto {
                kind: e.kind.to_string(),
                message: e.sentence,
            }),
            mdn: mdn.map(MdnDto::from),
            created_at: format(m.created_at),
            updated_at: format(m.updated_at),
            resent_from: m.resent_from.map(|id| id.to_string()),
            payload_purged_at: m.payload_purged_at.map(format),
        }
    }
}

/// One entry of a message's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageEventDto {
    /// Row id.
    pub id: i64,
    /// What happened (`queued`, `sending`, `failed`, `retry_requested`, ...).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The status after it (null when unchanged).
    pub status: Option<String>,
    /// Details.
    pub detail: Option<String>,
    /// When.
    pub created_at: String,
}

impl From<MessageEvent> for MessageEventDto {
    fn from(e: MessageEvent) -> Self {
        Self {
            id: e.id,
            event_type: e.event_type,
            status: e.status.map(|s| s.to_string()),
            detail: e.detail,
            created_at: format(e.created_at),
        }
    }
}

/// The routes (uploads are streamed and limited by `max_message_bytes`, not the JSON limit).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages, message_create::create_message))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(get_message))
        .routes(routes!(message_payload))
        .routes(routes!(message_mdn))
        .routes(routes!(message_events))
        .routes(routes!(retry_message))
        .routes(routes!(message_support::resend_message))
        .routes(routes!(message_support::cancel_message))
        .routes(routes!(message_evidence::message_evidence))
        .routes(routes!(message_support::resend_mdn))
}

/// A message of the caller with its MDN.
pub fn load(state: &AppState, caller: &Caller, id: MessageId) -> Result<MessageDto, ApiError> {
    let scope = caller.scope();
    let message = state.store().messages().get(scope, id)?;
    let mdn = state.store().messages().mdn(scope, id)?;
    Ok(MessageDto::new(message, mdn))
}

/// Messages of the tenant in the key's mode, newest first unless `sort` says otherwise.
#[utoipa::path(get, path = "/v1/messages", tag = "messages",
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query),
        ("status" = Option<String>, Query), ("direction" = Option<String>, Query),
        ("partner_id" = Option<String>, Query), ("station_id" = Option<String>, Query),
        ("created_after" = Option<String>, Query), ("created_before" = Option<String>, Query),
        ("message_id" = Option<String>, Query, description = "AS2 Message-ID, exact, with or without angle brackets"),
        ("filename" = Option<String>, Query, description = "Part of the file name, case-insensitive"),
        ("subject" = Option<String>, Query, description = "Part of the subject, case-insensitive"),
        ("sort" = Option<String>, Query, description = "created_at, updated_at or bytes; a leading - for descending (default -created_at)")),
    responses((status = 200, description = "A page of messages", body = Object), (status = 422, description = "Bad parameter", body = Object)))]
async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<MessageDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(&query, &message_search::PARAMETERS, &mut errors);
    let page = page(&query, &mut errors);
    let filter = message_search::filter(&query, &mut errors);
    errors.into_result(())?;
    let (data, total) = state
        .blocking("Message", move |s| {
            let scope = caller.scope();
            let (rows, total) = s.store().messages().list_with_mdns(scope, filter, page)?;
            let data = rows
                .into_iter()
                .map(|(m, mdn)| MessageDto::new(m, mdn))
                .collect::<Vec<_>>();
            Ok((data, total))
        })
        .await?;
    let shown = data.len();
    Ok(ListEnvelope::new(
        "Messages retrieved successfully",
        data,
        meta(page, total, shown),
    ))
}

/// One message.
#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages", params(("id" = String, Path, description = "msg_…")),
    responses((status = 200, description = "The message", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<MessageDto>, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    let dto = state
        .blocking("Message", move |s| load(s, &caller, id))
        .await?;
    Ok(Envelope::ok("Message retrieved successfully", dto))
}

/// A `Content-Disposition: attachment` value with a safe quoted file name.
pub(crate) fn attachment(filename: &str) -> HeaderValue {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The payload, streamed.
#[utoipa::path(get, path = "/v1/messages/{id}/payload", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, description = "The payload bytes, in the message's content type"), (status = 404, description = "Not found", body = Object), (status = 410, description = "The payload was deleted under the tenant's retention", body = Object)))]
async fn message_payload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    payload_response(&state, caller.scope(), id).await
}

/// The stored payload of a message as a streamed download (both API surfaces).
pub(crate) async fn payload_response(
    state: &AppState,
    scope: Scope,
    id: MessageId,
) -> Result<Response, ApiError> {
    let (message, file) = state
        .blocking("Message", move |s| {
            let message = s.store().messages().get(scope, id)?;
            if let Some(purged) = message.payload_purged_at {
                return Err(ApiError::new(
                    axum::http::StatusCode::GONE,
                    crate::error::ErrorKind::Resource,
                    "payload_purged",
                    format!(
                        "This message's payload was deleted on {} under the tenant's retention; the message's record is kept",
                        purged.format("%Y-%m-%d")
                    ),
                ));
            }
            let file = message
                .payload
                .as_ref()
                .and_then(|payload| s.payloads().open_ref(payload).ok())
                .ok_or_else(|| {
                    ApiError::new(
                        axum::http::StatusCode::NOT_FOUND,
                        crate::error::ErrorKind::Resource,
                        "payload_not_found",
                        "This message has no stored payload",
                    )
                })?;
            Ok((message, file))
        })
        .await?;
    let content_type = HeaderValue::from_str(&message.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let filename = message
        .filename
        .clone()
        .unwrap_or_else(|| format!("{}.bin", message.id));
    let body = message_create::stream_payload(file);
    let mut response = Body::new(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_DISPOSITION, attachment(&filename));
    if let Ok(length) = HeaderValue::from_str(&message.bytes.to_string()) {
        headers.insert(header::CONTENT_LENGTH, length);
    }
    Ok(response)
}

/// The message's MDN.
#[utoipa::path(get, path = "/v1/messages/{id}/mdn", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, description = "The MDN", body = Object), (status = 404, description = "No such message, or no MDN yet", body = Object)))]
async fn message_mdn(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<MdnDto>, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    let mdn = state
        .blocking("Message", move |s| {
            let scope = caller.scope();
            let message = s.store().messages().get(scope, id)?;
            s.store().messages().mdn(scope, id)?.ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    crate::error::ErrorKind::Resource,
                    "mdn_not_found",
                    format!(
                        "No MDN has been received for message {} yet (status: {})",
                        message.id, message.status
                    ),
                )
            })
        })
        .await?;
    Ok(Envelope::ok("MDN retrieved successfully", mdn.into()))
}

/// The message's timeline, oldest first.
#[utoipa::path(get, path = "/v1/messages/{id}/events", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, description = "The events", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn message_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<Vec<MessageEventDto>>, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    let events = state
        .blocking("Message", move |s| {
            Ok(s.store().messages().events(caller.scope(), id)?)
        })
        .await?;
    Ok(Envelope::ok(
        "Message events retrieved successfully",
        events.into_iter().map(MessageEventDto::from).collect(),
    ))
}

/// Re-queues a failed outbound message.
#[utoipa::path(post, path = "/v1/messages/{id}/retry", tag = "messages", params(("id" = String, Path)),
    responses((status = 202, description = "Queued again", body = Object), (status = 404, description = "Not found", body = Object),
        (status = 409, description = "Not a failed outbound message", body = Object)))]
async fn retry_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<MessageDto>, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    let dto = state
        .blocking("Message", move |s| {
            let message = retry(s, caller.scope(), id)?;
            load(s, &caller, message.id)
        })
        .await?;
    Ok(Envelope::accepted("Message queued for retry", dto))
}

/// Queues message `id` of `scope` again under its own Message-ID with its partner's attempts
/// (the API's and the console's retry).
pub(crate) fn retry(s: &AppState, scope: Scope, id: MessageId) -> Result<Message, ApiError> {
    let message = s.store().messages().get(scope, id)?;
    let attempts = match s.store().partners().get(scope, message.partner_id) {
        Ok(p) => p.settings.retry_attempts.saturating_add(1),
        Err(as2_store::StoreError::NotFound) => 1,
        Err(e) => return Err(e.into()),
    };
    let queued = Announce::new(EventType::MessageQueued);
    Ok(s.store()
        .messages()
        .requeue(scope, id, attempts, Some(&queued))?)
}
