//! Message events for the tenant's webhooks. Publishing never fails the work it reports on:
//! the message's own row and timeline are the record; a lost webhook is logged.

use as2_domain::message::Message;
use as2_domain::webhook::EventType;
use as2_store::{Scope, Store};

/// The event data of a message: its ids, status and size, plus `extra` fields.
pub fn message_data(message: &Message, extra: serde_json::Value) -> serde_json::Value {
    let mut data = serde_json::json!({
        "id": message.id.to_string(),
        "message_id": message.as2_message_id,
        "direction": message.direction.as_str(),
        "partner_id": message.partner_id.to_string(),
        "status": message.status.as_str(),
        "bytes": message.bytes,
    });
    if let Some(error) = &message.error {
        data["error"] =
            serde_json::json!({ "type": error.kind.as_str(), "message": error.sentence });
    }
    if let (Some(map), serde_json::Value::Object(more)) = (data.as_object_mut(), extra) {
        map.extend(more);
    }
    data
}

/// Publishes `event` about `message` to the tenant's subscribed endpoints.
pub fn publish(
    store: &Store,
    scope: Scope,
    event: EventType,
    message: &Message,
    extra: serde_json::Value,
) {
    let data = message_data(message, extra).to_string();
    if let Err(e) = store.webhooks().publish(scope, event, &data, None) {
        tracing::warn!(error = %e, event = event.as_str(), message = %message.id, "could not publish a webhook event");
    }
}
