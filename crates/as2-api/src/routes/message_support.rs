//! Support actions on a message: `POST /v1/messages/{id}/resend` sends a delivered or failed
//! outbound message again as a new message (a new AS2 Message-ID, the same payload, linked by
//! `resent_from`); `POST /v1/messages/{id}/cancel` stops a queued one before it is sent;
//! `POST /v1/messages/{id}/mdn/resend` posts the async MDN of a message we received again.

use as2_domain::id::MessageId;
use as2_domain::message::{Message, new_as2_message_id};
use as2_domain::webhook::EventType;
use as2_store::repo::messages::check_resendable;
use as2_store::{Announce, Scope};
use axum::extract::{Path, State};

use super::message_create::{MESSAGE_ID_HOST, sendable_partner};
use super::messages::{MessageDto, load};
use crate::auth::Caller;
use crate::envelope::Envelope;
use crate::error::ApiError;
use crate::params::path_id;
use crate::state::AppState;

/// Sends a delivered or failed outbound message again as a new message.
#[utoipa::path(post, path = "/v1/messages/{id}/resend", tag = "messages", params(("id" = String, Path, description = "msg_…")),
    responses((status = 201, description = "The new message, queued, with `resent_from` naming the original", body = Object),
        (status = 404, description = "Not found", body = Object),
        (status = 409, description = "Inbound, or still in flight (queued, processing, sent)", body = Object),
        (status = 413, description = "Larger than the plan allows", body = Object),
        (status = 422, description = "The partner cannot be sent to now", body = Object)))]
pub async fn resend_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<MessageDto>, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    let dto = state
        .blocking("Message", move |s| {
            let message = resend(s, caller.scope(), id)?;
            load(s, &caller, message.id)
        })
        .await?;
    Ok(Envelope::created("Message queued to be sent again", dto))
}

/// Queues message `id` of `scope` again as a new message (the API's and the console's
/// resend): only a delivered or failed outbound one, to a partner that can be sent to now.
pub(crate) fn resend(s: &AppState, scope: Scope, id: MessageId) -> Result<Message, ApiError> {
    let original = s.store().messages().get(scope, id)?;
    check_resendable(&original)?;
    let size = u64::try_from(original.bytes).unwrap_or(0);
    let partner = sendable_partner(s, scope, original.partner_id, size)?;
    let attempts = partner.settings.retry_attempts.saturating_add(1);
    let as2_id = new_as2_message_id(MESSAGE_ID_HOST, &uuid::Uuid::new_v4().to_string());
    let queued = Announce::new(EventType::MessageQueued);
    Ok(s.store()
        .messages()
        .resend(scope, id, &as2_id, attempts, Some(&queued))?)
}

/// Cancels a queued outbound message before a worker starts sending it.
#[utoipa::path(post, path = "/v1/messages/{id}/cancel", tag = "messages", params(("id" = String, Path, description = "msg_…")),
    responses((status = 200, description = "Cancelled: status failed, error type cancelled", body = Object),
        (status = 404, description = "Not found", body = Object),
        (status = 409, description = "Inbound, not queued, or being sent already", body = Object)))]
pub async fn cancel_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<MessageDto>, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    let dto = state
        .blocking("Message", move |s| {
            let scope = caller.scope();
            let failed = Announce::new(EventType::MessageFailed);
            let message = s.store().messages().cancel(scope, id, Some(&failed))?;
            load(s, &caller, message.id)
        })
        .await?;
    Ok(Envelope::ok("Message cancelled", dto))
}

/// Queues the asynchronous MDN of a message we received again: the same MDN (the bytes
/// stored when it was built) to the URL of the first authenticated request.
#[utoipa::path(post, path = "/v1/messages/{id}/mdn/resend", tag = "messages", params(("id" = String, Path, description = "msg_…")),
    responses((status = 202, description = "The MDN's send job is queued again, due now; the timeline says `mdn_resend_requested`", body = Object),
        (status = 404, description = "Not found", body = Object),
        (status = 409, description = "Outbound, no async MDN asked for, no MDN stored, or its async MDN was never queued (unauthenticated request)", body = Object)))]
pub async fn resend_mdn(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<MessageDto>, ApiError> {
    let id: MessageId = path_id(&id, "Message")?;
    let dto = state
        .blocking("Message", move |s| {
            s.store().messages().resend_async_mdn(caller.scope(), id)?;
            load(s, &caller, id)
        })
        .await?;
    Ok(Envelope::accepted("MDN queued to be sent again", dto))
}
