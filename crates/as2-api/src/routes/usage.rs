//! `/v1/usage`: messages and bytes of the current calendar month (UTC) in the caller's mode.

use as2_domain::ValidationErrors;
use axum::extract::{Query, State};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::envelope::Envelope;
use crate::error::ApiError;
use crate::params::{QueryMap, only};
use crate::state::AppState;
use crate::time::format;

/// Messages of a period by direction.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageCounts {
    /// Messages sent.
    pub outbound: i64,
    /// Messages received.
    pub inbound: i64,
}

/// Usage of the current period.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDto {
    /// Start of the period (first instant of the month, UTC).
    pub period_start: String,
    /// End of the period (first instant of the next month, exclusive).
    pub period_end: String,
    /// `test` or `live` (the caller's key).
    pub mode: String,
    /// Messages by direction.
    pub messages: MessageCounts,
    /// Payload bytes in both directions.
    pub bytes: i64,
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_usage))
}

/// The calendar month (UTC) holding `now`: `[start, end)`.
pub fn month_of(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let end = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    (start, end)
}

/// Messages and bytes this month in the key's mode.
#[utoipa::path(get, path = "/v1/usage", tag = "usage",
    responses((status = 200, description = "Usage of the current period", body = Object)))]
async fn get_usage(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<Envelope<UsageDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(&query, &[], &mut errors);
    errors.into_result(())?;
    let (start, end) = month_of(Utc::now());
    let mode = caller.mode().to_string();
    let usage = state
        .blocking("Usage", move |s| {
            Ok(s.store().messages().usage(caller.scope(), start, end)?)
        })
        .await?;
    Ok(Envelope::ok(
        "Usage retrieved successfully",
        UsageDto {
            period_start: format(start),
            period_end: format(end),
            mode,
            messages: MessageCounts {
                outbound: usage.outbound_messages,
                inbound: usage.inbound_messages,
            },
            bytes: usage.bytes,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_roll_over_the_year() {
        let t = Utc.with_ymd_and_hms(2024, 12, 15, 10, 0, 0).unwrap();
        let (start, end) = month_of(t);
        assert_eq!(format(start), "2024-12-01T00:00:00.000000Z");
        assert_eq!(format(end), "2025-01-01T00:00:00.000000Z");
    }
}
