//! The `send_alert` job: one event emailed to its tenant's alert recipients (read now, so a
//! tenant that removed them gets nothing) through the installation's mail server; a server
//! that is down or answers 4xx is tried again with the kind's backoff, a refusal for good or
//! no configured server ends the job with its reason.

use as2_store::jobs::{Job, JobInput, SendAlert};

use super::{Finish, Run, Worker};
use crate::alert_mail;
use crate::error::EngineError;
use crate::mail::SendFailure;

impl Worker {
    pub(super) async fn send_alert(&self, job: &Job) -> Result<Finish, EngineError> {
        let input = SendAlert::parse(&job.payload)?;
        let scope = input.scope()?;
        let event = input.event_id;
        let Some(alert) = self
            .blocking(move |s, _| Ok(s.alerts().to_send(scope, event)?))
            .await?
        else {
            return Ok(Finish::done());
        };
        let Some(mailer) = &self.config.mailer else {
            return Ok(Finish {
                run: Run::Stop {
                    reason: "No mail server is configured (AS2_SMTP_URL); the alert was not sent"
                        .into(),
                },
                effects: None,
            });
        };
        let (subject, body) = alert_mail::compose(&alert, scope.mode);
        let run = match mailer.send(&alert.recipients, &subject, body).await {
            Ok(()) => {
                tracing::info!(event, kind = %alert.event_type, recipients = alert.recipients.len(), "alert emailed");
                Run::Done
            }
            Err(SendFailure::Transient(reason)) => Run::Retry { reason, base: None },
            Err(SendFailure::Permanent(reason)) => Run::Stop { reason },
        };
        Ok(Finish { run, effects: None })
    }
}
