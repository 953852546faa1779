//! The REST API of the AS2 platform: `/v1` (the main API) and `/api/v1` (the station-style
//! API of the first customers), both over one domain model.
//!
//! Handlers are thin: they parse wire DTOs, call the store through tenant-scoped repositories,
//! and answer with the envelopes of [`envelope`]. Every error leaves through [`error::ApiError`],
//! the single place where an error becomes an HTTP status and a JSON body.

pub mod audit;
pub mod auth;
pub mod body_deadline;
pub mod bootstrap;
pub mod console;
pub mod console_users;
pub mod envelope;
pub mod error;
pub mod headers;
pub mod idempotency;
pub mod json;
pub mod legacy;
pub mod observability;
pub mod params;
pub mod rate_limit;
pub mod rate_limit_shared;
pub mod routes;
pub mod state;
pub mod time;
pub mod user_access;
pub mod validation;

pub use routes::{openapi, router};
pub use state::{ApiConfig, AppState};
