//! The scheduler's part: activate and retire at the scheduled times (exactly once, whichever
//! gateway gets there first) and time-stamp events whose TSA call failed.

use as2_domain::trust::DueTransition;
use as2_store::Store;
use chrono::{DateTime, Utc};

use crate::error::TrustOpError;
use crate::lifecycle::{self, Subject, Transition};
use crate::stamper::Stamper;

/// The actor recorded for transitions the scheduler makes.
pub const SCHEDULER: &str = "scheduler";

/// Performs every transition due at `now`; returns how many this process made. A record
/// another process moved first is skipped (its compare-and-swap lost).
pub async fn run_due(store: &Store, stamper: &Stamper, now: DateTime<Utc>) -> usize {
    let made = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || due_transitions(&store, now)).await
    };
    let made = match made {
        Ok(made) => made,
        Err(e) => {
            tracing::error!(error = %e, "trust scheduler task failed");
            return 0;
        }
    };
    for transition in &made {
        stamper.stamp_event(&transition.event).await;
    }
    made.len()
}

fn due_transitions(store: &Store, now: DateTime<Utc>) -> Vec<Transition> {
    let due = match store.trust().due(now, 100) {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read due trust transitions");
            return Vec::new();
        }
    };
    let mut made = Vec::new();
    for record in due {
        let subject = Subject::from_record(record.subject, record.subject_id);
        let outcome = lifecycle::load(store, record.scope, subject).and_then(|stored| match stored
            .record
            .due(now)
        {
            Some(DueTransition::Activate) => {
                lifecycle::activate(store, record.scope, subject, SCHEDULER, now).map(Some)
            }
            Some(DueTransition::Retire) => {
                lifecycle::retire(store, record.scope, subject, SCHEDULER).map(Some)
            }
            None => Ok(None),
        });
        match outcome {
            Ok(Some(transition)) => {
                tracing::info!(
                    subject = record.subject.as_str(),
                    id = record.subject_id,
                    event = %transition.event.event_type,
                    "trust transition made by the scheduler"
                );
                made.push(transition);
            }
            Ok(None) | Err(TrustOpError::Conflict(_)) => {}
            Err(e) => tracing::warn!(
                subject = record.subject.as_str(),
                id = record.subject_id,
                error = %e,
                "scheduled trust transition failed"
            ),
        }
    }
    made
}

/// Time-stamps up to `limit` events that have no token yet; returns how many got one.
pub async fn stamp_pending(store: &Store, stamper: &Stamper, limit: i64) -> usize {
    let pending = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.trust().unstamped(limit)).await
    };
    let Ok(Ok(pending)) = pending else {
        return 0;
    };
    let mut stamped = 0;
    for (id, hash) in pending {
        let Ok(token) = stamper.token(&hash).await else {
            break; // the TSA is still down: try again next time
        };
        let store = store.clone();
        if let Ok(Ok(true)) =
            tokio::task::spawn_blocking(move || store.trust().set_token(id, &token)).await
        {
            stamped += 1;
        }
    }
    stamped
}
