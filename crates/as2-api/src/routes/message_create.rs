//! `POST /v1/messages`: an outbound message from JSON (base64 `content`) or a multipart
//! upload (`file`, streamed to the payload store), queued with its send job and announced
//! as `message.queued`. Also the streamed payload body of the download endpoint.

use std::io::{Read as _, Write as _};

use as2_domain::ValidationErrors;
use as2_domain::id::PartnerId;
use as2_domain::message::{Direction, Message, MessageStatus, new_as2_message_id};
use as2_domain::partner::Partner;
use as2_domain::webhook::EventType;
use as2_store::payload::{PayloadSpool, SpooledPayload};
use as2_store::repo::messages::NewMessage;
use as2_store::{Announce, Scope};
use axum::body::to_bytes;
use axum::extract::{Request, State};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Channel;
use serde::Deserialize;
use utoipa::ToSchema;

use super::form;
use super::messages::{MessageDto, load};
use crate::auth::Caller;
use crate::envelope::Envelope;
use crate::error::ApiError;
use crate::json::{BodyFormat, MAX_JSON_BODY};
use crate::state::AppState;

/// The host part of generated AS2 `Message-ID`s.
pub const MESSAGE_ID_HOST: &str = "as2-platform";

/// Body of `POST /v1/messages` (JSON; as multipart the same fields plus `file`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// The partner (`prt_…`, active, of this tenant and mode).
    pub partner_id: Option<String>,
    /// The payload, base64 (JSON only).
    pub content: Option<String>,
    /// File name of the payload.
    pub filename: Option<String>,
    /// MIME type (default from the file name's extension).
    pub content_type: Option<String>,
    /// Subject.
    pub subject: Option<String>,
}

/// The content type a file name suggests.
pub fn content_type_for(filename: Option<&str>) -> &'static str {
    let extension = filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match extension.as_deref() {
        Some("edi" | "x12") => "application/edi-x12",
        Some("edifact") => "application/edifact",
        Some("xml") => "application/xml",
        Some("json") => "application/json",
        Some("txt") => "text/plain",
        _ => "application/octet-stream",
    }
}

/// The checked fields other than the payload.
#[derive(Debug)]
pub(crate) struct Fields {
    partner_id: PartnerId,
    filename: Option<String>,
    content_type: String,
    subject: Option<String>,
}

impl Fields {
    /// Fields made by the platform itself (the connection test's message), not read from a
    /// request.
    pub(crate) fn new(
        partner_id: PartnerId,
        filename: &str,
        content_type: &str,
        subject: &str,
    ) -> Self {
        Self {
            partner_id,
            filename: Some(filename.to_owned()),
            content_type: content_type.to_owned(),
            subject: Some(subject.to_owned()),
        }
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
}

fn check_fields(input: &MessageInput, errors: &mut ValidationErrors) -> Option<Fields> {
    let partner_id = match input.partner_id.as_deref().map(str::trim) {
        None | Some("") => {
            errors.add("partner_id", "The partner id field is required");
            None
        }
        Some(raw) => match raw.parse::<PartnerId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("partner_id", "The partner id must look like prt_000001");
                None
            }
        },
    };
    let filename = input
        .filename
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    if let Some(name) = filename {
        if name.chars().count() > 255 {
            errors.add("filename", "The filename must be at most 255 characters");
        }
        if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
            errors.add(
                "filename",
                "The filename must not contain path separators or control characters",
            );
        }
    }
    let content_type = match input.content_type.as_deref().map(str::trim) {
        None | Some("") => content_type_for(filename).to_owned(),
        Some(given) => {
            let essence = given.split(';').next().unwrap_or("").trim();
            let valid = essence
                .split_once('/')
                .is_some_and(|(t, s)| is_token(t) && is_token(s))
                && given.len() <= 255
                && !given.chars().any(char::is_control);
            if !valid {
                errors.add(
                    "content_type",
                    "The content type must be a MIME type such as application/edi-x12",
                );
            }
            given.to_owned()
        }
    };
    let subject = input.subject.as_deref().filter(|s| !s.is_empty());
    if let Some(subject) = subject {
        if subject.chars().count() > 998 {
            errors.add("subject", "The subject must be at most 998 characters");
        }
        if subject.chars().any(char::is_control) {
            errors.add("subject", "The subject must not contain control characters");
        }
    }
    Some(Fields {
        partner_id: partner_id?,
        filename: filename.map(str::to_owned),
        content_type,
        subject: subject.map(str::to_owned),
    })
}

/// The partner `id` if a message of `size` bytes can be sent to it now: it exists, is
/// active and ready to send to, and the account's plan allows the size.
pub(crate) fn sendable_partner(
    state: &AppState,
    scope: Scope,
    id: PartnerId,
    size: u64,
) -> Result<Partner, ApiError> {
    let partner = match state.store().partners().get(scope, id) {
        Ok(p) => p,
        Err(as2_store::StoreError::NotFound) => {
            return Err(ApiError::field(
                "partner_id",
                "The selected partner does not exist",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if !partner.settings.active {
        return Err(ApiError::field(
            "partner_id",
            "The selected partner is inactive; activate it before sending",
        ));
    }
    let missing = partner.settings.missing_for_sending();
    if let Some((field, sentences)) = missing.fields().iter().next() {
        return Err(ApiError::field(
            "partner_id",
            format!(
                "The selected partner is not ready to send to: {} (attach it with PATCH /v1/partners/{} and `{field}`)",
                lowercase_first(sentences.join("; ").trim_end_matches('.')),
                partner.id
            ),
        ));
    }
    if let Some(limit) = state.store().accounts().message_limit(scope.tenant_id)?
        && u64::try_from(limit).is_ok_and(|limit| size > limit)
    {
        return Err(ApiError::payload_too_large(
            usize::try_from(limit).unwrap_or(usize::MAX),
        ));
    }
    Ok(partner)
}

/// Checks the partner, records the message with its job in `scope` and announces it; on
/// any failure the stored payload is removed again (the API, its legacy surface and the
/// console's send form).
pub(crate) fn enqueue(
    state: &AppState,
    scope: Scope,
    fields: &Fields,
    payload: &SpooledPayload,
) -> Result<Message, ApiError> {
    enqueue_with_attempts(state, scope, fields, payload, None)
}

/// [`enqueue`] with at most `max_attempts` attempts instead of the partner's retries.
pub(crate) fn enqueue_with_attempts(
    state: &AppState,
    scope: Scope,
    fields: &Fields,
    payload: &SpooledPayload,
    max_attempts: Option<i32>,
) -> Result<Message, ApiError> {
    let result = (|| {
        let partner = sendable_partner(state, scope, fields.partner_id, payload.size)?;
        let as2_id = new_as2_message_id(MESSAGE_ID_HOST, &uuid::Uuid::new_v4().to_string());
        let bytes = i64::try_from(payload.size).unwrap_or(i64::MAX);
        let new = NewMessage {
            direction: Direction::Outbound,
            partner_id: partner.id,
            station_id: partner.settings.station_id,
            as2_message_id: &as2_id,
            subject: fields.subject.as_deref(),
            filename: fields.filename.as_deref(),
            content_type: &fields.content_type,
            bytes,
            sha256: &payload.sha256,
            payload: Some(&payload.payload),
            mdn_mode: partner.settings.mdn_mode,
            status: MessageStatus::Queued,
            error: None,
            mic: None,
            destination_url: None,
        };
        let attempts =
            max_attempts.unwrap_or_else(|| partner.settings.retry_attempts.saturating_add(1));
        let queued = Announce::new(EventType::MessageQueued);
        let message =
            state
                .store()
                .messages()
                .create_outbound(scope, &new, attempts, Some(&queued))?;
        Ok(message)
    })();
    if result.is_err()
        && let Err(e) = state.payloads().discard(&payload.payload)
    {
        tracing::warn!(error = %e, "could not remove the payload of a refused message");
    }
    result
}

fn storage_error(e: &std::io::Error) -> ApiError {
    ApiError::internal(e)
}

/// Sends a message to a partner.
#[utoipa::path(post, path = "/v1/messages", tag = "messages",
    request_body(content = MessageInput, description = "JSON with base64 content; or multipart/form-data with file plus the same fields"),
    responses((status = 202, description = "Queued", body = Object), (status = 413, description = "Payload too large", body = Object),
        (status = 422, description = "Validation failed", body = Object)))]
pub async fn create_message(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<Envelope<MessageDto>, ApiError> {
    let limit = state.config().max_message_bytes;
    let (fields, payload) = if form::is_multipart(&request) {
        from_multipart(&state, request, limit).await?
    } else {
        from_json(&state, request, limit).await?
    };
    let dto = state
        .blocking("Message", move |s| {
            let message = enqueue(s, caller.scope(), &fields, &payload)?;
            load(s, &caller, message.id)
        })
        .await?;
    Ok(Envelope::accepted("Message queued for sending", dto))
}

async fn from_json(
    state: &AppState,
    request: Request,
    limit: usize,
) -> Result<(Fields, SpooledPayload), ApiError> {
    let Some(format) = BodyFormat::of(request.headers()) else {
        return Err(ApiError::unsupported_media_type(
            "application/json, application/x-www-form-urlencoded or multipart/form-data",
        ));
    };
    let body_limit = limit
        .saturating_mul(4)
        .div_ceil(3)
        .saturating_add(64 * 1024)
        .min(MAX_JSON_BODY);
    let bytes = to_bytes(request.into_body(), body_limit)
        .await
        .map_err(|e| {
            if crate::body_deadline::timed_out(&e) {
                ApiError::body_timeout()
            } else {
                ApiError::payload_too_large(body_limit)
            }
        })?;
    let input: MessageInput = format.parse(&bytes)?;
    from_input(state, &input, limit, ValidationErrors::new()).await
}

/// `sentence` continuing another one: its first letter in lower case, the rest (`AS2 URL`)
/// as written.
fn lowercase_first(sentence: &str) -> String {
    let mut chars = sentence.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

/// Checks a JSON message body (base64 `content`) and stores its payload; `errors` holds
/// what the caller already found wrong (then nothing is stored).
pub(crate) async fn from_input(
    state: &AppState,
    input: &MessageInput,
    limit: usize,
    mut errors: ValidationErrors,
) -> Result<(Fields, SpooledPayload), ApiError> {
    let fields = check_fields(input, &mut errors);
    let content = match input.content.as_deref() {
        None => {
            errors.add("content", "The content field is required");
            None
        }
        Some(text) => {
            let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            match STANDARD.decode(cleaned) {
                Ok(bytes) if bytes.is_empty() => {
                    errors.add("content", "The content must not be empty");
                    None
                }
                Ok(bytes) => Some(bytes),
                Err(_) => {
                    errors.add("content", "The content must be valid base64");
                    None
                }
            }
        }
    };
    errors.into_result(())?;
    let (Some(fields), Some(content)) = (fields, content) else {
        return Err(ApiError::field("content", "The content field is required"));
    };
    if content.len() > limit {
        return Err(ApiError::payload_too_large(limit));
    }
    let payload = state
        .blocking("Message", move |s| {
            // small payloads stay inline (in the message's row), larger ones are objects
            let mut spool = s.payloads().spool();
            spool
                .write_all(&content)
                .and_then(|()| spool.finish())
                .map_err(|e| storage_error(&e))
        })
        .await?;
    Ok((fields, payload))
}

async fn from_multipart(
    state: &AppState,
    request: Request,
    limit: usize,
) -> Result<(Fields, SpooledPayload), ApiError> {
    read_multipart(state, request, limit, &[], &mut MessageInput::default()).await
}

/// Checks a multipart message body (`file` streamed to the payload store, the other fields
/// of [`MessageInput`], kept in `input` as they are read, so a refusal can show them again);
/// the fields named in `skip` are passed over (the console's CSRF token), any other is
/// refused.
pub(crate) async fn read_multipart(
    state: &AppState,
    request: Request,
    limit: usize,
    skip: &[&str],
    input: &mut MessageInput,
) -> Result<(Fields, SpooledPayload), ApiError> {
    let mut multipart = form::open(request).await?;
    let mut writer: Option<PayloadSpool> = None;
    let mut part_filename = None;
    while let Some(mut field) = form::next(&mut multipart, limit).await? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            skipped if skip.contains(&skipped) => {}
            "file" => {
                if writer.is_some() {
                    return Err(ApiError::field("file", "Send only one file"));
                }
                part_filename = field.file_name().map(str::to_owned);
                let mut w = state.payloads().spool();
                let mut size = 0usize;
                let mut pending = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| form::error(&e, limit))? {
                    size = size.saturating_add(chunk.len());
                    if size > limit {
                        return Err(ApiError::payload_too_large(limit));
                    }
                    pending.extend_from_slice(&chunk);
                    if pending.len() >= WRITE_BATCH {
                        w = write_blocking(w, std::mem::take(&mut pending)).await?;
                    }
                }
                writer = Some(write_blocking(w, pending).await?);
            }
            "partner_id" => input.partner_id = Some(form::text(field, "partner_id").await?),
            "filename" => input.filename = Some(form::text(field, "filename").await?),
            "content_type" => input.content_type = Some(form::text(field, "content_type").await?),
            "subject" => input.subject = Some(form::text(field, "subject").await?),
            other => {
                return Err(ApiError::field(
                    &other.chars().take(64).collect::<String>(),
                    "This field is not recognised",
                ));
            }
        }
    }
    if input.filename.as_deref().is_none_or(str::is_empty) {
        input.filename = part_filename;
    }
    let mut errors = ValidationErrors::new();
    let fields = check_fields(input, &mut errors);
    if writer.is_none() {
        errors.add("file", "The file field is required");
    }
    errors.into_result(())?;
    let (Some(fields), Some(writer)) = (fields, writer) else {
        return Err(ApiError::field("file", "The file field is required"));
    };
    let payload = state
        .blocking("Message", move |_| {
            writer.finish().map_err(|e| storage_error(&e))
        })
        .await?;
    if payload.size == 0 {
        let (payloads, stored) = (state.payloads().clone(), payload.payload.clone());
        let _ = tokio::task::spawn_blocking(move || payloads.discard(&stored)).await;
        return Err(ApiError::field("file", "The file must not be empty"));
    }
    Ok((fields, payload))
}

/// What a multipart upload gathers before handing it to the payload store.
const WRITE_BATCH: usize = 1024 * 1024;

/// Writes `bytes` into the payload on a blocking thread (an S3 part upload may wait on the
/// network); the writer comes back, or is dropped (discarded) on an error.
async fn write_blocking(
    mut writer: PayloadSpool,
    bytes: Vec<u8>,
) -> Result<PayloadSpool, ApiError> {
    if bytes.is_empty() {
        return Ok(writer);
    }
    tokio::task::spawn_blocking(move || {
        writer.write_all(&bytes).map_err(|e| storage_error(&e))?;
        Ok(writer)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
}

/// A response body that streams a stored payload in chunks of up to 64 KiB. The reader is
/// synchronous (a file, or an S3 body pulled through the payload store's own runtime), so
/// it is read on a blocking thread, never on an async worker.
pub fn stream_payload(
    mut payload: Box<dyn std::io::Read + Send>,
) -> Channel<Bytes, std::io::Error> {
    let (mut sender, body) = Channel::new(4);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match payload.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    let chunk = Bytes::copy_from_slice(&buffer[..n]);
                    if runtime.block_on(sender.send_data(chunk)).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    sender.abort(e);
                    break;
                }
            }
        }
    });
    body
}
