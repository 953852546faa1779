//! `/api/v1/partners/cem/…`: seed 000's trust lifecycle operations (CemScheduleRollover,
//! CemActivate, CemRetire, CemEvents) in its shapes, over the same operations as
//! `/v1/partners/{id}/trust…`.

use as2_domain::id::{CertificateId, PartnerId};
use as2_trust::lifecycle::Subject;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::reply::{RawBody, RequestBody, Success, body, id_field};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::trust::{self, RolloverInput, TrustDto, TrustEventDto};
use crate::state::AppState;

/// Body naming a partner.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerBody {
    id: Option<i64>,
    #[serde(alias = "partner")]
    partner_id: Option<i64>,
}

impl PartnerBody {
    fn subject(&self) -> Result<Subject, ApiError> {
        let id = match (self.id, self.partner_id) {
            (Some(id), _) | (None, Some(id)) => id_field(Some(id), "id")?,
            (None, None) => id_field(None, "id")?,
        };
        Ok(Subject::Partner(PartnerId(id)))
    }
}

/// Body of CemScheduleRollover.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    id: Option<i64>,
    #[serde(alias = "partner")]
    partner_id: Option<i64>,
    #[serde(alias = "next_certificate_id")]
    certificate_id: Option<i64>,
    activate_at: Option<String>,
    retire_at: Option<String>,
}

/// A trust record in seed 000's shape (integer ids).
#[derive(Debug, Serialize)]
pub struct LegacyTrust {
    partner_id: i64,
    current_certificate_id: Option<i64>,
    next_certificate_id: Option<i64>,
    previous_certificate_id: Option<i64>,
    current_fingerprint: Option<String>,
    next_fingerprint: Option<String>,
    activate_at: Option<String>,
    retire_at: Option<String>,
    state: String,
}

fn integer(prefixed: Option<&str>) -> Option<i64> {
    prefixed
        .and_then(|id| id.parse::<CertificateId>().ok())
        .map(|c| c.0)
}

impl LegacyTrust {
    fn new(partner: i64, dto: TrustDto) -> Self {
        Self {
            partner_id: partner,
            current_certificate_id: integer(dto.current.as_ref().map(|c| c.id.as_str())),
            next_certificate_id: integer(dto.next.as_ref().map(|c| c.id.as_str())),
            previous_certificate_id: integer(dto.previous.as_ref().map(|c| c.id.as_str())),
            current_fingerprint: dto.current.map(|c| c.fingerprint_sha256),
            next_fingerprint: dto.next.map(|c| c.fingerprint_sha256),
            activate_at: dto.activate_at,
            retire_at: dto.retire_at,
            state: dto.state,
        }
    }
}

/// A timeline event with an integer `id` (the `/v1` id stays in `event_id`).
fn legacy_event(event: as2_store::repo::trust::TrustEvent) -> serde_json::Value {
    let id = event.id.0;
    let mut value = serde_json::to_value(TrustEventDto::from(event)).unwrap_or_default();
    value["event_id"] = value["id"].take();
    value["id"] = id.into();
    value
}

fn partner_row(subject: Subject) -> i64 {
    subject.row_id()
}

/// `POST /api/v1/partners/cem/trust`: the partner's trust record.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyTrust>, ApiError> {
    let subject = body::<PartnerBody>(&bytes)?.subject()?;
    let dto = trust::show(&state, caller.into(), subject).await?;
    Ok(Success::ok(
        "Trust record retrieved",
        LegacyTrust::new(partner_row(subject), dto),
    ))
}

/// `POST /api/v1/partners/cem/schedule-rollover` (CemScheduleRollover).
pub async fn schedule(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyTrust>, ApiError> {
    let input: ScheduleBody = body(&bytes)?;
    let subject = PartnerBody {
        id: input.id,
        partner_id: input.partner_id,
    }
    .subject()?;
    let rollover = RolloverInput {
        certificate_id: input.certificate_id.map(|c| CertificateId(c).to_string()),
        activate_at: input.activate_at,
        retire_at: input.retire_at,
    }
    .check()?;
    let dto = trust::rollover(&state, caller.into(), subject, rollover).await?;
    Ok(Success::ok(
        "Rollover scheduled",
        LegacyTrust::new(partner_row(subject), dto),
    ))
}

/// `POST /api/v1/partners/cem/activate` (CemActivate).
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyTrust>, ApiError> {
    let subject = body::<PartnerBody>(&bytes)?.subject()?;
    let dto = trust::activate(&state, caller.into(), subject).await?;
    Ok(Success::ok(
        "Next certificate activated",
        LegacyTrust::new(partner_row(subject), dto),
    ))
}

/// `POST /api/v1/partners/cem/retire` (CemRetire).
pub async fn retire(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyTrust>, ApiError> {
    let subject = body::<PartnerBody>(&bytes)?.subject()?;
    let dto = trust::retire(&state, caller.into(), subject).await?;
    Ok(Success::ok(
        "Previous certificate retired",
        LegacyTrust::new(partner_row(subject), dto),
    ))
}

/// `POST /api/v1/partners/cem/events` (CemEvents): the timeline, oldest first.
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<Vec<serde_json::Value>>, ApiError> {
    let subject = body::<PartnerBody>(&bytes)?.subject()?;
    let events = trust::events(&state, caller.into(), subject).await?;
    Ok(Success::ok(
        "Trust events retrieved",
        events.into_iter().map(legacy_event).collect(),
    ))
}

/// `POST /api/v1/partners/cem/verify`: the chain and every token.
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<trust::VerificationDto>, ApiError> {
    let subject = body::<PartnerBody>(&bytes)?.subject()?;
    let result = trust::verify(&state, caller.into(), subject).await?;
    Ok(Success::ok("Trust timeline verified", result))
}

/// Body of `cem/send`: seed-000 ids, the `/v1` offer fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    id: Option<i64>,
    #[serde(alias = "partner")]
    partner_id: Option<i64>,
    certificate_id: Option<i64>,
    usages: Option<Vec<String>>,
    respond_by: Option<String>,
    response_url: Option<String>,
}

/// Body naming a partner's CEM request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    id: Option<i64>,
    #[serde(alias = "partner")]
    partner_id: Option<i64>,
    cem_request_id: Option<i64>,
    reason: Option<String>,
}

/// A CEM request with integer ids.
fn legacy_request(request: as2_domain::cem::CemRequest) -> serde_json::Value {
    let ids = (
        request.id.0,
        request.partner_id.0,
        request.station_id.0,
        request.certificate_id.0,
        request.message_id.map(|m| m.0),
    );
    let mut value =
        serde_json::to_value(crate::routes::cem::CemRequestDto::from(request)).unwrap_or_default();
    value["id"] = ids.0.into();
    value["partner_id"] = ids.1.into();
    value["station_id"] = ids.2.into();
    value["certificate_id"] = ids.3.into();
    value["message_id"] = ids.4.into();
    value
}

fn partner_id(subject: Subject) -> PartnerId {
    PartnerId(subject.row_id())
}

/// `POST /api/v1/partners/cem/send`: offers a station key pair to the partner (a CEM request).
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<serde_json::Value>, ApiError> {
    let input: SendBody = body(&bytes)?;
    let subject = PartnerBody {
        id: input.id,
        partner_id: input.partner_id,
    }
    .subject()?;
    let offer = crate::routes::cem::CemOfferInput {
        certificate_id: input.certificate_id.map(|c| CertificateId(c).to_string()),
        usages: input.usages,
        respond_by: input.respond_by,
        response_url: input.response_url,
    }
    .check(state.config().public_as2_urls().for_mode(caller.mode()))?;
    let request =
        crate::routes::cem::offer(&state, caller.into(), partner_id(subject), offer).await?;
    Ok(Success::ok(
        "Certificate exchange request queued",
        legacy_request(request),
    ))
}

/// `POST /api/v1/partners/cem/requests`: the partner's CEM requests, newest first.
pub async fn requests(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<Vec<serde_json::Value>>, ApiError> {
    let subject = body::<PartnerBody>(&bytes)?.subject()?;
    let list = crate::routes::cem::list(&state, caller.scope(), partner_id(subject)).await?;
    Ok(Success::ok(
        "Certificate exchange requests retrieved",
        list.into_iter().map(legacy_request).collect(),
    ))
}

async fn answer(
    state: AppState,
    caller: Caller,
    bytes: &RequestBody,
    accept: bool,
) -> Result<serde_json::Value, ApiError> {
    let input: AnswerBody = body(bytes)?;
    let subject = PartnerBody {
        id: input.id,
        partner_id: input.partner_id,
    }
    .subject()?;
    let cem_id = as2_domain::id::CemRequestId(id_field(input.cem_request_id, "cem_request_id")?);
    let reason = if accept {
        None
    } else {
        Some(crate::routes::cem::rejection_reason(input.reason)?)
    };
    let request =
        crate::routes::cem::answer(&state, caller.into(), partner_id(subject), cem_id, reason)
            .await?;
    Ok(legacy_request(request))
}

/// `POST /api/v1/partners/cem/accept`: accepts a partner's pending CEM request.
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<serde_json::Value>, ApiError> {
    let data = answer(state, caller, &bytes, true).await?;
    Ok(Success::ok("Certificate accepted", data))
}

/// `POST /api/v1/partners/cem/reject`: rejects a partner's pending CEM request.
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<serde_json::Value>, ApiError> {
    let data = answer(state, caller, &bytes, false).await?;
    Ok(Success::ok("Certificate rejected", data))
}
