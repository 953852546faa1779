//! Webhook deliveries: the signed request for one delivery (`{"id","event","data",
//! "timestamp"}` with `X-Signature: t=…,v1=…`), and the record of each attempt.

use as2_domain::id::WebhookDeliveryId;
use as2_domain::webhook::signature_header;
use as2_store::{Store, StoreError};

use crate::error::EngineError;

/// One delivery attempt to make.
#[derive(Debug, Clone)]
pub struct WebhookPost {
    /// The delivery.
    pub delivery: WebhookDeliveryId,
    /// The endpoint's URL.
    pub url: String,
    /// `Content-Type`, `X-Signature`, `X-Webhook-Id`, `User-Agent`.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// The request for `delivery`; `None` when there is nothing to send any more (the endpoint
/// was deleted or deactivated, or the delivery already succeeded).
pub fn prepare(
    store: &Store,
    delivery: WebhookDeliveryId,
) -> Result<Option<WebhookPost>, EngineError> {
    let (scope, record) = match store.webhooks().delivery(delivery) {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if record.status == "succeeded" {
        return Ok(None);
    }
    let endpoint = match store.webhooks().get(scope, record.endpoint_id) {
        Ok(e) if e.settings.active => e,
        Ok(_) | Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let event = store.webhooks().event(record.event_id)?;
    let data: serde_json::Value =
        serde_json::from_str(&event.data).unwrap_or(serde_json::Value::Null);
    let body = serde_json::json!({
        "id": event.id.to_string(),
        "event": event.event_type,
        "data": data,
        "timestamp": event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })
    .to_string()
    .into_bytes();
    let secret = store.webhooks().secret(scope, endpoint.id)?;
    let signature = signature_header(&secret, chrono::Utc::now().timestamp(), &body);
    Ok(Some(WebhookPost {
        delivery,
        url: endpoint.settings.url,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Signature".into(), signature),
            ("X-Webhook-Id".into(), delivery.to_string()),
            (
                "User-Agent".into(),
                concat!("as2-platform-webhooks/", env!("CARGO_PKG_VERSION")).into(),
            ),
        ],
        body,
    }))
}
