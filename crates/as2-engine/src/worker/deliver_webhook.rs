//! The `deliver_webhook` job: post one signed event to one endpoint and record the attempt
//! (with when the next one is due) with the job's outcome; a delivery that failed for good
//! pauses its endpoint (`webhook_endpoint.disabled`, emailed to the tenant's alert
//! recipients).

use std::time::{Duration, Instant};

use crate::http_client;
use as2_store::jobs::{DeliverWebhook, Fate, Job, JobInput};

use super::post::location;
use super::{Finish, Run, Worker};
use crate::error::EngineError;
use crate::outbound::HttpOutcome;
use crate::webhook_delivery;

impl Worker {
    pub(super) async fn deliver_webhook(&self, job: &Job) -> Result<Finish, EngineError> {
        let delivery = DeliverWebhook::parse(&job.payload)?.delivery();
        let Some(post) = self
            .blocking(move |s, _| webhook_delivery::prepare(s, delivery))
            .await?
        else {
            return Ok(Finish::done());
        };
        self.metrics
            .webhook_attempts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let outcome = self
            .post(&post.url, &post.headers, post.body, Duration::from_secs(15))
            .await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status, run) = match &outcome {
            HttpOutcome::Answer { status, .. } if (200..300).contains(status) => {
                (Some(i32::from(*status)), Run::Done)
            }
            HttpOutcome::Answer {
                status, headers, ..
            } => {
                let reason = match http_client::redirect_refusal(*status, location(headers)) {
                    Some(redirect) => format!("The endpoint answered {redirect}"),
                    None => format!("The endpoint answered HTTP {status}"),
                };
                (Some(i32::from(*status)), Run::Retry { reason, base: None })
            }
            HttpOutcome::Transport(reason) => (
                None,
                Run::Retry {
                    reason: reason.clone(),
                    base: None,
                },
            ),
            // no retry reaches a refused address: this attempt is the last
            HttpOutcome::Refused(reason) => (
                None,
                Run::Stop {
                    reason: format!("The endpoint was not contacted: {reason}"),
                },
            ),
        };
        let error = match &run {
            Run::Done => None,
            Run::Retry { reason, .. } | Run::Stop { reason } => Some(reason.clone()),
        };
        Ok(Finish::with(run, move |tx, fate| {
            let next = match fate {
                Fate::RetryAt(at) => Some(at),
                Fate::Done | Fate::Dead => None,
            };
            tx.webhooks().record_attempt(
                delivery,
                status,
                error.as_deref(),
                duration_ms,
                next,
                error.is_none(),
            )?;
            if matches!(fate, Fate::Dead) {
                // every attempt failed (about a day), or the address is refused: paused until
                // the tenant turns it on again, and told so (webhooks, email alerts)
                tx.webhooks().disable_after_failed_delivery(
                    delivery,
                    error.as_deref().unwrap_or("the delivery failed"),
                )?;
            }
            Ok(())
        }))
    }
}
