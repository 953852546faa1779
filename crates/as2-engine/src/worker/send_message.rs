//! The `send_message` job: prepare (claim, and write how to encode the message), post the
//! body as it is encoded from the payload store, conclude; a failed attempt puts the message
//! back to `queued`, or fails it when the job is dead, with the job's outcome.

use std::sync::Arc;
use std::time::Instant;

use as2_domain::message::Message;
use as2_store::Tx;
use as2_store::jobs::{Job, JobInput, SendMessage};
use as2_store::repo::reachability::Reach;
use reqwest::RequestBuilder;
use reqwest::header::CONTENT_LENGTH;
use tokio::sync::{mpsc, oneshot};

use super::encode_body::{self, EncodeError, Head};
use super::post;
use super::stream_body::{self, ChannelBody};
use super::{Finish, Run, Worker};
use crate::error::EngineError;
use crate::http_client::OutboundClient;
use crate::outbound::{self, Conclusion, HttpOutcome, Prepared, PreparedSend};

/// What became of an attempt's request.
enum Attempt {
    /// A request was made (or refused): its outcome, and the message with its MIC when the
    /// whole body went out.
    Made(HttpOutcome, Option<Box<Message>>),
    /// The body could not be produced: why (the request, if any, was aborted).
    Unsent(String),
}

impl Worker {
    pub(super) async fn send_message(&self, job: &Job) -> Result<Finish, EngineError> {
        let input = SendMessage::parse(&job.payload)?;
        let config = self.config.outbound.clone();
        let prepared = self
            .blocking(move |s, _| outbound::prepare(s, &input.0, &config))
            .await?;
        let sent = match prepared {
            Prepared::Send(sent) => Arc::new(*sent),
            Prepared::Done | Prepared::Failed(_) => return Ok(Finish::done()),
        };
        let started = Instant::now();
        let attempt = match self.partner_client(sent.scope, &sent.partner).await {
            Ok(client) => self.post_message(&client, &sent).await,
            Err(reason) => Attempt::Made(HttpOutcome::Refused(reason), None),
        };
        let reach = reach_of(&attempt);
        let (sent, conclusion) = match attempt {
            Attempt::Made(outcome, with_mic) => {
                let sent = match with_mic {
                    Some(message) => Arc::new(PreparedSend {
                        message: *message,
                        ..Arc::unwrap_or_clone(sent)
                    }),
                    None => sent,
                };
                let config = self.config.outbound.clone();
                let concluded = {
                    let sent = sent.clone();
                    self.blocking(move |s, p| outbound::conclude(s, p, &sent, &outcome, &config))
                        .await?
                };
                (sent, concluded)
            }
            Attempt::Unsent(reason) => (
                sent,
                Conclusion::Retry(format!("The message could not be sent: {reason}")),
            ),
        };
        self.metrics.send_latency.observe(started.elapsed());
        let alert_after = self.config.outbound.unreachable_alert_after;
        // the partner's reachability commits with the job's outcome
        let record_reach = move |tx: &mut Tx<'_>, sent: &PreparedSend| match &reach {
            Some(reach) => tx
                .reachability()
                .record(sent.scope, &sent.partner, reach, alert_after)
                .map(|_| ()),
            None => Ok(()),
        };
        match conclusion {
            Conclusion::Final(_) | Conclusion::AwaitingMdn => {
                Ok(Finish::with(Run::Done, move |tx, _| {
                    record_reach(tx, &sent)
                }))
            }
            Conclusion::Retry(reason) => {
                tracing::warn!(message = %sent.message.id, attempt = job.attempts, %reason, "send failed");
                let base = chrono::Duration::from_std(sent.retry_interval).ok();
                let run = Run::Retry {
                    reason: reason.clone(),
                    base,
                };
                Ok(Finish::with(run, move |tx, fate| {
                    record_reach(tx, &sent)?;
                    outbound::after_failed_attempt(tx, sent.scope, &sent.message, &reason, fate)
                }))
            }
        }
    }

    /// Posts `sent` through `client`, its body encoded from the payload store on a blocking
    /// thread as the request takes it, under its exact `Content-Length`.
    async fn post_message(&self, client: &OutboundClient, sent: &Arc<PreparedSend>) -> Attempt {
        // a refused address costs no encoding
        let request = match client.post(&sent.url) {
            Ok(request) => request.timeout(sent.timeout),
            Err(refused) => return Attempt::Made(HttpOutcome::Refused(refused.to_string()), None),
        };
        let (head_tx, head_rx) = oneshot::channel();
        let (mut chunks, body, stop) = stream_body::channel();
        let producer = {
            let (store, payloads, sent) = (self.store.clone(), self.payloads.clone(), sent.clone());
            tokio::task::spawn_blocking(move || {
                encode_body::produce(&store, &payloads, &sent, head_tx, &mut chunks)
            })
        };
        let outcome = match head_rx.await {
            Ok(head) => Some(post::send(streamed(request, &head, &sent.headers, body)).await),
            // the producer failed before the request: it says why
            Err(_) => None,
        };
        drop(stop);
        match (outcome, producer.await) {
            (Some(outcome), Ok(Ok(message))) => Attempt::Made(outcome, Some(Box::new(message))),
            // the request went first: its outcome says why, unless it is a success
            (Some(outcome), Ok(Err(EncodeError::Abandoned))) => match outcome {
                HttpOutcome::Answer { status, .. } if (200..300).contains(&status) => {
                    Attempt::Unsent(format!(
                        "the partner answered HTTP {status} before the whole message was sent"
                    ))
                }
                outcome => Attempt::Made(outcome, None),
            },
            (_, Ok(Err(failed))) => Attempt::Unsent(failed.to_string()),
            (_, Err(interrupted)) => Attempt::Unsent(format!(
                "encoding the message was interrupted: {interrupted}"
            )),
            (None, Ok(Ok(_))) => Attempt::Unsent("the body's length was never known".into()),
        }
    }
}

/// What `attempt` says about reaching the partner: nothing when no request could be made
/// (the address refused, the body not produced), no answer on a transport failure or a
/// gateway error from a proxy in front of it (502, 503, 504), answered on anything else.
fn reach_of(attempt: &Attempt) -> Option<Reach> {
    match attempt {
        Attempt::Made(HttpOutcome::Transport(reason), _) => Some(Reach::NoAnswer(reason.clone())),
        Attempt::Made(HttpOutcome::Answer { status, .. }, _) if matches!(status, 502..=504) => {
            Some(Reach::NoAnswer(format!("HTTP {status}")))
        }
        Attempt::Made(HttpOutcome::Answer { .. }, _) => Some(Reach::Answered),
        Attempt::Made(HttpOutcome::Refused(_), _) | Attempt::Unsent(_) => None,
    }
}

/// `request` with the encoder's headers, then ours, and the body the channel delivers under
/// its exact `Content-Length`.
fn streamed(
    mut request: RequestBuilder,
    head: &Head,
    ours: &[(String, String)],
    body: mpsc::Receiver<stream_body::Item>,
) -> RequestBuilder {
    for (name, value) in head.headers.iter().chain(ours) {
        request = request.header(name.as_str(), value.as_str());
    }
    request
        .header(CONTENT_LENGTH, head.content_length)
        .body(reqwest::Body::wrap(ChannelBody::new(
            body,
            head.content_length,
        )))
}
