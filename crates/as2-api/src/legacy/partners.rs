//! `/api/v1/partners…`: list (with the `station` filter), detail and create, in seed 000's shapes.

use as2_domain::ValidationErrors;
use as2_domain::algorithms::{EncryptAlgorithm, SignAlgorithm, mdn_code, mdn_from_code};
use as2_domain::id::{PartnerId, StationId};
use as2_domain::pagination::PageRequest;
use as2_domain::partner::{Partner, PartnerSettings};
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::firewall;
use super::reply::{RawBody, Success, body, id_field, optional_body};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::partner_input::PartnerInput;
use crate::routes::partners::save_partner;
use crate::state::AppState;
use crate::time::format;

/// A partner in seed 000's shape (integer ids and codes).
#[derive(Debug, Serialize)]
pub struct LegacyPartner {
    id: i64,
    partner_id: i64,
    station_id: i64,
    name: String,
    as2_id: String,
    url: String,
    email: Option<String>,
    mdn: i64,
    certificate_id: Option<i64>,
    encryption: i64,
    signature: i64,
    auth: bool,
    auth_user: Option<String>,
    firewall: bool,
    allowed_networks: Vec<String>,
    active: bool,
    require_signed: bool,
    require_encrypted: bool,
    tls_ca_bundle: Option<String>,
    tls_ca_only: bool,
    tls_pin_sha256: Option<String>,
    tls_client_certificate_id: Option<i64>,
    tls_inbound_client_certificate_id: Option<i64>,
    created_at: String,
}

impl From<Partner> for LegacyPartner {
    fn from(p: Partner) -> Self {
        let s = p.settings;
        Self {
            id: p.id.0,
            partner_id: p.id.0,
            station_id: s.station_id.0,
            name: s.name,
            as2_id: s.as2_id,
            url: s.url,
            email: s.email,
            mdn: mdn_code(s.mdn_mode, s.mdn_signed),
            certificate_id: s.certificate_id.map(|c| c.0),
            encryption: if s.encrypt {
                s.encrypt_algorithm.code()
            } else {
                0
            },
            signature: if s.sign { s.sign_algorithm.code() } else { 0 },
            auth: s.auth,
            auth_user: s.auth_user,
            firewall: s.firewall,
            allowed_networks: s.allowed_networks.iter().map(ToString::to_string).collect(),
            active: s.active,
            require_signed: s.require_signed,
            require_encrypted: s.require_encrypted,
            tls_ca_bundle: s.tls.ca_bundle,
            tls_ca_only: s.tls.ca_only,
            tls_pin_sha256: s.tls.pin_sha256.map(|p| p.to_string()),
            tls_client_certificate_id: s.tls.client_certificate_id.map(|c| c.0),
            tls_inbound_client_certificate_id: s.tls_inbound_client_certificate_id.map(|c| c.0),
            created_at: format(p.created_at),
        }
    }
}

/// Body of the list call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListBody {
    station: Option<i64>,
}

/// Body of the detail call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailBody {
    id: Option<i64>,
}

/// Body of the create call (seed 000's fields).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    station: Option<i64>,
    as2_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    endpoint_url: Option<String>,
    mdn: Option<i64>,
    certificate_id: Option<i64>,
    encryption: Option<i64>,
    signature: Option<i64>,
    auth: Option<bool>,
    auth_user: Option<String>,
    auth_password: Option<String>,
    firewall: Option<bool>,
    /// Our addition to seed 000's body: the networks `firewall` allows (see
    /// [`super::firewall`] for what `firewall: true` allows without it).
    allowed_networks: Option<Vec<String>>,
    require_signed: Option<bool>,
    require_encrypted: Option<bool>,
    /// Our additions (issue 12): the partner's outbound TLS, as on `/v1`.
    tls_ca_bundle: Option<String>,
    tls_ca_only: Option<bool>,
    tls_pin_sha256: Option<String>,
    tls_client_certificate_id: Option<i64>,
    /// Our additions (issue 16): the algorithm settings of `/v1` under their `/v1` names
    /// and values (`signature` also takes 5–7 for SHA-3), and the plain MIC's coverage.
    signature_scheme: Option<String>,
    key_transport: Option<String>,
    compress: Option<bool>,
    compression_order: Option<String>,
    unsigned_mic: Option<String>,
}

/// `POST /api/v1/partners`: every partner of the tenant (of one station with `station`).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<Vec<LegacyPartner>>, ApiError> {
    let body: ListBody = optional_body(&bytes)?;
    let station = body.station.map(StationId);
    let partners = state
        .blocking("Partner", move |s| {
            let mut all = Vec::new();
            for page in 1.. {
                let (rows, total) = s.store().partners().list(
                    caller.scope(),
                    station,
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
    Ok(Success::ok(
        "Partners retrieved",
        partners.into_iter().map(Into::into).collect(),
    ))
}

/// `POST /api/v1/partners/detail`: one partner by integer id.
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyPartner>, ApiError> {
    let body: DetailBody = body(&bytes)?;
    let id = PartnerId(id_field(body.id, "id")?);
    let partner = state
        .blocking("Partner", move |s| {
            Ok(s.store().partners().get(caller.scope(), id)?)
        })
        .await?;
    Ok(Success::ok("Partner retrieved", partner.into()))
}

/// `POST /api/v1/partners/create`: the seed's fields mapped onto the partner settings.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<serde_json::Value>, ApiError> {
    let body: CreateBody = body(&bytes)?;
    let mut errors = ValidationErrors::new();
    if body.station.is_none() {
        errors.add("station", "The station field is required");
    }
    if body.email.is_none() {
        errors.add("email", "The email field is required");
    }
    let mut allowed_networks = body.allowed_networks;
    if body.firewall == Some(true) && allowed_networks.is_none() {
        allowed_networks = firewall::endpoint_networks(body.endpoint_url.as_deref()).await;
        if allowed_networks.is_none() {
            errors.add("firewall", firewall::NO_ADDRESSES);
        }
    }
    let mut input = PartnerInput {
        name: body.name,
        as2_id: body.as2_id,
        url: body.endpoint_url,
        email: body.email,
        station_id: body.station.map(|s| StationId(s).to_string()),
        certificate_id: body
            .certificate_id
            .map(|c| as2_domain::id::CertificateId(c).to_string()),
        auth: body.auth,
        auth_user: body.auth_user,
        auth_password: body.auth_password,
        firewall: body.firewall,
        allowed_networks,
        require_signed: body.require_signed,
        require_encrypted: body.require_encrypted,
        tls_ca_bundle: body.tls_ca_bundle,
        tls_ca_only: body.tls_ca_only,
        tls_pin_sha256: body.tls_pin_sha256,
        tls_client_certificate_id: body
            .tls_client_certificate_id
            .map(|c| as2_domain::id::CertificateId(c).to_string()),
        signature_scheme: body.signature_scheme,
        key_transport: body.key_transport,
        compress: body.compress,
        compression_order: body.compression_order,
        unsigned_mic: body.unsigned_mic,
        url_optional: true,
        ..PartnerInput::default()
    };
    match body.mdn.map(mdn_from_code) {
        Some(Some((mode, signed))) => {
            input.mdn_mode = Some(mode.to_string());
            input.mdn_signed = Some(signed);
        }
        Some(None) => errors.add(
            "mdn",
            "The mdn must be 0 (none), 1 (sync), 2 (sync signed), 3 (async) or 4 (async signed)",
        ),
        None => {}
    }
    match body.encryption.map(EncryptAlgorithm::from_code) {
        Some(Some(alg)) => {
            input.encrypt = Some(alg.is_some());
            input.encrypt_algorithm = alg.map(|a| a.to_string());
        }
        Some(None) => errors.add("encryption", "The encryption must be 0 (none) or 1–6 (3des, aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm)"),
        None => input.encrypt = Some(body.certificate_id.is_some()),
    }
    match body.signature.map(SignAlgorithm::from_code) {
        Some(Some(alg)) => {
            input.sign = Some(alg.is_some());
            input.sign_algorithm = alg.map(|a| a.to_string());
        }
        Some(None) => errors.add(
            "signature",
            "The signature must be 0 (none) or 1–7 (sha1, sha256, sha384, sha512, sha3-256, sha3-384, sha3-512)",
        ),
        None => {}
    }
    if !errors.is_empty() {
        // Say everything at once: the rules of the partner itself, too.
        input.require_full(&mut errors);
        let base = PartnerSettings::new(String::new(), String::new(), String::new(), StationId(0));
        let has_password = input
            .auth_password
            .as_deref()
            .is_some_and(|p| !p.is_empty());
        let settings = input.clone().apply(base, &mut errors);
        if let Err(more) = settings.validate(caller.mode(), has_password) {
            errors.merge(more);
        }
        if let Err(more) = settings.check_destinations(&state.config().destinations) {
            errors.merge(more);
        }
        return Err(rename_fields(errors.into()));
    }
    let partner = state
        .blocking("Partner", move |s| {
            save_partner(s, caller.scope(), None, input, true).map_err(rename_fields)
        })
        .await?;
    let data = serde_json::json!({
        "id": partner.id.0,
        "partner_id": partner.id.0,
        "station_id": partner.settings.station_id.0,
        "name": partner.settings.name,
        "as2_id": partner.settings.as2_id,
        "url": partner.settings.url,
    });
    Ok(Success::ok("Partner created", data))
}

/// Keeps seed 000's field names in errors (`endpoint_url`, `station`).
fn rename_fields(error: ApiError) -> ApiError {
    error
        .rename_field("url", "endpoint_url")
        .rename_field("station_id", "station")
}
