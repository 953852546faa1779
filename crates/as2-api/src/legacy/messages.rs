//! `/api/v1/messages…`: list (filters and pages), detail, send and payload download, in
//! seed 000's style over the same rows, payload store and send queue as `/v1/messages`.

use as2_domain::ValidationErrors;
use as2_domain::id::{MessageId, PartnerId};
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, Message, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_store::repo::messages::MessageFilter;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::reply::{RawBody, Success, body, id_field, optional_body};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::meta;
use crate::routes::message_create::{MessageInput, enqueue, from_input};
use crate::routes::messages::{MdnDto, MessageErrorDto, payload_response};
use crate::state::AppState;
use crate::time::format;

/// A message in seed 000's shape: integer ids, everything else as `/v1` shows it.
#[derive(Debug, Serialize)]
pub struct LegacyMessage {
    id: i64,
    message_id: String,
    direction: String,
    partner_id: i64,
    station_id: i64,
    subject: Option<String>,
    filename: Option<String>,
    content_type: String,
    bytes: i64,
    sha256: String,
    mdn_mode: String,
    status: String,
    attempts: i32,
    error: Option<MessageErrorDto>,
    mdn: Option<MdnDto>,
    created_at: String,
    updated_at: String,
}

impl LegacyMessage {
    fn new(m: Message, mdn: Option<MdnRecord>) -> Self {
        Self {
            id: m.id.0,
            message_id: m.as2_message_id,
            direction: m.direction.to_string(),
            partner_id: m.partner_id.0,
            station_id: m.station_id.0,
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
        }
    }
}

/// Body of the list call: filters and the page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListBody {
    #[serde(alias = "partner_id")]
    partner: Option<i64>,
    status: Option<String>,
    direction: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Body of the detail and download calls.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdBody {
    id: Option<i64>,
}

/// Body of the send call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    #[serde(alias = "partner")]
    partner_id: Option<i64>,
    content: Option<String>,
    filename: Option<String>,
    content_type: Option<String>,
    subject: Option<String>,
}

fn load(state: &AppState, caller: &Caller, id: MessageId) -> Result<LegacyMessage, ApiError> {
    let scope = caller.scope();
    let message = state.store().messages().get(scope, id)?;
    let mdn = state.store().messages().mdn(scope, id)?;
    Ok(LegacyMessage::new(message, mdn))
}

/// `POST /api/v1/messages`: messages of the tenant, newest first (`partner`, `status`,
/// `direction`; `page` and `per_page` as in `/v1`, answered in `pagination`).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<Vec<LegacyMessage>>, ApiError> {
    let body: ListBody = optional_body(&bytes)?;
    let mut errors = ValidationErrors::new();
    let partner = match body.partner {
        Some(n) if n <= 0 => {
            errors.add("partner", "The partner must be a positive integer");
            None
        }
        other => other.map(PartnerId),
    };
    let status = body.status.as_deref().and_then(|s| {
        let parsed = s.parse::<MessageStatus>().ok();
        if parsed.is_none() {
            errors.add(
                "status",
                "The status must be one of queued, processing, sent, delivered, failed, received",
            );
        }
        parsed
    });
    let direction = body.direction.as_deref().and_then(|d| {
        let parsed = d.parse::<Direction>().ok();
        if parsed.is_none() {
            errors.add("direction", "The direction must be inbound or outbound");
        }
        parsed
    });
    let page = match PageRequest::new(body.page, body.per_page) {
        Ok(page) => page,
        Err(e) => {
            errors.merge(e);
            PageRequest::default()
        }
    };
    errors.into_result(())?;
    let filter = MessageFilter {
        status,
        direction,
        partner_id: partner,
        ..MessageFilter::default()
    };
    let (data, total) = state
        .blocking("Message", move |s| {
            let scope = caller.scope();
            let (rows, total) = s.store().messages().list_with_mdns(scope, filter, page)?;
            let data = rows
                .into_iter()
                .map(|(m, mdn)| LegacyMessage::new(m, mdn))
                .collect::<Vec<_>>();
            Ok((data, total))
        })
        .await?;
    let shown = data.len();
    Ok(Success::ok("Messages retrieved", data).paged(meta(page, total, shown)))
}

/// `POST /api/v1/messages/detail`: one message by integer id, with its MDN.
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyMessage>, ApiError> {
    let body: IdBody = body(&bytes)?;
    let id = MessageId(id_field(body.id, "id")?);
    let message = state
        .blocking("Message", move |s| load(s, &caller, id))
        .await?;
    Ok(Success::ok("Message retrieved", message))
}

/// `POST /api/v1/messages/send` (also `/create`): queues an outbound message to a partner
/// (`partner_id`, base64 `content`, optional `filename`, `content_type`, `subject`), exactly
/// as `POST /v1/messages` does.
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyMessage>, ApiError> {
    let body: SendBody = body(&bytes)?;
    let mut errors = ValidationErrors::new();
    let partner = match body.partner_id {
        Some(n) if n > 0 => PartnerId(n),
        Some(_) => {
            errors.add("partner_id", "The partner_id must be a positive integer");
            PartnerId(1)
        }
        None => {
            errors.add("partner_id", "The partner_id field is required");
            PartnerId(1)
        }
    };
    let input = MessageInput {
        partner_id: Some(partner.to_string()),
        content: body.content,
        filename: body.filename,
        content_type: body.content_type,
        subject: body.subject,
    };
    let limit = state.config().max_message_bytes;
    let (fields, payload) = from_input(&state, &input, limit, errors).await?;
    let message = state
        .blocking("Message", move |s| {
            let message = enqueue(s, caller.scope(), &fields, &payload)?;
            load(s, &caller, message.id)
        })
        .await?;
    Ok(Success::ok("Message queued", message))
}

/// `POST /api/v1/messages/download`: the payload, streamed in its content type.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: IdBody = body(&bytes)?;
    let id = MessageId(id_field(body.id, "id")?);
    payload_response(&state, caller.scope(), id).await
}
