//! Verification of a timeline: every event's hash recomputes and links to the one before
//! it, and every event carries a time-stamp token over its hash that verifies under the
//! TSA's certificate.

use as2_store::Scope;
use as2_store::Store;

use crate::error::TrustOpError;
use crate::lifecycle::Subject;
use crate::stamper::{Stamper, digest};

/// What `GET …/trust/verify` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// No problem found.
    pub valid: bool,
    /// Events checked.
    pub events: usize,
    /// One sentence per problem, naming the event.
    pub problems: Vec<String>,
}

/// Checks the subject's chain and tokens.
pub async fn verify_timeline(
    store: &Store,
    stamper: &Stamper,
    scope: Scope,
    subject: Subject,
) -> Result<Verification, TrustOpError> {
    let (events, mut problems) = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || -> Result<_, TrustOpError> {
            crate::lifecycle::load(&store, scope, subject)?;
            let (_, problems) =
                store
                    .trust()
                    .verify_chain(scope, subject.kind(), subject.row_id())?;
            let events = store
                .trust()
                .events(scope, subject.kind(), subject.row_id())?;
            Ok((events, problems))
        })
        .await
        .map_err(|e| TrustOpError::Material(e.to_string()))??
    };
    let trusted = match stamper.trusted().await {
        Ok(trusted) => trusted,
        Err(e) => {
            problems.push(format!("the TSA certificate is unavailable: {e}"));
            Vec::new()
        }
    };
    for event in &events {
        let Some(token) = &event.timestamp_token else {
            problems.push(format!(
                "{}: has no time-stamp token yet (the TSA did not answer; retried by the gateway)",
                event.id
            ));
            continue;
        };
        let Ok(expected) = digest(&event.hash) else {
            problems.push(format!("{}: its hash is not a SHA-256 value", event.id));
            continue;
        };
        if let Err(e) = as2_evidence::verify::verify_token(token, &expected, &trusted) {
            problems.push(format!(
                "{}: its time-stamp token does not verify: {e}",
                event.id
            ));
        }
    }
    Ok(Verification {
        valid: problems.is_empty(),
        events: events.len(),
        problems,
    })
}
