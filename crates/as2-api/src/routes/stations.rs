//! `/v1/stations`: our AS2 identities.

use as2_domain::ValidationErrors;
use as2_domain::id::{CertificateId, StationId};
use as2_domain::public_url::PublicAs2Urls;
use as2_domain::station::{Station, StationSettings};
use as2_store::Scope;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::envelope::{Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::params::{QueryMap, meta, only, page, path_id};
use crate::state::AppState;
use crate::time::format;

/// A station on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationDto {
    /// `stn_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Our AS2 identifier.
    pub as2_id: String,
    /// Our key pair (`cert_…`).
    pub certificate_id: Option<String>,
    /// A separate decryption key pair.
    pub encryption_certificate_id: Option<String>,
    /// Where partners send async MDNs.
    pub mdn_url: String,
    /// The URL its partners post AS2 messages to (the mode's endpoint of the gateway).
    pub as2_url: String,
    /// The tenant's default station.
    pub default: bool,
    /// `test` or `live`.
    pub mode: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl StationDto {
    /// The wire form: `as2_url` is the station's mode's public URL, which also fills an
    /// unset MDN URL.
    pub fn new(s: Station, urls: &PublicAs2Urls) -> Self {
        let as2_url = urls.for_mode(s.mode).to_owned();
        Self {
            id: s.id.to_string(),
            name: s.settings.name,
            as2_id: s.settings.as2_id,
            certificate_id: s.settings.certificate_id.map(|c| c.to_string()),
            encryption_certificate_id: s.settings.encryption_certificate_id.map(|c| c.to_string()),
            mdn_url: s.settings.mdn_url.unwrap_or_else(|| as2_url.clone()),
            as2_url,
            default: s.settings.is_default,
            mode: s.mode.to_string(),
            created_at: format(s.created_at),
            updated_at: format(s.updated_at),
        }
    }
}

/// Body of create (all of `name`, `as2_id` required) and update (any subset).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationInput {
    /// Display name.
    pub name: Option<String>,
    /// Our AS2 identifier.
    pub as2_id: Option<String>,
    /// Our key pair (`cert_…`, a key pair of this tenant and mode).
    pub certificate_id: Option<String>,
    /// A separate decryption key pair.
    pub encryption_certificate_id: Option<String>,
    /// Where partners send async MDNs.
    pub mdn_url: Option<String>,
    /// Make it the default station.
    pub default: Option<bool>,
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stations, create_station))
        .routes(routes!(
            get_station,
            update_station,
            replace_station,
            delete_station
        ))
}

/// Parses an optional `cert_…` field.
pub fn certificate_field(
    value: Option<&str>,
    field: &str,
    errors: &mut ValidationErrors,
) -> Option<CertificateId> {
    let value = value?;
    match value.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, "The certificate id must look like cert_000001");
            None
        }
    }
}

/// Checks that referenced certificates exist in `scope` (and are key pairs when `key_pair`).
pub fn check_certificates(
    state: &AppState,
    scope: Scope,
    refs: &[(&str, Option<CertificateId>)],
    key_pair: bool,
) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::new();
    for (field, id) in refs {
        let Some(id) = id else { continue };
        match state.store().certificates().get(scope, *id) {
            Ok(cert)
                if key_pair && cert.kind != as2_domain::certificate::CertificateKind::KeyPair =>
            {
                errors.add(
                    field,
                    "The certificate must be a key pair (certificate with its private key)",
                );
            }
            Ok(_) => {}
            Err(as2_store::StoreError::NotFound) => {
                errors.add(field, "The selected certificate does not exist");
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(errors.into_result(())?)
}

fn apply(
    input: StationInput,
    mut settings: StationSettings,
    errors: &mut ValidationErrors,
) -> StationSettings {
    if let Some(name) = input.name {
        settings.name = name.trim().to_owned();
    }
    if let Some(as2_id) = input.as2_id {
        settings.as2_id = as2_id;
    }
    if input.certificate_id.is_some() {
        settings.certificate_id =
            certificate_field(input.certificate_id.as_deref(), "certificate_id", errors);
    }
    if input.encryption_certificate_id.is_some() {
        settings.encryption_certificate_id = certificate_field(
            input.encryption_certificate_id.as_deref(),
            "encryption_certificate_id",
            errors,
        );
    }
    if input.mdn_url.is_some() {
        settings.mdn_url = input.mdn_url.filter(|u| !u.is_empty());
    }
    if let Some(default) = input.default {
        settings.is_default = default;
    }
    settings
}

/// Stations of the tenant in the key's mode.
#[utoipa::path(get, path = "/v1/stations", tag = "stations", params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of stations", body = Object)))]
async fn list_stations(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<StationDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(&query, &["page", "per_page"], &mut errors);
    let page = page(&query, &mut errors);
    errors.into_result(())?;
    let (stations, total) = state
        .blocking("Station", move |s| {
            Ok(s.store().stations().list(caller.scope(), page)?)
        })
        .await?;
    let shown = stations.len();
    let urls = state.config().public_as2_urls();
    let data = stations
        .into_iter()
        .map(|s| StationDto::new(s, &urls))
        .collect();
    Ok(ListEnvelope::new(
        "Stations retrieved successfully",
        data,
        meta(page, total, shown),
    ))
}

/// Creates a station.
#[utoipa::path(post, path = "/v1/stations", tag = "stations", request_body = StationInput,
    responses((status = 201, description = "Created", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn create_station(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<StationInput>,
) -> Result<Envelope<StationDto>, ApiError> {
    let scope = caller.scope();
    let station = state
        .blocking("Station", move |s| {
            save_station(s, scope, None, input, Change::Replace)
        })
        .await?;
    Ok(Envelope::created(
        "Station created successfully",
        StationDto::new(station, &state.config().public_as2_urls()),
    ))
}

/// One station.
#[utoipa::path(get, path = "/v1/stations/{id}", tag = "stations", params(("id" = String, Path, description = "stn_…")),
    responses((status = 200, description = "The station", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn get_station(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<StationDto>, ApiError> {
    let id: StationId = path_id(&id, "Station")?;
    let station = state
        .blocking("Station", move |s| {
            Ok(s.store().stations().get(caller.scope(), id)?)
        })
        .await?;
    Ok(Envelope::ok(
        "Station retrieved successfully",
        StationDto::new(station, &state.config().public_as2_urls()),
    ))
}

/// Changes a station.
#[utoipa::path(patch, path = "/v1/stations/{id}", tag = "stations", params(("id" = String, Path)), request_body = StationInput,
    responses((status = 200, description = "Updated", body = Object), (status = 404, description = "Not found", body = Object), (status = 409, description = "The AS2 ID is taken", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn update_station(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<StationInput>,
) -> Result<Envelope<StationDto>, ApiError> {
    save_station_answer(&state, caller, &id, input, Change::Patch).await
}

/// Replaces a station: `name` and `as2_id` are required like on create, the fields left out
/// take their defaults (no key pair, the gateway's MDN URL); `default` stays as it is unless
/// given, so a tenant never loses its default station by a replacement.
#[utoipa::path(put, path = "/v1/stations/{id}", tag = "stations", params(("id" = String, Path)), request_body = StationInput,
    responses((status = 200, description = "Replaced", body = Object), (status = 404, description = "Not found", body = Object), (status = 409, description = "The AS2 ID is taken", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn replace_station(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<StationInput>,
) -> Result<Envelope<StationDto>, ApiError> {
    save_station_answer(&state, caller, &id, input, Change::Replace).await
}

/// PATCH applies the fields given onto the station; PUT (and create) onto the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Only the fields given change.
    Patch,
    /// `name` and `as2_id` required, the fields left out take their defaults.
    Replace,
}

async fn save_station_answer(
    state: &AppState,
    caller: Caller,
    id: &str,
    input: StationInput,
    change: Change,
) -> Result<Envelope<StationDto>, ApiError> {
    let id: StationId = path_id(id, "Station")?;
    let scope = caller.scope();
    let station = state
        .blocking("Station", move |s| {
            save_station(s, scope, Some(id), input, change)
        })
        .await?;
    let message = match change {
        Change::Patch => "Station updated successfully",
        Change::Replace => "Station replaced successfully",
    };
    Ok(Envelope::ok(
        message,
        StationDto::new(station, &state.config().public_as2_urls()),
    ))
}

/// Validates, checks the key pairs and writes a station of `scope` (create when `id` is
/// `None`, always onto the defaults; the tenant's first station becomes its default): the
/// one path of the API and the console.
pub fn save_station(
    state: &AppState,
    scope: Scope,
    id: Option<StationId>,
    input: StationInput,
    change: Change,
) -> Result<Station, ApiError> {
    let current = id
        .map(|id| state.store().stations().get(scope, id))
        .transpose()?;
    let mut errors = ValidationErrors::new();
    let base = match (&current, change) {
        (Some(current), Change::Patch) => current.settings.clone(),
        _ => {
            if input.name.is_none() {
                errors.add("name", "The name field is required");
            }
            if input.as2_id.is_none() {
                errors.add("as2_id", "The AS2 ID field is required");
            }
            StationSettings {
                name: String::new(),
                as2_id: String::new(),
                certificate_id: None,
                encryption_certificate_id: None,
                mdn_url: None,
                is_default: current.as_ref().is_some_and(|c| c.settings.is_default),
            }
        }
    };
    let mut settings = apply(input, base, &mut errors);
    if let Err(e) = settings.validate(scope.mode) {
        errors.merge(e);
    }
    errors.into_result(())?;
    check_certificates(
        state,
        scope,
        &[
            ("certificate_id", settings.certificate_id),
            (
                "encryption_certificate_id",
                settings.encryption_certificate_id,
            ),
        ],
        true,
    )?;
    let stations = state.store().stations();
    match id {
        Some(id) => Ok(stations.update(scope, id, &settings)?),
        None => {
            if !settings.is_default && stations.default_station(scope).is_err() {
                settings.is_default = true;
            }
            Ok(stations.create(scope, &settings)?)
        }
    }
}

/// Deletes a station.
///
/// Refused (409 `station_in_use`) while a partner still uses it.
#[utoipa::path(delete, path = "/v1/stations/{id}", tag = "stations", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Object), (status = 404, description = "Not found", body = Object),
        (status = 409, description = "In use: the message names the partners that use it, details.partners lists them", body = Object)))]
async fn delete_station(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<serde_json::Value>, ApiError> {
    let id: StationId = path_id(&id, "Station")?;
    state
        .blocking("Station", move |s| {
            super::deletion::delete_station(s, caller.scope(), id)
        })
        .await?;
    Ok(Envelope::ok(
        "Station deleted successfully",
        serde_json::json!({ "id": id.to_string(), "deleted": true }),
    ))
}
