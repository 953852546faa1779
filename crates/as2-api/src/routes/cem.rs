//! Certificate Exchange Messaging through the API: `…/partners/{id}/trust/cem` offers a
//! station key pair to the partner as a CEM request (a real AS2 message) and lists the
//! requests sent and received; `…/cem/{cem_id}/accept` and `…/reject` answer a partner's
//! request when the gateway's policy leaves it to an operator.

use as2_core::cem::CertUsage;
use as2_domain::ValidationErrors;
use as2_domain::cem::CemRequest;
use as2_domain::id::{CemRequestId, PartnerId};
use as2_store::Scope;
use as2_trust::cem::{self, Effects, Offer};
use as2_trust::lifecycle::Subject;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::envelope::{Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::params::{meta, path_id};
use crate::routes::trust::Operator;
use crate::state::AppState;
use crate::time::format;

/// A CEM request on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct CemRequestDto {
    /// `cem_…`.
    pub id: String,
    /// `outbound` (we offered) or `inbound` (the partner offered).
    pub direction: String,
    /// The partner.
    pub partner_id: String,
    /// Our station.
    pub station_id: String,
    /// The XML `requestId`.
    pub request_id: String,
    /// The certificate offered.
    pub certificate_id: String,
    /// `keyEncipherment`, `digitalSignature`, `tlsServer`, `tlsClient`.
    pub usages: Vec<String>,
    /// When an answer is due (signing certificates switch then).
    pub respond_by: String,
    /// Where the answer goes.
    pub response_url: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The AS2 message that carried an offer of ours.
    pub message_id: Option<String>,
    /// When it was recorded.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<CemRequest> for CemRequestDto {
    fn from(r: CemRequest) -> Self {
        Self {
            id: r.id.to_string(),
            direction: r.direction.as_str().to_owned(),
            partner_id: r.partner_id.to_string(),
            station_id: r.station_id.to_string(),
            request_id: r.request_id,
            certificate_id: r.certificate_id.to_string(),
            usages: r.usages,
            respond_by: format(r.respond_by),
            response_url: r.response_url,
            status: r.status.as_str().to_owned(),
            reason: r.reason,
            message_id: r.message_id.map(|m| m.to_string()),
            created_at: format(r.created_at),
            updated_at: format(r.updated_at),
        }
    }
}

/// Body of an offer.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CemOfferInput {
    /// The station's next key pair (`cert_…`).
    pub certificate_id: Option<String>,
    /// What the partner is to trust it for (default: keyEncipherment and digitalSignature).
    pub usages: Option<Vec<String>>,
    /// When the partner must answer (RFC 3339); signing switches then.
    pub respond_by: Option<String>,
    /// Where the partner sends the answer (default: our public AS2 URL).
    pub response_url: Option<String>,
}

impl CemOfferInput {
    /// Every field checked, or a 422 naming each bad one.
    pub fn check(self, default_url: &str) -> Result<Offer, ApiError> {
        let mut errors = ValidationErrors::new();
        let certificate_id =
            super::trust::required_certificate(self.certificate_id.as_deref(), &mut errors);
        let usages = match self.usages {
            None => vec![CertUsage::KeyEncipherment, CertUsage::DigitalSignature],
            Some(list) => list
                .iter()
                .filter_map(|u| {
                    CertUsage::from_token(u).or_else(|| {
                        errors.add(
                            "usages",
                            format!("Unknown usage {u:?}: use keyEncipherment, digitalSignature, tlsServer or tlsClient"),
                        );
                        None
                    })
                })
                .collect(),
        };
        let respond_by = match self.respond_by.as_deref() {
            None => {
                errors.add("respond_by", "The respond_by field is required");
                None
            }
            Some(raw) => crate::time::parse(raw).or_else(|| {
                errors.add(
                    "respond_by",
                    "The respond_by must be an RFC 3339 time, like 2027-01-31T00:00:00Z",
                );
                None
            }),
        };
        match (certificate_id, respond_by) {
            (Some(certificate_id), Some(respond_by)) if errors.is_empty() => Ok(Offer {
                certificate_id,
                usages,
                respond_by,
                response_url: self.response_url.unwrap_or_else(|| default_url.to_owned()),
            }),
            _ => Err(errors.into()),
        }
    }
}

/// Body of a rejection.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CemRejectInput {
    /// Why (sent to the partner as `ReasonForRejection`).
    pub reason: Option<String>,
}

/// A rejection's reason, 1 to 1000 characters, or the 422 naming `reason`.
pub fn rejection_reason(reason: Option<String>) -> Result<String, ApiError> {
    match reason {
        Some(r) if !r.trim().is_empty() && r.len() <= 1000 => Ok(r),
        _ => Err(ApiError::field(
            "reason",
            "Say why the certificate is rejected (1 to 1000 characters)",
        )),
    }
}

/// Time-stamps the events of `effects` (its queued messages announced themselves).
async fn settle(state: &AppState, effects: &Effects) {
    for transition in &effects.transitions {
        state.stamper().stamp_event(&transition.event).await;
    }
}

/// Offers a station key pair to a partner, as `operator` (an API key or a console user).
pub async fn offer(
    state: &AppState,
    operator: Operator,
    partner: PartnerId,
    offer: Offer,
) -> Result<CemRequest, ApiError> {
    let effects = state
        .blocking("Partner", move |s| {
            Ok(cem::offer(
                s.store(),
                s.payloads(),
                operator.scope,
                partner,
                &offer,
                &operator.actor,
                chrono::Utc::now(),
            )?)
        })
        .await?;
    settle(state, &effects).await;
    effects
        .requests
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal(&std::io::Error::other("no CEM request recorded")))
}

/// Every CEM request of the partner, newest first.
pub async fn list(
    state: &AppState,
    scope: Scope,
    partner: PartnerId,
) -> Result<Vec<CemRequest>, ApiError> {
    state
        .blocking("Partner", move |s| {
            as2_trust::lifecycle::load(s.store(), scope, Subject::Partner(partner))?;
            Ok(s.store().cem().list(scope, partner)?)
        })
        .await
}

/// Accepts (`reason` = None) or rejects a partner's pending request.
pub async fn answer(
    state: &AppState,
    operator: Operator,
    partner: PartnerId,
    id: CemRequestId,
    reject: Option<String>,
) -> Result<CemRequest, ApiError> {
    let effects = state
        .blocking("CEM request", move |s| {
            let scope = operator.scope;
            let row = s.store().cem().get(scope, id)?;
            if row.partner_id != partner {
                return Err(ApiError::not_found("CEM request"));
            }
            let effects = match reject.as_deref() {
                None => cem::accept(
                    s.store(),
                    s.payloads(),
                    scope,
                    id,
                    &operator.actor,
                    chrono::Utc::now(),
                ),
                Some(reason) => {
                    cem::reject(s.store(), s.payloads(), scope, id, reason, &operator.actor)
                }
            };
            Ok(effects?)
        })
        .await?;
    settle(state, &effects).await;
    effects
        .requests
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("CEM request"))
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests, offer_certificate))
        .routes(routes!(accept_request))
        .routes(routes!(reject_request))
}

fn partner_path(id: &str) -> Result<PartnerId, ApiError> {
    path_id(id, "Partner")
}

/// Offers one of our station's key pairs to the partner as a CEM request (an AS2 message).
#[utoipa::path(post, path = "/v1/partners/{id}/trust/cem", tag = "trust", params(("id" = String, Path)), request_body = CemOfferInput,
    responses((status = 201, description = "Offered: the request is queued for sending", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "A rule was broken", body = Object)))]
async fn offer_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<CemOfferInput>,
) -> Result<Envelope<CemRequestDto>, ApiError> {
    let partner = partner_path(&id)?;
    let offer_input = input.check(state.config().public_as2_urls().for_mode(caller.mode()))?;
    let request = offer(&state, caller.into(), partner, offer_input).await?;
    Ok(Envelope::created(
        "Certificate exchange request queued",
        request.into(),
    ))
}

/// The partner's CEM requests, sent and received, newest first.
#[utoipa::path(get, path = "/v1/partners/{id}/trust/cem", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "The requests", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ListEnvelope<CemRequestDto>, ApiError> {
    let requests = list(&state, caller.scope(), partner_path(&id)?).await?;
    let total = i64::try_from(requests.len()).unwrap_or(i64::MAX);
    let page = as2_domain::pagination::PageRequest {
        page: 1,
        per_page: total.max(1),
    };
    let shown = requests.len();
    Ok(ListEnvelope::new(
        "Certificate exchange requests retrieved successfully",
        requests.into_iter().map(Into::into).collect(),
        meta(page, total, shown),
    ))
}

/// Accepts a partner's pending CEM request: encryption to them switches now, their signing
/// certificate at the respond-by date, and the answer is sent.
#[utoipa::path(post, path = "/v1/partners/{id}/trust/cem/{cem_id}/accept", tag = "trust",
    params(("id" = String, Path), ("cem_id" = String, Path, description = "cem_…")),
    responses((status = 200, description = "Accepted", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Not a pending request of the partner", body = Object)))]
async fn accept_request(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cem_id)): Path<(String, String)>,
) -> Result<Envelope<CemRequestDto>, ApiError> {
    let partner = partner_path(&id)?;
    let cem_id: CemRequestId = path_id(&cem_id, "CEM request")?;
    let request = answer(&state, caller.into(), partner, cem_id, None).await?;
    Ok(Envelope::ok("Certificate accepted", request.into()))
}

/// Rejects a partner's pending CEM request with a reason, and answers them.
#[utoipa::path(post, path = "/v1/partners/{id}/trust/cem/{cem_id}/reject", tag = "trust",
    params(("id" = String, Path), ("cem_id" = String, Path, description = "cem_…")), request_body = CemRejectInput,
    responses((status = 200, description = "Rejected", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Not a pending request of the partner", body = Object)))]
async fn reject_request(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cem_id)): Path<(String, String)>,
    JsonBody(input): JsonBody<CemRejectInput>,
) -> Result<Envelope<CemRequestDto>, ApiError> {
    let partner = partner_path(&id)?;
    let cem_id: CemRequestId = path_id(&cem_id, "CEM request")?;
    let reason = rejection_reason(input.reason)?;
    let request = answer(&state, caller.into(), partner, cem_id, Some(reason)).await?;
    Ok(Envelope::ok("Certificate rejected", request.into()))
}
