//! `/api/v1/stations…`: list, detail and create, in seed 000's shapes.

use as2_domain::id::{CertificateId, StationId};
use as2_domain::pagination::PageRequest;
use as2_domain::public_url::PublicAs2Urls;
use as2_domain::station::{Station, StationSettings};
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::reply::{RawBody, Success, body, id_field};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::stations::check_certificates;
use crate::state::AppState;
use crate::time::format;

/// A station in seed 000's shape.
#[derive(Debug, Serialize)]
pub struct LegacyStation {
    id: i64,
    station_id: i64,
    name: String,
    as2_id: String,
    certificate_id: Option<i64>,
    mdn_url: Option<String>,
    as2_url: String,
    default: bool,
    created_at: String,
}

impl LegacyStation {
    /// The seed's shape, with `as2_url`: the URL its partners post to (the mode's endpoint).
    fn new(s: Station, urls: &PublicAs2Urls) -> Self {
        Self {
            as2_url: urls.for_mode(s.mode).to_owned(),
            id: s.id.0,
            station_id: s.id.0,
            name: s.settings.name,
            as2_id: s.settings.as2_id,
            certificate_id: s.settings.certificate_id.map(|c| c.0),
            mdn_url: s.settings.mdn_url,
            default: s.settings.is_default,
            created_at: format(s.created_at),
        }
    }
}

/// Body of detail.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailBody {
    id: Option<i64>,
}

/// Body of create.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: Option<String>,
    as2_id: Option<String>,
    certificate_id: Option<i64>,
    mdn_url: Option<String>,
    default: Option<bool>,
}

/// `POST /api/v1/stations`: every station of the tenant.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Success<Vec<LegacyStation>>, ApiError> {
    let stations = state
        .blocking("Station", move |s| {
            let mut all = Vec::new();
            for page in 1.. {
                let (rows, total) = s.store().stations().list(
                    caller.scope(),
                    PageRequest {
                        page,
                        per_page: 100,
                    },
                )?;
                let empty = rows.is_empty();
                all.extend(rows);
                if empty || i64::try_from(all.len()).unwrap_or(i64::MAX) >= total {
                    break;
                }
            }
            Ok(all)
        })
        .await?;
    let urls = state.config().public_as2_urls();
    Ok(Success::ok(
        "Stations retrieved",
        stations
            .into_iter()
            .map(|s| LegacyStation::new(s, &urls))
            .collect(),
    ))
}

/// `POST /api/v1/stations/detail`.
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyStation>, ApiError> {
    let body: DetailBody = body(&bytes)?;
    let id = StationId(id_field(body.id, "id")?);
    let station = state
        .blocking("Station", move |s| {
            Ok(s.store().stations().get(caller.scope(), id)?)
        })
        .await?;
    Ok(Success::ok(
        "Station retrieved",
        LegacyStation::new(station, &state.config().public_as2_urls()),
    ))
}

/// `POST /api/v1/stations/create`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyStation>, ApiError> {
    let body: CreateBody = body(&bytes)?;
    let settings = StationSettings {
        name: body.name.unwrap_or_default(),
        as2_id: body.as2_id.unwrap_or_default(),
        certificate_id: body.certificate_id.map(CertificateId),
        encryption_certificate_id: None,
        mdn_url: body.mdn_url,
        is_default: body.default.unwrap_or(false),
    };
    settings.validate(caller.mode())?;
    let station = state
        .blocking("Station", move |s| {
            check_certificates(
                s,
                caller.scope(),
                &[("certificate_id", settings.certificate_id)],
                true,
            )?;
            Ok(s.store().stations().create(caller.scope(), &settings)?)
        })
        .await?;
    Ok(Success::ok(
        "Station created",
        LegacyStation::new(station, &state.config().public_as2_urls()),
    ))
}
