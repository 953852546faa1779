//! The trust lifecycle's changes from the console (admins and owners), on a partner's page
//! and a station's: schedule a rollover, activate, retire, cancel, each through the function
//! `/v1/{partners|stations}/{id}/trust…` runs, time-stamped like it, and recorded in the
//! audit log with the user as the actor.

use std::collections::HashMap;

use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;

use crate::console::changes::{allowed, record};
use crate::console::session::ConsoleSession;
use crate::console::trust::{
    Extra, Holder, Kind, Sent, SentForm, failure, not_found, operator, render,
};
use crate::error::ApiError;
use crate::routes::trust::{self, RolloverInput};
use crate::state::AppState;

/// An instant from a form's `YYYY-MM-DD` (midnight UTC); anything else goes to the API's
/// check as typed, so its sentence names the field.
pub fn instant(value: Option<&String>) -> Option<String> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    Some(match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => format!("{day}T00:00:00Z"),
        Err(_) => value.to_owned(),
    })
}

/// Records `action` on the holder in the audit log.
pub async fn audit(
    state: &AppState,
    console: &ConsoleSession,
    (holder, raw): (Holder, &str),
    action: String,
    changes: String,
) -> Result<(), ApiError> {
    let Some(scope) = console.scope() else {
        return Ok(());
    };
    let actor = console.clone();
    let id = raw.to_owned();
    state
        .blocking("Trust record", move |s| {
            record(
                s.store(),
                scope,
                &actor,
                &action,
                (holder.noun(), Some(id.as_str())),
                &changes,
            )?;
            Ok(())
        })
        .await
}

/// After a change: the audit event (`{partner|station}.{what}`), then back to the page.
pub async fn done<T>(
    state: &AppState,
    console: &ConsoleSession,
    (holder, raw): (Holder, &str),
    what: &str,
    changes: String,
    outcome: Result<T, ApiError>,
) -> Response {
    if let Err(error) = outcome {
        return failure(console, holder, &error);
    }
    let action = format!("{}.{what}", holder.noun());
    if let Err(error) = audit(state, console, (holder, raw), action, changes).await {
        return failure(console, holder, &error);
    }
    Redirect::to(&holder.base(raw)).into_response()
}

/// `POST /console/{partners|stations}/{id}/trust/rollover`: schedules, or shows the page
/// again with the API's sentences beside the fields (422).
pub async fn rollover<K: Kind>(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let holder = K::HOLDER;
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let (Some(subject), Some(operator)) = (holder.subject(&raw), operator(&console)) else {
        return not_found(&console, holder);
    };
    let input = RolloverInput {
        certificate_id: values
            .get("certificate_id")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        activate_at: instant(values.get("activate_at")),
        retire_at: instant(values.get("retire_at")),
    };
    let changes = serde_json::json!({
        "certificate_id": input.certificate_id,
        "activate_at": input.activate_at,
        "retire_at": input.retire_at,
    })
    .to_string();
    let outcome = match input.check() {
        Ok(checked) => trust::rollover(&state, operator, subject, checked).await,
        Err(error) => Err(error),
    };
    match outcome {
        Err(error) if error.field_errors().is_some() => {
            let extra = Extra {
                verification: None,
                sent: Some(Sent {
                    form: SentForm::Rollover,
                    values,
                    errors: error.field_errors().cloned().unwrap_or_default(),
                }),
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &console, holder, &raw, extra, status).await
        }
        outcome => {
            let place = (holder, raw.as_str());
            done(&state, &console, place, "trust.rollover", changes, outcome).await
        }
    }
}

/// Which of the three buttons.
#[derive(Debug, Clone, Copy)]
enum Step {
    Activate,
    Retire,
    Cancel,
}

async fn step(
    state: AppState,
    console: ConsoleSession,
    (holder, raw): (Holder, String),
    step: Step,
) -> Response {
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let (Some(subject), Some(operator)) = (holder.subject(&raw), operator(&console)) else {
        return not_found(&console, holder);
    };
    let (outcome, what) = match step {
        Step::Activate => (
            trust::activate(&state, operator, subject).await,
            "trust.activate",
        ),
        Step::Retire => (
            trust::retire(&state, operator, subject).await,
            "trust.retire",
        ),
        Step::Cancel => (
            trust::cancel(&state, operator, subject).await,
            "trust.cancel",
        ),
    };
    let place = (holder, raw.as_str());
    done(&state, &console, place, what, "{}".to_owned(), outcome).await
}

/// `POST /console/{partners|stations}/{id}/trust/activate`.
pub async fn activate<K: Kind>(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    step(state, console, (K::HOLDER, raw), Step::Activate).await
}

/// `POST /console/{partners|stations}/{id}/trust/retire`.
pub async fn retire<K: Kind>(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    step(state, console, (K::HOLDER, raw), Step::Retire).await
}

/// `POST /console/{partners|stations}/{id}/trust/cancel`.
pub async fn cancel<K: Kind>(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    step(state, console, (K::HOLDER, raw), Step::Cancel).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_midnight_utc_and_anything_else_goes_as_typed() {
        let day = "2027-01-31".to_owned();
        assert_eq!(instant(Some(&day)).as_deref(), Some("2027-01-31T00:00:00Z"));
        let odd = " tomorrow ".to_owned();
        assert_eq!(instant(Some(&odd)).as_deref(), Some("tomorrow"));
        assert_eq!(instant(Some(&String::new())), None);
        assert_eq!(instant(None), None);
    }
}
