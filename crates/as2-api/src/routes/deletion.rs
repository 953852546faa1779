//! Deleting a certificate or a station: the one path of `DELETE /v1/certificates/{id}`,
//! `DELETE /v1/stations/{id}` and the console, refused (409 `certificate_in_use`,
//! `station_in_use`, with a sentence naming what uses it) while a live station, partner,
//! trust record or pending certificate exchange still needs it: deleting it would leave them
//! pointing at nothing, unable to send or receive.

use as2_domain::id::{CertificateId, PartnerId, StationId};
use as2_domain::trust::TrustSubject;
use as2_store::Scope;
use as2_store::repo::deletion::{CertificateUse, Deletion};
use serde_json::json;

use crate::error::{ApiError, ErrorKind};
use crate::state::AppState;

/// At most this many holders are named in a sentence (the details list them all).
const NAMED: usize = 10;

/// Who holds a use (`station stn_…`, `partner prt_…`) and what the use is.
fn described(u: &CertificateUse) -> (String, String) {
    match u {
        CertificateUse::Station { id, field } => (format!("station {id}"), (*field).to_owned()),
        CertificateUse::Partner { id, field } => (format!("partner {id}"), (*field).to_owned()),
        CertificateUse::Trust { subject, id, slot } => match subject {
            TrustSubject::Station => (
                format!("station {}", StationId(*id)),
                format!("trust record: {slot}"),
            ),
            TrustSubject::Partner => (
                format!("partner {}", PartnerId(*id)),
                format!("trust record: {slot}"),
            ),
            other => (
                format!("partner {}", PartnerId(*id)),
                format!("{other} trust record: {slot}"),
            ),
        },
        CertificateUse::Exchange { id, partner } => (
            format!("partner {partner}"),
            format!("pending certificate exchange {id}"),
        ),
    }
}

/// The 409 of a certificate that `uses` still need: a sentence naming each holder and what
/// it uses it for, and `details.used_by` listing every use.
pub fn certificate_in_use(id: CertificateId, uses: &[CertificateUse]) -> ApiError {
    let mut holders: Vec<(String, Vec<String>)> = Vec::new();
    let mut listed = Vec::with_capacity(uses.len());
    for u in uses {
        let (holder, what) = described(u);
        listed.push(json!({ "holder": holder, "use": what }));
        match holders.iter_mut().find(|(h, _)| *h == holder) {
            Some((_, whats)) => whats.push(what),
            None => holders.push((holder, vec![what])),
        }
    }
    let mut named: Vec<String> = holders
        .iter()
        .take(NAMED)
        .map(|(holder, whats)| format!("{holder} ({})", whats.join(", ")))
        .collect();
    if holders.len() > NAMED {
        named.push(format!("and {} more", holders.len() - NAMED));
    }
    ApiError::conflict(
        ErrorKind::Conflict,
        "certificate_in_use",
        format!(
            "The certificate {id} is in use, so it cannot be deleted: {}. Give them another certificate, or delete them, first",
            named.join("; ")
        ),
    )
    .with_details(json!({ "used_by": listed }))
}

/// The 409 of a station that `partners` still send and receive as.
pub fn station_in_use(id: StationId, partners: &[PartnerId]) -> ApiError {
    let ids: Vec<String> = partners.iter().map(ToString::to_string).collect();
    let mut named: Vec<String> = ids.iter().take(NAMED).cloned().collect();
    if ids.len() > NAMED {
        named.push(format!("and {} more", ids.len() - NAMED));
    }
    let (noun, verb) = if ids.len() == 1 {
        ("partner", "sends and receives")
    } else {
        ("partners", "send and receive")
    };
    ApiError::conflict(
        ErrorKind::Conflict,
        "station_in_use",
        format!(
            "The station {id} is in use, so it cannot be deleted: {noun} {} {verb} as it. Give them another station (their station_id), or delete them, first",
            named.join(", ")
        ),
    )
    .with_details(json!({ "partners": ids }))
}

/// Deletes (soft) certificate `id` of `scope`, or the 409 naming what still uses it (404
/// when it is not in `scope`). Blocking: run it in [`AppState::blocking`].
pub fn delete_certificate(
    state: &AppState,
    scope: Scope,
    id: CertificateId,
) -> Result<(), ApiError> {
    match state.store().certificates().delete_unused(scope, id) {
        Ok(Deletion::Deleted) => Ok(()),
        Ok(Deletion::InUse(uses)) => Err(certificate_in_use(id, &uses)),
        Err(error) => Err(ApiError::from(error).or_not_found("Certificate")),
    }
}

/// Deletes (soft) station `id` of `scope`, or the 409 naming the partners that still use it
/// (404 when it is not in `scope`). Blocking: run it in [`AppState::blocking`].
pub fn delete_station(state: &AppState, scope: Scope, id: StationId) -> Result<(), ApiError> {
    match state.store().stations().delete_unused(scope, id) {
        Ok(Deletion::Deleted) => Ok(()),
        Ok(Deletion::InUse(partners)) => Err(station_in_use(id, &partners)),
        Err(error) => Err(ApiError::from(error).or_not_found("Station")),
    }
}
