//! The station edit pages (admins and owners): the station form filled with the station's
//! settings, saved through the API's own `save_station` (every setting as shown, like
//! `PUT /v1/stations/{id}`), the API's sentences beside the fields.

use std::collections::HashMap;

use as2_domain::id::StationId;
use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::console::changes::allowed;
use crate::console::layout::{not_found_page, page};
use crate::console::session::ConsoleSession;
use crate::console::station_form::{StationForm, form, values_of};
use crate::console::stations::{certificates, saved};
use crate::error::FieldErrors;
use crate::state::AppState;

/// The 404 page of a station not in the session's tenant and mode.
pub fn not_found(console: &ConsoleSession) -> Response {
    not_found_page(console, "station")
}

fn editing(action: &str) -> StationForm<'_> {
    StationForm {
        action,
        submit: "Save station",
        failed: "The station was not saved",
        problem: None,
    }
}

/// `GET /console/stations/{id}/edit` (admins and owners).
pub async fn edit(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<StationId>() else {
        return not_found(&console);
    };
    let found = state
        .blocking("Station", move |s| {
            let station = s.store().stations().get(scope, id)?;
            Ok((station, certificates(s, scope)?))
        })
        .await;
    match found {
        Ok((station, certificates)) => {
            let title = format!("Edit station {}", station.settings.name);
            let action = format!("/console/stations/{id}/edit");
            let values = values_of(&station);
            let content = form(
                &console,
                &editing(&action),
                &certificates,
                &values,
                &FieldErrors::new(),
            );
            page(&title, Some(&console), content).into_response()
        }
        Err(error) if error.status() == StatusCode::NOT_FOUND => not_found(&console),
        Err(error) => error.into_response(),
    }
}

/// `POST /console/stations/{id}/edit`: saves, or shows the form again with the API's
/// sentences beside the fields.
pub async fn save(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = allowed(&console, ConsoleAction::Configure) {
        return *refused;
    }
    let Ok(id) = raw.parse::<StationId>() else {
        return not_found(&console);
    };
    let action = format!("/console/stations/{id}/edit");
    saved(
        &state,
        &console,
        Some(id),
        values,
        editing(&action),
        "Edit station",
    )
    .await
}
