//! The trust lifecycle's changes from the console (admins and owners): schedule a rollover,
//! activate, retire, cancel, each through the function `/v1/partners/{id}/trust…` runs,
//! time-stamped like it, and recorded in the audit log with the user as the actor.

use std::collections::HashMap;

use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;

use crate::console::changes::{allowed, record};
use crate::console::session::ConsoleSession;
use crate::console::trust::{Extra, failure, not_found, operator, render, subject_of};
use crate::error::ApiError;
use crate::routes::trust::{self, RolloverInput, TrustDto};
use crate::state::AppState;

/// The rollover's instant from the form's `YYYY-MM-DD` (midnight UTC); anything else goes to
/// the API's check as typed, so its sentence names the field.
fn instant(value: Option<&String>) -> Option<String> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    Some(match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => format!("{day}T00:00:00Z"),
        Err(_) => value.to_owned(),
    })
}

/// Records `action` on the partner in the audit log.
async fn audit(
    state: &AppState,
    console: &ConsoleSession,
    raw: &str,
    action: &'static str,
    changes: String,
) -> Result<(), ApiError> {
    let Some(scope) = console.scope() else {
        return Ok(());
    };
    let actor = console.clone();
    let id = raw.to_owned();
    state
        .blocking("Partner", move |s| {
            record(
                s.store(),
                scope,
                &actor,
                action,
                ("partner", Some(id.as_str())),
                &changes,
            )?;
            Ok(())
        })
        .await
}

/// After a change: the audit event, then back to the page.
async fn done(
    state: &AppState,
    console: &ConsoleSession,
    raw: &str,
    action: &'static str,
    changes: String,
    outcome: Result<TrustDto, ApiError>,
) -> Response {
    if let Err(error) = outcome {
        return failure(console, &error);
    }
    if let Err(error) = audit(state, console, raw, action, changes).await {
        return failure(console, &error);
    }
    Redirect::to(&format!("/console/partners/{raw}/trust")).into_response()
}

/// `POST /console/partners/{id}/trust/rollover`: schedules, or shows the page again with the
/// API's sentences beside the fields (422).
pub async fn rollover(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let (Some(subject), Some(operator)) = (subject_of(&raw), operator(&console)) else {
        return not_found(&console);
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
            let field = |name: &str| values.get(name).cloned().unwrap_or_default();
            let extra = Extra {
                verification: None,
                values: [
                    field("certificate_id"),
                    field("activate_at"),
                    field("retire_at"),
                ],
                errors: error.field_errors().cloned().unwrap_or_default(),
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &console, &raw, extra, status).await
        }
        outcome => {
            let action = "partner.trust.rollover";
            done(&state, &console, &raw, action, changes, outcome).await
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

async fn step(state: AppState, console: ConsoleSession, raw: String, step: Step) -> Response {
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let (Some(subject), Some(operator)) = (subject_of(&raw), operator(&console)) else {
        return not_found(&console);
    };
    let (outcome, action) = match step {
        Step::Activate => (
            trust::activate(&state, operator, subject).await,
            "partner.trust.activate",
        ),
        Step::Retire => (
            trust::retire(&state, operator, subject).await,
            "partner.trust.retire",
        ),
        Step::Cancel => (
            trust::cancel(&state, operator, subject).await,
            "partner.trust.cancel",
        ),
    };
    done(&state, &console, &raw, action, "{}".to_owned(), outcome).await
}

/// `POST /console/partners/{id}/trust/activate`.
pub async fn activate(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    step(state, console, raw, Step::Activate).await
}

/// `POST /console/partners/{id}/trust/retire`.
pub async fn retire(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    step(state, console, raw, Step::Retire).await
}

/// `POST /console/partners/{id}/trust/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    step(state, console, raw, Step::Cancel).await
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
