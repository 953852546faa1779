//! The `send_mdn` job: post an async MDN we owe a partner, exactly as it was built, and note
//! each attempt on the message's timeline with the job's outcome.

use std::time::Duration;

use crate::http_client;
use as2_store::jobs::{Job, JobInput, SendMdn};

use super::post::{location, post_with};
use super::{Finish, Run, Worker};
use crate::error::EngineError;
use crate::mdn::send_async;
use crate::outbound::HttpOutcome;

impl Worker {
    pub(super) async fn send_mdn(&self, job: &Job) -> Result<Finish, EngineError> {
        let input = SendMdn::parse(&job.payload)?;
        let scope = input.message.scope()?;
        let message = input.message.message();
        let prepared = self
            .blocking(move |s, p| {
                let Some(post) = send_async::prepare(s, p, &input)? else {
                    return Ok(None);
                };
                // the partner's own TLS (private CA, pin, client certificate) for its MDN URL
                let partner = s
                    .messages()
                    .get(scope, message)
                    .ok()
                    .and_then(|m| s.partners().get(scope, m.partner_id).ok());
                Ok(Some((post, partner)))
            })
            .await?;
        let Some((post, partner)) = prepared else {
            return Ok(Finish::done());
        };
        let client = match &partner {
            Some(partner) => self.partner_client(scope, partner).await,
            None => Ok(self.http.clone()),
        };
        let outcome = match client {
            Ok(client) => {
                post_with(
                    &client,
                    &post.url,
                    &post.headers,
                    post.body,
                    Duration::from_secs(60),
                )
                .await
            }
            Err(reason) => HttpOutcome::Refused(reason),
        };
        let (event, detail, run) = match &outcome {
            HttpOutcome::Answer { status, .. } if (200..300).contains(status) => (
                "mdn_async_sent",
                format!("Posted to {}", post.url),
                Run::Done,
            ),
            // the address is refused: no retry can change that, the operator's policy can
            HttpOutcome::Refused(reason) => (
                "mdn_async_refused",
                format!("The MDN was not posted to {}: {reason}", post.url),
                Run::Done,
            ),
            HttpOutcome::Answer {
                status, headers, ..
            } => {
                let detail = match http_client::redirect_refusal(*status, location(headers)) {
                    Some(redirect) => format!("{} answered {redirect}", post.url),
                    None => format!("{} answered HTTP {status}", post.url),
                };
                let run = Run::Retry {
                    reason: detail.clone(),
                    base: None,
                };
                ("mdn_async_attempt_failed", detail, run)
            }
            HttpOutcome::Transport(reason) => {
                let detail = format!("{}: {reason}", post.url);
                let run = Run::Retry {
                    reason: detail.clone(),
                    base: None,
                };
                ("mdn_async_attempt_failed", detail, run)
            }
        };
        Ok(Finish::with(run, move |tx, _| {
            tx.messages()
                .add_event(scope, message, event, Some(&detail))
        }))
    }
}
