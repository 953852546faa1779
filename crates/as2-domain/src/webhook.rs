//! Webhook endpoints, the events they subscribe to, and the `X-Signature` HMAC.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sha2::Sha256;

use crate::destination::DestinationPolicy;
use crate::endpoint_url::{check_destination, check_endpoint_url};
use crate::id::{TenantId, WebhookEndpointId};
use crate::mode::Mode;
use crate::named_enum;
use crate::validation::ValidationErrors;

named_enum!(
    /// An event a webhook endpoint can subscribe to.
    EventType, "event" {
        /// An outbound message was accepted and queued.
        MessageQueued => "message.queued",
        /// An outbound message went out; an async MDN is awaited.
        MessageSent => "message.sent",
        /// An outbound message got a positive MDN.
        MessageDelivered => "message.delivered",
        /// A message failed for good.
        MessageFailed => "message.failed",
        /// An inbound message was received and stored.
        MessageReceived => "message.received",
        /// An MDN arrived.
        MdnReceived => "mdn.received",
        /// A certificate expires in 30, 14, 7 or 1 days.
        CertificateExpiring => "certificate.expiring",
        /// A rollover was scheduled.
        TrustRolloverScheduled => "partner.trust.rollover_scheduled",
        /// A next certificate became current.
        TrustActivated => "partner.trust.activated",
        /// A previous certificate was retired.
        TrustRetired => "partner.trust.retired",
        /// A partner was created.
        PartnerCreated => "partner.created",
        /// Sending to a partner got no answer for the installation's number of attempts in a
        /// row (no connection, TLS failure, timeout, or a 502/503/504 from a proxy).
        PartnerUnreachable => "partner.unreachable",
        /// A partner announced unreachable answered again.
        PartnerReachable => "partner.reachable",
        /// Sent by the test endpoint.
        WebhookTest => "webhook.test",
        /// An endpoint was paused by the platform: a delivery to it failed for good.
        WebhookEndpointDisabled => "webhook_endpoint.disabled",
    }
);

/// What an endpoint is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Where events are posted.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
    /// Subscribed events; `partner.trust.*` style wildcards and `*` are accepted.
    pub events: Vec<String>,
    /// Paused endpoints get nothing.
    pub active: bool,
}

impl WebhookSettings {
    /// Every rule, each broken one reported under its field.
    pub fn validate(&self, mode: Mode) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.url.is_empty() {
            errors.add("url", "The URL field is required");
        } else {
            check_endpoint_url(&mut errors, "url", &self.url, mode);
        }
        if self.events.is_empty() {
            errors.add("events", "At least one event is required");
        }
        for event in &self.events {
            if !is_known_pattern(event) {
                errors.add(
                    "events",
                    format!(
                        "`{}` is not a known event",
                        event.chars().take(64).collect::<String>()
                    ),
                );
            }
        }
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 1000)
        {
            errors.add(
                "description",
                "The description must be at most 1000 characters",
            );
        }
        errors.into_result(())
    }

    /// Whether `url`, when its host is an IP address, names one `policy` permits (host names
    /// are judged when they are resolved, at connect time).
    pub fn check_destinations(&self, policy: &DestinationPolicy) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_destination(&mut errors, "url", &self.url, policy);
        errors.into_result(())
    }

    /// Whether the endpoint wants `event`.
    pub fn subscribes_to(&self, event: EventType) -> bool {
        self.active
            && self
                .events
                .iter()
                .any(|pattern| pattern_matches(pattern, event))
    }
}

fn is_known_pattern(pattern: &str) -> bool {
    EventType::ALL.iter().any(|e| pattern_matches(pattern, *e))
}

fn pattern_matches(pattern: &str, event: EventType) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event.as_str().starts_with(prefix),
        None => pattern == event.as_str(),
    }
}

/// A stored endpoint (the signing secret stays encrypted in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// `wh_…`.
    pub id: WebhookEndpointId,
    /// Owner.
    pub tenant_id: TenantId,
    /// Test or live.
    pub mode: Mode,
    /// Configuration.
    pub settings: WebhookSettings,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Makes a signing secret, `whsec_` and 32 random bytes in hex.
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("whsec_{}", hex::encode(bytes))
}

/// The `X-Signature` header value: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(hmac(secret, timestamp, body))
    )
}

fn hmac(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Checks a received `X-Signature` (what a receiver does): constant-time, with a tolerance
/// on the timestamp against replays.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (now_unix - timestamp).abs() > tolerance_secs {
        return false;
    }
    let expected = hmac(secret, timestamp, body);
    signatures
        .iter()
        .any(|s| subtle::ConstantTimeEq::ct_eq(s.as_slice(), expected.as_slice()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_and_detects_tampering() {
        let secret = generate_secret();
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 64);
        let body = br#"{"id":"evt_000001"}"#;
        let header = signature_header(&secret, 1_700_000_000, body);
        assert!(verify_signature(&secret, &header, body, 1_700_000_100, 300));
        assert!(!verify_signature(
            &secret,
            &header,
            b"{}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            "whsec_other",
            &header,
            body,
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            &secret,
            &header,
            body,
            1_700_009_000,
            300
        ));
    }

    #[test]
    fn known_hmac_vector() {
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test
        let header = signature_header("whsec_test", 1_700_000_000, b"{}");
        assert_eq!(
            header,
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }

    #[test]
    fn subscriptions_and_validation() {
        let settings = WebhookSettings {
            url: "https://hooks.example.com/as2".into(),
            description: None,
            events: vec!["message.*".into(), "partner.created".into()],
            active: true,
        };
        assert_eq!(settings.validate(Mode::Live), Ok(()));
        assert!(settings.subscribes_to(EventType::MessageFailed));
        assert!(!settings.subscribes_to(EventType::CertificateExpiring));
        let bad = WebhookSettings {
            events: vec!["nope".into()],
            url: "ftp://x".into(),
            ..settings
        };
        let errors = bad.validate(Mode::Test).unwrap_err();
        assert!(errors.has("events") && errors.has("url"));
    }
}
