//! `/v1/partners`: trading partners, every field of both seeds (PATCH changes some, PUT
//! replaces all); the basic-auth password is write-only.

use as2_domain::ValidationErrors;
use as2_domain::api_key::Scope as KeyScope;
use as2_domain::id::PartnerId;
use as2_domain::partner::{Partner, PartnerSettings};
use as2_store::Scope;
use as2_store::repo::partners::PasswordChange;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::partner_input::PartnerInput;
use super::stations::check_certificates;
use crate::auth::Caller;
use crate::envelope::{Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::params::{QueryMap, meta, only, page, parsed, path_id};
use crate::state::AppState;
use crate::time::format;

/// A partner on the wire (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerDto {
    /// `prt_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Their AS2 identifier.
    pub as2_id: String,
    /// Their AS2 endpoint.
    pub url: String,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Our station.
    pub station_id: String,
    /// Sign outbound messages.
    pub sign: bool,
    /// Signature digest.
    pub sign_algorithm: String,
    /// Encrypt outbound messages.
    pub encrypt: bool,
    /// Content encryption.
    pub encrypt_algorithm: String,
    /// Compress outbound messages.
    pub compress: bool,
    /// pkcs1v15 or pss.
    pub signature_scheme: String,
    /// rsa-pkcs1v15, rsa-oaep-sha1 or rsa-oaep-sha256.
    pub key_transport: String,
    /// before-signing or after-signing.
    pub compression_order: String,
    /// content-only or with-headers: what the MIC of a plain message covers.
    pub unsigned_mic: String,
    /// sync, async, none.
    pub mdn_mode: String,
    /// Signed MDNs asked.
    pub mdn_signed: bool,
    /// Async MDN URL.
    pub mdn_url: Option<String>,
    /// Their certificate.
    pub certificate_id: Option<String>,
    /// Their encryption certificate.
    pub encryption_certificate_id: Option<String>,
    /// Basic auth on.
    pub auth: bool,
    /// Basic-auth user.
    pub auth_user: Option<String>,
    /// Whether a password is stored.
    pub has_auth_password: bool,
    /// Firewall on.
    pub firewall: bool,
    /// Allowed source networks.
    pub allowed_networks: Vec<String>,
    /// Retries.
    pub retry_attempts: i32,
    /// Seconds between retries.
    pub retry_interval: i32,
    /// HTTP timeout, seconds.
    pub timeout: i32,
    /// Active.
    pub active: bool,
    /// Their inbound messages must be signed with a certificate we trust for them.
    pub require_signed: bool,
    /// Their inbound messages must be encrypted to our station.
    pub require_encrypted: bool,
    /// PEM certificates of their private CA (trusted for their HTTPS server).
    pub tls_ca_bundle: Option<String>,
    /// Only `tls_ca_bundle` is trusted, not the public roots.
    pub tls_ca_only: bool,
    /// Their pinned server key (`sha256/<base64>`).
    pub tls_pin_sha256: Option<String>,
    /// Our client certificate for mutual TLS (its private key is never shown).
    pub tls_client_certificate_id: Option<String>,
    /// The TLS client certificate they must present to our AS2 endpoint.
    pub tls_inbound_client_certificate_id: Option<String>,
    /// Whether messages can be sent to them now (`false` until what `missing_for_sending`
    /// names is attached: a partner may be created before its certificate arrives).
    pub ready_to_send: bool,
    /// What sending still needs, by field, each with a sentence.
    pub missing_for_sending: std::collections::BTreeMap<String, Vec<String>>,
    /// `test` or `live`.
    pub mode: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<Partner> for PartnerDto {
    fn from(p: Partner) -> Self {
        let s = p.settings;
        let missing = s.missing_for_sending().fields().clone();
        Self {
            ready_to_send: missing.is_empty(),
            missing_for_sending: missing,
            id: p.id.to_string(),
            name: s.name,
            as2_id: s.as2_id,
            url: s.url,
            email: s.email,
            station_id: s.station_id.to_string(),
            sign: s.sign,
            sign_algorithm: s.sign_algorithm.to_string(),
            encrypt: s.encrypt,
            encrypt_algorithm: s.encrypt_algorithm.to_string(),
            compress: s.compress,
            signature_scheme: s.signature_scheme.to_string(),
            key_transport: s.key_transport.to_string(),
            compression_order: s.compression_order.to_string(),
            unsigned_mic: s.unsigned_mic.to_string(),
            mdn_mode: s.mdn_mode.to_string(),
            mdn_signed: s.mdn_signed,
            mdn_url: s.mdn_url,
            certificate_id: s.certificate_id.map(|c| c.to_string()),
            encryption_certificate_id: s.encryption_certificate_id.map(|c| c.to_string()),
            auth: s.auth,
            auth_user: s.auth_user,
            has_auth_password: p.has_auth_password,
            firewall: s.firewall,
            allowed_networks: s.allowed_networks.iter().map(ToString::to_string).collect(),
            retry_attempts: s.retry_attempts,
            retry_interval: s.retry_interval_secs,
            timeout: s.timeout_secs,
            active: s.active,
            require_signed: s.require_signed,
            require_encrypted: s.require_encrypted,
            tls_ca_bundle: s.tls.ca_bundle,
            tls_ca_only: s.tls.ca_only,
            tls_pin_sha256: s.tls.pin_sha256.map(|p| p.to_string()),
            tls_client_certificate_id: s.tls.client_certificate_id.map(|c| c.to_string()),
            tls_inbound_client_certificate_id: s
                .tls_inbound_client_certificate_id
                .map(|c| c.to_string()),
            mode: p.mode.to_string(),
            created_at: format(p.created_at),
            updated_at: format(p.updated_at),
        }
    }
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_partners, create_partner))
        .routes(routes!(
            get_partner,
            update_partner,
            replace_partner,
            delete_partner
        ))
}

/// Validates, checks references and writes a partner of `scope` (create when `id` is
/// `None`): the one path of the API, seed 000's calls and the console.
pub fn save_partner(
    state: &AppState,
    scope: Scope,
    id: Option<PartnerId>,
    input: PartnerInput,
    full: bool,
) -> Result<Partner, ApiError> {
    let store = state.store();
    let mut errors = ValidationErrors::new();
    if full {
        input.require_full(&mut errors);
    }
    let current = id.map(|id| store.partners().get(scope, id)).transpose()?;
    let station = match (input.station(&mut ValidationErrors::new()), &current) {
        (Some(station), _) => station,
        (None, Some(current)) if !full => current.settings.station_id,
        _ => store
            .stations()
            .default_station(scope)
            .map(|s| s.id)
            .map_err(|_| {
                ApiError::field(
                    "station_id",
                    "The tenant has no station yet; create one or name station_id",
                )
            })?,
    };
    let base = match (&current, full) {
        (Some(current), false) => current.settings.clone(),
        _ => PartnerSettings::new(String::new(), String::new(), String::new(), station),
    };
    let mut input = input;
    let password_owned = input.auth_password.take();
    let password = match password_owned.as_deref() {
        Some("") => PasswordChange::Clear,
        Some(p) => PasswordChange::Set(p),
        None if full => PasswordChange::Clear,
        None => PasswordChange::Keep,
    };
    let mut settings = input.apply(base, &mut errors);
    if !full && current.is_none() {
        settings.station_id = station;
    }
    let has_password = match password {
        PasswordChange::Set(_) => true,
        PasswordChange::Clear => false,
        PasswordChange::Keep => current.as_ref().is_some_and(|c| c.has_auth_password),
    };
    if let Err(e) = settings.validate(scope.mode, has_password) {
        errors.merge(e);
    }
    if let Err(e) = settings.check_destinations(&state.config().destinations) {
        errors.merge(e);
    }
    errors.into_result(())?;
    if store.stations().get(scope, settings.station_id).is_err() {
        return Err(ApiError::field(
            "station_id",
            "The selected station does not exist",
        ));
    }
    check_certificates(
        state,
        scope,
        &[
            ("certificate_id", settings.certificate_id),
            (
                "encryption_certificate_id",
                settings.encryption_certificate_id,
            ),
            (
                "tls_inbound_client_certificate_id",
                settings.tls_inbound_client_certificate_id,
            ),
        ],
        false,
    )?;
    check_certificates(
        state,
        scope,
        &[(
            "tls_client_certificate_id",
            settings.tls.client_certificate_id,
        )],
        true,
    )?;
    match id {
        None => {
            let created = store.partners().create(
                scope,
                &settings,
                match password {
                    PasswordChange::Set(p) => Some(p),
                    _ => None,
                },
            )?;
            Ok(created)
        }
        Some(id) => Ok(store.partners().update(scope, id, &settings, password)?),
    }
}

/// Partners of the tenant in the key's mode (`station_id` filters).
#[utoipa::path(get, path = "/v1/partners", tag = "partners",
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query), ("station_id" = Option<String>, Query)),
    responses((status = 200, description = "A page of partners", body = Object)))]
async fn list_partners(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<PartnerDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(&query, &["page", "per_page", "station_id"], &mut errors);
    let page = page(&query, &mut errors);
    let station = parsed(
        &query,
        "station_id",
        "The station id must look like stn_000001",
        &mut errors,
    );
    errors.into_result(())?;
    let (partners, total) = state
        .blocking("Partner", move |s| {
            Ok(s.store().partners().list(caller.scope(), station, page)?)
        })
        .await?;
    let shown = partners.len();
    Ok(ListEnvelope::new(
        "Partners retrieved successfully",
        partners.into_iter().map(Into::into).collect(),
        meta(page, total, shown),
    ))
}

/// Creates a partner.
#[utoipa::path(post, path = "/v1/partners", tag = "partners", request_body = PartnerInput,
    responses((status = 201, description = "Created", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn create_partner(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<PartnerInput>,
) -> Result<Envelope<PartnerDto>, ApiError> {
    let partner = state
        .blocking("Partner", move |s| {
            save_partner(s, caller.scope(), None, input, true)
        })
        .await?;
    Ok(Envelope::created(
        "Partner created successfully",
        partner.into(),
    ))
}

/// One partner.
#[utoipa::path(get, path = "/v1/partners/{id}", tag = "partners", params(("id" = String, Path, description = "prt_…")),
    responses((status = 200, description = "The partner", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn get_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<PartnerDto>, ApiError> {
    let id: PartnerId = path_id(&id, "Partner")?;
    let partner = state
        .blocking("Partner", move |s| {
            Ok(s.store().partners().get(caller.scope(), id)?)
        })
        .await?;
    Ok(Envelope::ok(
        "Partner retrieved successfully",
        partner.into(),
    ))
}

/// Changes the given fields of a partner.
#[utoipa::path(patch, path = "/v1/partners/{id}", tag = "partners", params(("id" = String, Path)), request_body = PartnerInput,
    responses((status = 200, description = "Updated", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn update_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PartnerInput>,
) -> Result<Envelope<PartnerDto>, ApiError> {
    let id: PartnerId = path_id(&id, "Partner")?;
    let partner = state
        .blocking("Partner", move |s| {
            save_partner(s, caller.scope(), Some(id), input, false)
        })
        .await?;
    Ok(Envelope::ok("Partner updated successfully", partner.into()))
}

/// Replaces a partner: every field as given, the rest back to defaults.
#[utoipa::path(put, path = "/v1/partners/{id}", tag = "partners", params(("id" = String, Path)), request_body = PartnerInput,
    responses((status = 200, description = "Replaced", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn replace_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PartnerInput>,
) -> Result<Envelope<PartnerDto>, ApiError> {
    let id: PartnerId = path_id(&id, "Partner")?;
    let partner = state
        .blocking("Partner", move |s| {
            save_partner(s, caller.scope(), Some(id), input, true)
        })
        .await?;
    Ok(Envelope::ok(
        "Partner replaced successfully",
        partner.into(),
    ))
}

/// Deletes a partner (its messages stay).
#[utoipa::path(delete, path = "/v1/partners/{id}", tag = "partners", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn delete_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<serde_json::Value>, ApiError> {
    let id: PartnerId = path_id(&id, "Partner")?;
    caller.require(KeyScope::Delete)?;
    state
        .blocking("Partner", move |s| {
            Ok(s.store().partners().delete(caller.scope(), id)?)
        })
        .await?;
    Ok(Envelope::ok(
        "Partner deleted successfully",
        serde_json::json!({ "id": id.to_string(), "deleted": true }),
    ))
}
