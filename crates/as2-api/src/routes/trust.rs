//! The trust lifecycle of partners and stations: `…/{id}/trust` (the record), `…/rollover`
//! (schedule), `…/activate`, `…/retire`, `…/events` (the hash-chained, time-stamped
//! timeline) and `…/verify`. The operations are shared with `/api/v1/partners/cem/…`.

use as2_domain::ValidationErrors;
use as2_domain::id::{CertificateId, PartnerId, StationId};
use as2_store::Scope;
use as2_store::repo::trust::TrustEvent;
use as2_trust::lifecycle::{self, Subject, TrustView};
use axum::extract::{Path, Query, State};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::certificates::CertificateDto;
use crate::auth::Caller;
use crate::envelope::{Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::params::{QueryMap, meta, only, page, path_id};
use crate::state::AppState;
use crate::time::format;

/// A trust record on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustDto {
    /// `partner` or `station`.
    pub subject: String,
    /// The partner's or station's id.
    pub id: String,
    /// The certificate in use.
    pub current: Option<CertificateDto>,
    /// The certificate scheduled to become current.
    pub next: Option<CertificateDto>,
    /// The certificate replaced at activation, accepted until retired.
    pub previous: Option<CertificateDto>,
    /// When `next` becomes current.
    pub activate_at: Option<String>,
    /// When `previous` stops being accepted.
    pub retire_at: Option<String>,
    /// `active`, `rollover_scheduled` or `activated`.
    pub state: String,
}

fn subject_id(subject: Subject) -> String {
    match (subject, subject.partner_id()) {
        (Subject::Station(id), _) => id.to_string(),
        (_, Some(id)) => id.to_string(),
        (_, None) => String::new(),
    }
}

impl TrustDto {
    fn new(subject: Subject, view: TrustView) -> Self {
        Self {
            subject: subject.kind().as_str().to_owned(),
            id: subject_id(subject),
            current: view.current.map(Into::into),
            next: view.next.map(Into::into),
            previous: view.previous.map(Into::into),
            activate_at: view.record.activate_at.map(format),
            retire_at: view.record.retire_at.map(format),
            state: view.record.state.as_str().to_owned(),
        }
    }
}

/// A timeline event on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustEventDto {
    /// `tev_…`.
    pub id: String,
    /// `rollover_scheduled`, `activated`, `retired`, `rollover_cancelled`, `cem_…`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Who: an API key id, `scheduler`, or `partner` for a CEM exchange.
    pub actor: String,
    /// When (microseconds).
    pub created_at: String,
    /// SHA-256 fingerprint of the current certificate after the event.
    pub current_fingerprint: Option<String>,
    /// SHA-256 fingerprint of the next (or previous) certificate after the event.
    pub next_fingerprint: Option<String>,
    /// What the event carried (certificate ids, dates, reasons).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// SHA-256 over the previous hash and this event's fields, hex.
    pub hash: String,
    /// The hash of the event before it (`null` for the first).
    pub prev_hash: Option<String>,
    /// The RFC 3161 TimeStampToken over `hash`, base64 DER (`null` until the TSA answered).
    pub timestamp_token: Option<String>,
}

impl From<TrustEvent> for TrustEventDto {
    fn from(e: TrustEvent) -> Self {
        Self {
            id: e.id.to_string(),
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
            event_type: e.event_type,
            actor: e.actor,
            created_at: format(e.created_at),
            current_fingerprint: e.current_fingerprint,
            next_fingerprint: e.next_fingerprint,
            hash: e.hash,
            prev_hash: e.prev_hash,
            timestamp_token: e
                .timestamp_token
                .map(|t| base64::engine::general_purpose::STANDARD.encode(t)),
        }
    }
}

/// What `…/trust/verify` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationDto {
    /// The chain is intact and every token verifies.
    pub valid: bool,
    /// Events checked.
    pub events: usize,
    /// One sentence per problem, naming the event.
    pub problems: Vec<String>,
}

/// Body of `…/trust/rollover`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloverInput {
    /// The next certificate (`cert_…`; a key pair for a station).
    pub certificate_id: Option<String>,
    /// When it becomes current (RFC 3339).
    pub activate_at: Option<String>,
    /// When the old certificate stops being accepted (RFC 3339, after `activate_at`).
    pub retire_at: Option<String>,
}

/// The checked fields of a rollover request.
#[derive(Debug, Clone, Copy)]
pub struct Rollover {
    /// The next certificate.
    pub certificate_id: CertificateId,
    /// Activation time.
    pub activate_at: chrono::DateTime<chrono::Utc>,
    /// Retirement time.
    pub retire_at: chrono::DateTime<chrono::Utc>,
}

impl RolloverInput {
    /// Every field present and well formed, or a 422 naming each bad one.
    pub fn check(&self) -> Result<Rollover, ApiError> {
        let mut errors = ValidationErrors::new();
        let certificate_id = required_certificate(self.certificate_id.as_deref(), &mut errors);
        let mut time = |field: &str, value: Option<&str>| match value {
            None => {
                errors.add(field, format!("The {field} field is required"));
                None
            }
            Some(raw) => crate::time::parse(raw).or_else(|| {
                errors.add(
                    field,
                    format!("The {field} must be an RFC 3339 time, like 2027-01-31T00:00:00Z"),
                );
                None
            }),
        };
        let activate_at = time("activate_at", self.activate_at.as_deref());
        let retire_at = time("retire_at", self.retire_at.as_deref());
        match (certificate_id, activate_at, retire_at) {
            (Some(certificate_id), Some(activate_at), Some(retire_at)) if errors.is_empty() => {
                Ok(Rollover {
                    certificate_id,
                    activate_at,
                    retire_at,
                })
            }
            _ => Err(errors.into()),
        }
    }
}

/// A required `certificate_id` field: present and shaped like `cert_000001`, else an error
/// naming it.
pub fn required_certificate(
    value: Option<&str>,
    errors: &mut ValidationErrors,
) -> Option<CertificateId> {
    if value.is_none() {
        errors.add("certificate_id", "The certificate_id field is required");
    }
    super::stations::certificate_field(value, "certificate_id", errors)
}

/// Who works on a trust record: the tenant and mode, the actor its events name (an API key
/// id, a console user id) and the reason a cancellation records.
#[derive(Debug, Clone)]
pub struct Operator {
    /// The tenant and mode.
    pub scope: Scope,
    /// The events' actor.
    pub actor: String,
    /// What a cancellation's event says.
    pub cancel_reason: &'static str,
}

impl From<Caller> for Operator {
    fn from(caller: Caller) -> Self {
        Self {
            scope: caller.scope(),
            actor: caller.key.id.to_string(),
            cancel_reason: "cancelled through the API",
        }
    }
}

fn resource(subject: Subject) -> &'static str {
    match subject {
        Subject::Station(_) => "Station",
        _ => "Partner",
    }
}

/// The record of `subject`.
pub async fn show(
    state: &AppState,
    operator: Operator,
    subject: Subject,
) -> Result<TrustDto, ApiError> {
    let view = state
        .blocking(resource(subject), move |s| {
            Ok(lifecycle::view(s.store(), operator.scope, subject)?)
        })
        .await?;
    Ok(TrustDto::new(subject, view))
}

/// Runs a lifecycle operation, time-stamps its event and answers the record after it.
async fn operate<F>(
    state: &AppState,
    operator: Operator,
    subject: Subject,
    operation: F,
) -> Result<TrustDto, ApiError>
where
    F: FnOnce(&AppState, &Operator) -> Result<lifecycle::Transition, as2_trust::TrustOpError>
        + Send
        + 'static,
{
    let scope = operator.scope;
    let transition = state
        .blocking(resource(subject), move |s| Ok(operation(s, &operator)?))
        .await?;
    state.stamper().stamp_event(&transition.event).await;
    let view = state
        .blocking(resource(subject), move |s| {
            Ok(lifecycle::view(s.store(), scope, subject)?)
        })
        .await?;
    Ok(TrustDto::new(subject, view))
}

/// Schedules a rollover.
pub async fn rollover(
    state: &AppState,
    operator: Operator,
    subject: Subject,
    input: Rollover,
) -> Result<TrustDto, ApiError> {
    operate(state, operator, subject, move |s, operator| {
        lifecycle::schedule(
            s.store(),
            operator.scope,
            subject,
            input.certificate_id,
            input.activate_at,
            input.retire_at,
            &operator.actor,
            chrono::Utc::now(),
        )
    })
    .await
}

/// Activates the scheduled rollover now.
pub async fn activate(
    state: &AppState,
    operator: Operator,
    subject: Subject,
) -> Result<TrustDto, ApiError> {
    operate(state, operator, subject, move |s, operator| {
        lifecycle::activate(
            s.store(),
            operator.scope,
            subject,
            &operator.actor,
            chrono::Utc::now(),
        )
    })
    .await
}

/// Retires the previous certificate now.
pub async fn retire(
    state: &AppState,
    operator: Operator,
    subject: Subject,
) -> Result<TrustDto, ApiError> {
    operate(state, operator, subject, move |s, operator| {
        lifecycle::retire(s.store(), operator.scope, subject, &operator.actor)
    })
    .await
}

/// Drops the scheduled rollover: the current certificate stays, the next is forgotten.
pub async fn cancel(
    state: &AppState,
    operator: Operator,
    subject: Subject,
) -> Result<TrustDto, ApiError> {
    operate(state, operator, subject, move |s, operator| {
        lifecycle::cancel(
            s.store(),
            operator.scope,
            subject,
            &operator.actor,
            operator.cancel_reason,
        )
    })
    .await
}

/// The timeline, oldest first.
pub async fn events(
    state: &AppState,
    operator: Operator,
    subject: Subject,
) -> Result<Vec<TrustEvent>, ApiError> {
    state
        .blocking(resource(subject), move |s| {
            lifecycle::load(s.store(), operator.scope, subject)?;
            Ok(s.store()
                .trust()
                .events(operator.scope, subject.kind(), subject.row_id())?)
        })
        .await
}

/// Verifies the chain and every token.
pub async fn verify(
    state: &AppState,
    operator: Operator,
    subject: Subject,
) -> Result<VerificationDto, ApiError> {
    let result =
        as2_trust::verify::verify_timeline(state.store(), state.stamper(), operator.scope, subject)
            .await?;
    Ok(VerificationDto {
        valid: result.valid,
        events: result.events,
        problems: result.problems,
    })
}

/// The routes of both subjects.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(partner_trust))
        .routes(routes!(partner_rollover))
        .routes(routes!(partner_activate))
        .routes(routes!(partner_retire))
        .routes(routes!(partner_cancel))
        .routes(routes!(partner_events))
        .routes(routes!(partner_verify))
        .routes(routes!(station_trust))
        .routes(routes!(station_rollover))
        .routes(routes!(station_activate))
        .routes(routes!(station_retire))
        .routes(routes!(station_cancel))
        .routes(routes!(station_events))
        .routes(routes!(station_verify))
}

fn partner(id: &str) -> Result<Subject, ApiError> {
    Ok(Subject::Partner(path_id::<PartnerId>(id, "Partner")?))
}

fn station(id: &str) -> Result<Subject, ApiError> {
    Ok(Subject::Station(path_id::<StationId>(id, "Station")?))
}

async fn event_page(
    state: &AppState,
    operator: Operator,
    subject: Subject,
    query: &QueryMap,
) -> Result<ListEnvelope<TrustEventDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(query, &["page", "per_page"], &mut errors);
    let page = page(query, &mut errors);
    errors.into_result(())?;
    let all = events(state, operator, subject).await?;
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((page.page - 1).saturating_mul(page.per_page)).unwrap_or(usize::MAX);
    let shown: Vec<TrustEventDto> = all
        .into_iter()
        .skip(skip)
        .take(usize::try_from(page.per_page).unwrap_or(0))
        .map(Into::into)
        .collect();
    let count = shown.len();
    Ok(ListEnvelope::new(
        "Trust events retrieved successfully",
        shown,
        meta(page, total, count),
    ))
}

/// A partner's trust record: current and next certificate, window, state.
#[utoipa::path(get, path = "/v1/partners/{id}/trust", tag = "trust", params(("id" = String, Path, description = "prt_…")),
    responses((status = 200, description = "The trust record", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn partner_trust(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let dto = show(&state, caller.into(), partner(&id)?).await?;
    Ok(Envelope::ok("Trust record retrieved successfully", dto))
}

/// Schedules a partner certificate rollover.
#[utoipa::path(post, path = "/v1/partners/{id}/trust/rollover", tag = "trust", params(("id" = String, Path)), request_body = RolloverInput,
    responses((status = 200, description = "Scheduled", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "A rule was broken", body = Object)))]
async fn partner_rollover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<RolloverInput>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let subject = partner(&id)?;
    let dto = rollover(&state, caller.into(), subject, input.check()?).await?;
    Ok(Envelope::ok("Rollover scheduled successfully", dto))
}

/// Activates a partner's scheduled rollover now.
#[utoipa::path(post, path = "/v1/partners/{id}/trust/activate", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "Activated", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Nothing to activate", body = Object)))]
async fn partner_activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let dto = activate(&state, caller.into(), partner(&id)?).await?;
    Ok(Envelope::ok("Next certificate activated successfully", dto))
}

/// Retires a partner's previous certificate now.
#[utoipa::path(post, path = "/v1/partners/{id}/trust/retire", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "Retired", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Nothing to retire", body = Object)))]
async fn partner_retire(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let dto = retire(&state, caller.into(), partner(&id)?).await?;
    Ok(Envelope::ok(
        "Previous certificate retired successfully",
        dto,
    ))
}

/// Cancels a partner's scheduled rollover.
#[utoipa::path(post, path = "/v1/partners/{id}/trust/cancel", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "Cancelled", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "No rollover is scheduled", body = Object)))]
async fn partner_cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let dto = cancel(&state, caller.into(), partner(&id)?).await?;
    Ok(Envelope::ok("Rollover cancelled successfully", dto))
}

/// A partner's trust timeline, oldest first.
#[utoipa::path(get, path = "/v1/partners/{id}/trust/events", tag = "trust",
    params(("id" = String, Path), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of events", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn partner_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<TrustEventDto>, ApiError> {
    event_page(&state, caller.into(), partner(&id)?, &query).await
}

/// Verifies a partner's timeline: the hash chain and every time-stamp token.
#[utoipa::path(get, path = "/v1/partners/{id}/trust/verify", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "The verification", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn partner_verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<VerificationDto>, ApiError> {
    let dto = verify(&state, caller.into(), partner(&id)?).await?;
    Ok(Envelope::ok("Trust timeline verified", dto))
}

/// A station's trust record: current and next key pair, window, state.
#[utoipa::path(get, path = "/v1/stations/{id}/trust", tag = "trust", params(("id" = String, Path, description = "stn_…")),
    responses((status = 200, description = "The trust record", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn station_trust(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let dto = show(&state, caller.into(), station(&id)?).await?;
    Ok(Envelope::ok("Trust record retrieved successfully", dto))
}

/// Schedules a station key-pair rollover.
#[utoipa::path(post, path = "/v1/stations/{id}/trust/rollover", tag = "trust", params(("id" = String, Path)), request_body = RolloverInput,
    responses((status = 200, description = "Scheduled", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "A rule was broken", body = Object)))]
async fn station_rollover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<RolloverInput>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let subject = station(&id)?;
    let dto = rollover(&state, caller.into(), subject, input.check()?).await?;
    Ok(Envelope::ok("Rollover scheduled successfully", dto))
}

/// Activates a station's scheduled rollover now.
#[utoipa::path(post, path = "/v1/stations/{id}/trust/activate", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "Activated", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Nothing to activate", body = Object)))]
async fn station_activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let dto = activate(&state, caller.into(), station(&id)?).await?;
    Ok(Envelope::ok("Next certificate activated successfully", dto))
}

/// Retires a station's previous key pair now.
#[utoipa::path(post, path = "/v1/stations/{id}/trust/retire", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "Retired", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "Nothing to retire", body = Object)))]
async fn station_retire(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let dto = retire(&state, caller.into(), station(&id)?).await?;
    Ok(Envelope::ok(
        "Previous certificate retired successfully",
        dto,
    ))
}

/// Cancels a station's scheduled rollover.
#[utoipa::path(post, path = "/v1/stations/{id}/trust/cancel", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "Cancelled", body = Object), (status = 404, description = "Not found", body = Object), (status = 422, description = "No rollover is scheduled", body = Object)))]
async fn station_cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<TrustDto>, ApiError> {
    let dto = cancel(&state, caller.into(), station(&id)?).await?;
    Ok(Envelope::ok("Rollover cancelled successfully", dto))
}

/// A station's trust timeline, oldest first.
#[utoipa::path(get, path = "/v1/stations/{id}/trust/events", tag = "trust",
    params(("id" = String, Path), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of events", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn station_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<TrustEventDto>, ApiError> {
    event_page(&state, caller.into(), station(&id)?, &query).await
}

/// Verifies a station's timeline: the hash chain and every time-stamp token.
#[utoipa::path(get, path = "/v1/stations/{id}/trust/verify", tag = "trust", params(("id" = String, Path)),
    responses((status = 200, description = "The verification", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn station_verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<VerificationDto>, ApiError> {
    let dto = verify(&state, caller.into(), station(&id)?).await?;
    Ok(Envelope::ok("Trust timeline verified", dto))
}
