//! The `send_message` job: prepare (claim and build), post, conclude; a failed attempt puts
//! the message back to `queued`, or fails it when the job is dead, with the job's outcome.

use std::sync::Arc;
use std::time::Instant;

use as2_store::jobs::{Job, JobInput, SendMessage};

use super::post::post_with;
use super::{Finish, Run, Worker};
use crate::error::EngineError;
use crate::outbound::{self, Conclusion, HttpOutcome, Prepared};

impl Worker {
    pub(super) async fn send_message(&self, job: &Job) -> Result<Finish, EngineError> {
        let input = SendMessage::parse(&job.payload)?;
        let config = self.config.outbound.clone();
        let prepared = self
            .blocking(move |s, p| outbound::prepare(s, p, &input.0, &config))
            .await?;
        let sent = match prepared {
            Prepared::Send(sent) => sent,
            Prepared::Done | Prepared::Failed(_) => return Ok(Finish::done()),
        };
        let started = Instant::now();
        let outcome = match self.partner_client(sent.scope, &sent.partner).await {
            Ok(client) => {
                post_with(
                    &client,
                    &sent.url,
                    &sent.headers,
                    sent.body.clone(),
                    sent.timeout,
                )
                .await
            }
            Err(reason) => HttpOutcome::Refused(reason),
        };
        let config = self.config.outbound.clone();
        let sent = Arc::new(*sent);
        let conclusion = {
            let sent = sent.clone();
            self.blocking(move |s, p| outbound::conclude(s, p, &sent, &outcome, &config))
                .await?
        };
        self.metrics.send_latency.observe(started.elapsed());
        match conclusion {
            Conclusion::Final(_) | Conclusion::AwaitingMdn => Ok(Finish::done()),
            Conclusion::Retry(reason) => {
                tracing::warn!(message = %sent.message.id, attempt = job.attempts, %reason, "send failed");
                let base = chrono::Duration::from_std(sent.retry_interval).ok();
                let run = Run::Retry {
                    reason: reason.clone(),
                    base,
                };
                Ok(Finish::with(run, move |tx, fate| {
                    outbound::after_failed_attempt(tx, sent.scope, &sent.message, &reason, fate)
                }))
            }
        }
    }
}
