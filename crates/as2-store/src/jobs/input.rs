//! The typed input of every kind of job, in the shape of crates.io's background jobs: each
//! kind is a serde type that names its [`JobKind`] and declares its [`RetryPolicy`]; the
//! store writes it and the worker reads it through the same definition.

use as2_domain::Mode;
use as2_domain::id::{MessageId, TenantId, WebhookDeliveryId};
use as2_domain::job::{JobKind, RetryPolicy};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::scope::Scope;

/// A kind of job and its input.
pub trait JobInput: Serialize + DeserializeOwned {
    /// The kind, stored with the job.
    const KIND: JobKind;
    /// How it is tried again.
    const RETRY: RetryPolicy;

    /// The stored form.
    fn to_json(&self) -> String {
        // a struct of numbers and strings always serialises
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored input.
    ///
    /// # Errors
    /// The JSON is not this kind's input.
    fn parse(json: &str) -> Result<Self, BadJobInput> {
        serde_json::from_str(json).map_err(|e| BadJobInput(e.to_string()))
    }
}

/// Why a job's input could not be read: no attempt can succeed, so the job is dead at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job input is not valid: {0}")]
pub struct BadJobInput(String);

/// The retry policy of a kind of job.
pub fn retry_policy(kind: JobKind) -> RetryPolicy {
    match kind {
        JobKind::SendMessage => SendMessage::RETRY,
        JobKind::SendMdn => SendMdn::RETRY,
        JobKind::MdnTimeout => MdnTimeout::RETRY,
        JobKind::DeliverWebhook => DeliverWebhook::RETRY,
        JobKind::SendAlert => SendAlert::RETRY,
    }
}

/// Which message of which tenant and mode a job is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    /// The message's numeric id.
    pub message_id: i64,
    /// Its tenant's numeric id.
    pub tenant_id: i64,
    /// `test` or `live`.
    pub mode: String,
}

impl MessageRef {
    /// The message `id` of `scope`.
    pub fn new(scope: Scope, id: MessageId) -> Self {
        Self {
            message_id: id.0,
            tenant_id: scope.tenant(),
            mode: scope.mode().to_owned(),
        }
    }

    /// The tenant and mode.
    ///
    /// # Errors
    /// The mode is neither `test` nor `live`.
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

/// Build and post an outbound message. Its attempts are the tenant's setting, given when it
/// is enqueued; its first wait is the partner's retry interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SendMessage(pub MessageRef);

impl JobInput for SendMessage {
    const KIND: JobKind = JobKind::SendMessage;
    const RETRY: RetryPolicy = RetryPolicy::new(5, 60, 86_400);
}

/// Post the async MDN of an inbound message to the URL its sender gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMdn {
    /// The inbound message the MDN answers.
    #[serde(flatten)]
    pub message: MessageRef,
    /// Where the sender asked for it.
    pub url: String,
}

impl JobInput for SendMdn {
    const KIND: JobKind = JobKind::SendMdn;
    /// About a day: from a minute, doubling up to two hours.
    const RETRY: RetryPolicy = RetryPolicy::new(12, 60, 7_200);
}

/// Give up waiting for the async MDN of a sent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MdnTimeout(pub MessageRef);

impl JobInput for MdnTimeout {
    const KIND: JobKind = JobKind::MdnTimeout;
    const RETRY: RetryPolicy = RetryPolicy::new(3, 30, 7_200);
}

/// Deliver one webhook event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverWebhook {
    /// The delivery (event and endpoint).
    pub delivery_id: i64,
}

impl DeliverWebhook {
    /// The delivery.
    pub fn delivery(&self) -> WebhookDeliveryId {
        WebhookDeliveryId(self.delivery_id)
    }
}

impl JobInput for DeliverWebhook {
    const KIND: JobKind = JobKind::DeliverWebhook;
    /// About a day: from 30 s, doubling up to two hours.
    const RETRY: RetryPolicy = RetryPolicy::new(18, 30, 7_200);
}

/// Email one event to its tenant's alert recipients (`as2_domain::alerts`); the addresses
/// are read when it runs, so a change of recipients applies to mails not yet sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendAlert {
    /// The event (`events.id`).
    pub event_id: i64,
    /// Its tenant's numeric id.
    pub tenant_id: i64,
    /// `test` or `live`.
    pub mode: String,
}

impl SendAlert {
    /// The tenant and mode.
    ///
    /// # Errors
    /// The mode is neither `test` nor `live`.
    pub fn scope(&self) -> Result<Scope, BadJobInput> {
        let mode: Mode = self
            .mode
            .parse()
            .map_err(|_| BadJobInput(format!("unknown mode {:?}", self.mode)))?;
        Ok(Scope::new(TenantId(self.tenant_id), mode))
    }
}

impl JobInput for SendAlert {
    const KIND: JobKind = JobKind::SendAlert;
    /// About half a day: from a minute, doubling up to two hours (a mail server down for
    /// maintenance is waited out).
    const RETRY: RetryPolicy = RetryPolicy::new(10, 60, 7_200);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shape_jobs_were_always_stored_in() {
        // rows written before the typed inputs: a queue survives the upgrade
        let send = SendMessage::parse(r#"{"message_id":7,"tenant_id":3,"mode":"live"}"#).unwrap();
        assert_eq!(send.0.message(), MessageId(7));
        assert_eq!(send.0.scope().unwrap(), Scope::new(TenantId(3), Mode::Live));
        let mdn = SendMdn::parse(
            r#"{"message_id":1,"tenant_id":2,"mode":"test","url":"https://p.example/mdn"}"#,
        )
        .unwrap();
        assert_eq!(mdn.url, "https://p.example/mdn");
        assert_eq!(mdn.message.scope().unwrap().mode, Mode::Test);
        let hook = DeliverWebhook::parse(r#"{"delivery_id":9}"#).unwrap();
        assert_eq!(hook.delivery(), WebhookDeliveryId(9));
    }

    #[test]
    fn round_trips_and_refuses_garbage() {
        let scope = Scope::new(TenantId(1), Mode::Test);
        let mdn = SendMdn {
            message: MessageRef::new(scope, MessageId(2)),
            url: "https://partner.example/mdn".into(),
        };
        assert_eq!(SendMdn::parse(&mdn.to_json()).unwrap(), mdn);
        let timeout = MdnTimeout(MessageRef::new(scope, MessageId(3)));
        assert_eq!(
            timeout.to_json(),
            r#"{"message_id":3,"tenant_id":1,"mode":"test"}"#
        );
        assert!(SendMessage::parse("{").is_err());
        assert!(SendMdn::parse(r#"{"message_id":1,"tenant_id":1,"mode":"test"}"#).is_err());
        let odd = SendMessage::parse(r#"{"message_id":1,"tenant_id":1,"mode":"prod"}"#).unwrap();
        assert!(odd.0.scope().is_err());
    }

    #[test]
    fn every_kind_has_its_policy() {
        assert_eq!(retry_policy(JobKind::DeliverWebhook).max_attempts, 18);
        assert_eq!(retry_policy(JobKind::SendMdn).max_attempts, 12);
        assert_eq!(
            retry_policy(JobKind::SendMessage).cap,
            chrono::Duration::days(1)
        );
        assert_eq!(retry_policy(JobKind::MdnTimeout), MdnTimeout::RETRY);
    }
}
