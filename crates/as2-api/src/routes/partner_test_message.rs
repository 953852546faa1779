//! The optional `message` step of a partner's connection test: a small text message queued
//! through the same path as `POST /v1/messages` (the partner's own signing, encryption and
//! MDN settings, one attempt, no retries), then followed until it is final or the wait is
//! over, and reported in a sentence with the MDN's verdict.

use std::time::{Duration, Instant};

use as2_domain::connection_test::TestStep;
use as2_domain::id::{MessageId, PartnerId};
use as2_domain::message::MessageStatus;
use serde::Deserialize;
use utoipa::ToSchema;

use as2_store::Scope;

use super::message_create::{Fields, enqueue_with_attempts};
use super::messages::MessageDto;
use crate::error::ApiError;
use crate::state::AppState;

/// The test message's file name.
pub const TEST_FILENAME: &str = "as2-connection-test.txt";

/// The longest wait for the test message's outcome, in seconds.
pub const MAX_WAIT_SECS: u64 = 120;

/// How often the message's status is read while waiting.
const POLL: Duration = Duration::from_millis(250);

/// Body of `POST /v1/partners/{id}/test` (optional: without it only the connection is tested).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionTestInput {
    /// Also send a small test message (text, the partner's signing, encryption and MDN
    /// settings, one attempt) once the connection steps passed, and report its outcome.
    /// It reaches the partner as a real message named `as2-connection-test.txt`.
    pub send_message: Option<bool>,
    /// How long to wait for the test message to be delivered (1 to 120 seconds, 30 by
    /// default); a message still under way then is reported with its id to follow.
    pub wait_secs: Option<u64>,
}

impl ConnectionTestInput {
    /// The wait asked for, when the message step is asked for; or the field error.
    pub fn message_wait(&self) -> Result<Option<Duration>, ApiError> {
        let wait = self.wait_secs.unwrap_or(30);
        if !(1..=MAX_WAIT_SECS).contains(&wait) {
            return Err(ApiError::field(
                "wait_secs",
                format!("The wait is 1 to {MAX_WAIT_SECS} seconds"),
            ));
        }
        Ok(self
            .send_message
            .unwrap_or(false)
            .then(|| Duration::from_secs(wait)))
    }
}

/// Queues the test message to `partner` of `scope` and follows it for at most `wait`: the
/// step and the message's id (none when it could not be queued).
pub async fn message_step(
    state: &AppState,
    scope: Scope,
    partner: PartnerId,
    wait: Duration,
) -> (TestStep, Option<MessageId>) {
    let started = Instant::now();
    let queued = state
        .blocking("Message", move |s| {
            let text = format!(
                "AS2 connection test of partner {partner} at {}.\r\nThis message can be discarded.\r\n",
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            let mut spool = s.payloads().spool();
            let payload = std::io::Write::write_all(&mut spool, text.as_bytes())
                .and_then(|()| spool.finish())
                .map_err(|e| ApiError::internal(&e))?;
            let fields =
                Fields::new(partner, TEST_FILENAME, "text/plain", "AS2 connection test");
            enqueue_with_attempts(s, scope, &fields, &payload, Some(1))
        })
        .await;
    let message = match queued {
        Ok(message) => message.id,
        Err(refused) => {
            let detail = format!("The test message was not queued: {}", sentence(&refused));
            return (step(false, detail, started), None);
        }
    };
    let deadline = started + wait;
    loop {
        let now = state
            .blocking("Message", move |s| {
                let messages = s.store().messages();
                Ok(MessageDto::new(
                    messages.get(scope, message)?,
                    messages.mdn(scope, message)?,
                ))
            })
            .await;
        let dto = match now {
            Ok(dto) => dto,
            Err(e) => {
                let detail = format!(
                    "The test message {message} was queued, but its status could not be read: {}",
                    sentence(&e)
                );
                return (step(false, detail, started), Some(message));
            }
        };
        if let Some((ok, detail)) = outcome(&dto) {
            return (step(ok, detail, started), Some(message));
        }
        if Instant::now() + POLL > deadline {
            let detail = format!(
                "The test message {message} is still {} after {} s: the gateway's workers may be busy or stopped; follow it with GET /v1/messages/{message}",
                dto.status,
                wait.as_secs()
            );
            return (step(false, detail, started), Some(message));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Whether the message in `dto` is done, and what to say about it.
fn outcome(dto: &MessageDto) -> Option<(bool, String)> {
    let id = &dto.id;
    let status: MessageStatus = dto.status.parse().ok()?;
    match status {
        MessageStatus::Delivered => Some((
            true,
            match &dto.mdn {
                Some(mdn) => format!(
                    "The test message {id} was delivered: the partner's MDN says `{}`, {}, MIC {}",
                    mdn.disposition,
                    match (mdn.signed, mdn.verified) {
                        (true, true) => "signed and verified",
                        (true, false) => "signed but not verified",
                        (false, _) => "unsigned",
                    },
                    match mdn.mic_matched {
                        Some(true) => "matched",
                        Some(false) => "did not match",
                        None => "not compared",
                    }
                ),
                None => format!(
                    "The test message {id} was delivered: the partner accepted it (it is set to return no MDN)"
                ),
            },
        )),
        MessageStatus::Sent => Some((
            true,
            format!(
                "The test message {id} was accepted by the partner; its MDN comes asynchronously: follow it with GET /v1/messages/{id}"
            ),
        )),
        MessageStatus::Failed => Some((
            false,
            format!(
                "The test message {id} failed: {}",
                dto.error
                    .as_ref()
                    .map_or("no reason was recorded", |e| e.message.as_str())
            ),
        )),
        MessageStatus::Queued | MessageStatus::Processing | MessageStatus::Received => None,
    }
}

fn step(ok: bool, detail: String, started: Instant) -> TestStep {
    TestStep {
        step: "message",
        ok,
        detail,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// The sentence of a refusal: its first field error, else its message.
fn sentence(error: &ApiError) -> String {
    let body = error.body();
    body["errors"]
        .as_object()
        .and_then(|fields| fields.values().next())
        .and_then(|sentences| sentences.get(0))
        .and_then(|s| s.as_str())
        .or_else(|| body["message"].as_str())
        .unwrap_or("refused")
        .to_owned()
}
