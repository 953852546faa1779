//! The JSON inputs of the engine's jobs: which message of which tenant and mode a job is for,
//! and for an async MDN the URL to post it to.

use as2_domain::Mode;
use as2_domain::id::{MessageId, TenantId};
use as2_store::Scope;
use serde::{Deserialize, Serialize};

/// A job about one message (`send_message`, `send_mdn`, `mdn_timeout`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageJob {
    /// The message's numeric id.
    pub message_id: i64,
    /// Its tenant's numeric id.
    pub tenant_id: i64,
    /// `test` or `live`.
    pub mode: String,
    /// Where an async MDN goes (`send_mdn` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Why a job's input could not be read.
#[derive(Debug, thiserror::Error)]
#[error("job input is not valid: {0}")]
pub struct BadJobInput(String);

impl BadJobInput {
    /// A job input error with its reason.
    pub fn new(reason: String) -> Self {
        Self(reason)
    }
}

impl MessageJob {
    /// The input for a job about `message` of `scope`.
    pub fn new(scope: Scope, message: MessageId, url: Option<&str>) -> Self {
        Self {
            message_id: message.0,
            tenant_id: scope.tenant(),
            mode: scope.mode().to_owned(),
            url: url.map(str::to_owned),
        }
    }

    /// Reads a job's JSON input.
    pub fn parse(json: &str) -> Result<Self, BadJobInput> {
        serde_json::from_str(json).map_err(|e| BadJobInput(e.to_string()))
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The tenant and mode.
    pub fn scope(&self) -> Result<Scope, BadJobInput> {
        let mode: Mode = self
            .mode
            .parse()
            .map_err(|_| BadJobInput(format!("unknown mode {:?}", self.mode)))?;
        Ok(Scope::new(TenantId(self.tenant_id), mode))
    }

    /// The message.
    pub fn message(&self) -> MessageId {
        MessageId(self.message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_store_writes_for_send_message() {
        // as2-store's create_outbound writes this shape.
        let job = MessageJob::parse(r#"{"message_id":7,"tenant_id":3,"mode":"live"}"#).unwrap();
        assert_eq!(job.message(), MessageId(7));
        assert_eq!(job.scope().unwrap(), Scope::new(TenantId(3), Mode::Live));
        assert_eq!(job.url, None);
    }

    #[test]
    fn round_trips_with_a_url_and_refuses_garbage() {
        let job = MessageJob::new(
            Scope::new(TenantId(1), Mode::Test),
            MessageId(2),
            Some("https://partner.example/mdn"),
        );
        assert_eq!(MessageJob::parse(&job.to_json()).unwrap(), job);
        assert!(MessageJob::parse("{").is_err());
        let odd = MessageJob::parse(r#"{"message_id":1,"tenant_id":1,"mode":"prod"}"#).unwrap();
        assert!(odd.scope().is_err());
    }
}
