//! Deleting a station from the console (admins and owners): a confirmation page saying what
//! will be deleted (or, when partners still send and receive as it, the API's sentence
//! naming them, and no button), then the delete through `DELETE /v1/stations/{id}`'s own
//! function (`routes::deletion::delete_station`: the same 409 while it is in use), recorded
//! as `station.delete`; the list then names the station deleted.

use as2_domain::id::StationId;
use as2_domain::user::ConsoleAction;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::changes::{Deleted, allowed, delete_then_list};
use crate::console::layout::{csrf_field, page};
use crate::console::session::ConsoleSession;
use crate::console::station_edit::not_found;
use crate::routes::deletion::{delete_station, station_in_use};
use crate::state::AppState;

/// `GET /console/stations/{id}/delete`: what deleting it does, and the button.
pub async fn confirm(
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
            let stations = s.store().stations();
            Ok((
                stations.get(scope, id)?,
                stations.partners_using(scope, id)?,
            ))
        })
        .await;
    let (station, partners) = match found {
        Ok(found) => found,
        Err(error) if error.status() == StatusCode::NOT_FOUND => return not_found(&console),
        Err(error) => return error.into_response(),
    };
    let in_use = (!partners.is_empty()).then(|| {
        station_in_use(id, &partners).body()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    let settings = &station.settings;
    let path = format!("/console/stations/{id}/delete");
    let content = html! {
        dl {
            dt { "Name" } dd { (settings.name) }
            dt { "AS2 ID" } dd { code { (settings.as2_id) } }
            dt { "Id" } dd { code { (station.id) } }
            dt { "Default" } dd { @if settings.is_default { "yes" } @else { "no" } }
        }
        @if let Some(sentence) = &in_use {
            p class="error" id="in-use" { (sentence) "." }
            p { a href="/console/partners" { "Partners" } " · " a href="/console/stations" { "All stations" } }
        } @else {
            p {
                "Delete " strong { (settings.name) } " (" code { (settings.as2_id) } ")? "
                "AS2 messages sent to this AS2 ID are no longer received, and it can no longer be "
                "chosen for a partner; its messages stay listed and its key pairs stay among the "
                "certificates. This cannot be undone. No partner uses it now."
                @if settings.is_default { " It is the default station: the oldest station left becomes the default." }
            }
            form method="post" action=(path) {
                (csrf_field(&console))
                p { button type="submit" { "Delete station" } }
            }
            p { a href="/console/stations" { "Keep it: all stations" } }
        }
    };
    page("Delete station", Some(&console), content).into_response()
}

/// `POST /console/stations/{id}/delete`: deletes it through the API's function (the API's
/// sentence when partners still use it); the list says what was deleted.
pub async fn delete(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    delete_then_list(&state, &console, &raw, STATION, delete_station).await
}

/// What this page deletes.
const STATION: Deleted = Deleted {
    noun: "Station",
    resource_type: "station",
    list: ("/console/stations", "All stations"),
    not_found,
};
