//! The stations pages: the tenant's stations in the session's mode (AS2 ID, name, key
//! pairs), and the form that creates one (admins and owners) through the API's own path
//! (`save_station`), so the console shows the API's validation sentences beside the fields;
//! after a delete (`station_delete`) the list names the station deleted, read from the store.

use std::collections::HashMap;

use as2_domain::certificate::Certificate;
use as2_domain::id::{CertificateId, StationId};
use as2_domain::pagination::PageRequest;
use as2_domain::station::Station;
use as2_domain::user::ConsoleAction;
use as2_store::Scope;
use as2_store::repo::certificates::CertificateFilter;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::console::changes::{allowed, record};
use crate::console::layout::{page, when};
use crate::console::partners::recorded;
use crate::console::session::ConsoleSession;
use crate::console::station_form::{StationForm, form, input_of};
use crate::error::{ApiError, FieldErrors};
use crate::routes::stations::{Change, save_station};
use crate::state::AppState;

/// The first 100 certificates of `scope` (the form's choices, the list's names).
pub fn certificates(state: &AppState, scope: Scope) -> Result<Vec<Certificate>, ApiError> {
    let page = PageRequest {
        page: 1,
        per_page: 100,
    };
    let (certificates, _) =
        state
            .store()
            .certificates()
            .list(scope, CertificateFilter::default(), page)?;
    Ok(certificates)
}

/// `GET /console/stations` (`?deleted=stn_…` after a delete: a sentence naming it when the
/// store has it deleted in the session's tenant and mode; a made-up id says nothing).
pub async fn list(
    State(state): State<AppState>,
    console: ConsoleSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(scope) = console.scope() else {
        return page("Stations", Some(&console), html! { p { "No tenant." } }).into_response();
    };
    let deleted = query
        .get("deleted")
        .and_then(|v| v.parse::<StationId>().ok());
    let found = state
        .blocking("Station", move |s| {
            let page = PageRequest {
                page: 1,
                per_page: 100,
            };
            let stations = s.store().stations();
            let gone = match deleted {
                Some(id) => stations.deleted_names(scope, id)?.map(|names| (id, names)),
                None => None,
            };
            Ok((stations.list(scope, page)?, certificates(s, scope)?, gone))
        })
        .await;
    let ((stations, total), certificates, gone) = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let may_edit = console
        .current
        .as_ref()
        .is_some_and(|m| m.role.may(ConsoleAction::Configure));
    let content = html! {
        @if let Some((id, (name, as2_id))) = &gone {
            p role="status" { "The station " strong { (name) } " (AS2 ID " code { (as2_id) } ", " (id) ") was deleted." }
        }
        @if may_edit {
            p { a href="/console/stations/new" { "New station" } }
        }
        @if stations.is_empty() {
            p { "No station yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { (stations.len()) " of " (total) " stations" }
                thead { tr {
                    th scope="col" { "AS2 ID" } th scope="col" { "Name" } th scope="col" { "Key pair" }
                    th scope="col" { "Decryption key pair" } th scope="col" { "Default" }
                    th scope="col" { "Created" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for s in &stations { (row(s, &certificates, may_edit)) }
                }
            } }
        }
    };
    page("Stations", Some(&console), content).into_response()
}

fn key_pair(id: Option<CertificateId>, certificates: &[Certificate]) -> Markup {
    let Some(id) = id else {
        return html! { "none" };
    };
    let named = certificates.iter().find(|c| c.id == id);
    html! {
        @if let Some(c) = named {
            (c.name) " " small { "(" code { (id) } ", until " (when(c.info.not_after)) ")" }
        } @else {
            code { (id) }
        }
    }
}

fn row(s: &Station, certificates: &[Certificate], may_edit: bool) -> Markup {
    html! {
        tr {
            td { code { (s.settings.as2_id) } }
            td { (s.settings.name) }
            td { (key_pair(s.settings.certificate_id, certificates)) }
            td { (key_pair(s.settings.encryption_certificate_id, certificates)) }
            td { @if s.settings.is_default { "yes" } @else { "no" } }
            td { (when(s.created_at)) }
            td { a href={ "/console/stations/" (s.id) "/trust" } { "Trust lifecycle" span class="visually-hidden" { " of " (s.settings.name) } }
                @if may_edit {
                    br; a href={ "/console/stations/" (s.id) "/edit" } { "Edit" span class="visually-hidden" { " " (s.settings.name) } }
                    br; a href={ "/console/stations/" (s.id) "/delete" } { "Delete" span class="visually-hidden" { " " (s.settings.name) } }
                }
            }
        }
    }
}

/// `GET /console/stations/new` (admins and owners).
pub async fn new(State(state): State<AppState>, console: ConsoleSession) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    match state
        .blocking("Certificate", move |s| certificates(s, scope))
        .await
    {
        Ok(certificates) => {
            let spec = creating(None);
            let content = form(
                &console,
                &spec,
                &certificates,
                &HashMap::new(),
                &FieldErrors::new(),
            );
            page("New station", Some(&console), content).into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn creating(problem: Option<&str>) -> StationForm<'_> {
    StationForm {
        action: "/console/stations",
        submit: "Create station",
        failed: "The station was not created",
        problem,
    }
}

/// What a save did: the station, or the form again with the API's sentences (422) or its
/// sentence naming no field (a 409: the AS2 ID is taken).
pub async fn saved(
    state: &AppState,
    console: &ConsoleSession,
    id: Option<StationId>,
    values: HashMap<String, String>,
    spec: StationForm<'_>,
    title: &str,
) -> Response {
    let scope = match allowed(console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let input = input_of(&values);
    let changes = recorded(&values);
    let actor = console.clone();
    // the form shows every setting: a save replaces them all (PUT), `default` excepted
    let action = if id.is_none() {
        "station.create"
    } else {
        "station.update"
    };
    let outcome = state
        .blocking("Station", move |s| {
            let station = save_station(s, scope, id, input, Change::Replace)?;
            let id = station.id.to_string();
            record(
                s.store(),
                scope,
                &actor,
                action,
                ("station", Some(id.as_str())),
                &changes,
            )
            .map_err(ApiError::from)?;
            Ok(station)
        })
        .await;
    let Err(error) = outcome else {
        return Redirect::to("/console/stations").into_response();
    };
    if error.status() == StatusCode::NOT_FOUND {
        return crate::console::station_edit::not_found(console);
    }
    let certificates = match state
        .blocking("Certificate", move |s| certificates(s, scope))
        .await
    {
        Ok(certificates) => certificates,
        Err(error) => return error.into_response(),
    };
    let body = error.body();
    let (errors, problem) = match error.field_errors() {
        Some(errors) => (errors.clone(), None),
        None => (
            FieldErrors::new(),
            Some(
                body["message"]
                    .as_str()
                    .unwrap_or("The station was not saved"),
            ),
        ),
    };
    let spec = StationForm { problem, ..spec };
    let content = form(console, &spec, &certificates, &values, &errors);
    (error.status(), page(title, Some(console), content)).into_response()
}

/// `POST /console/stations`: creates the station, or shows the form again with the API's
/// sentences beside the fields.
pub async fn create(
    State(state): State<AppState>,
    console: ConsoleSession,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    saved(
        &state,
        &console,
        None,
        values,
        creating(None),
        "New station",
    )
    .await
}
