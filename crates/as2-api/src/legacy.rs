//! `/api/v1`: the station-style API of seed 000 (every call a POST with a JSON body,
//! `{"status","msg","data"}` answers, integer ids), over the same rows as `/v1`.

use axum::Router;

use crate::state::AppState;

/// The `/api/v1` routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
