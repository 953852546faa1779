//! The AS2 platform's domain model: plain types and the rules that keep them coherent.
//!
//! Nothing here does IO. The store turns rows into these types, the API turns them into
//! wire DTOs, and the engine maps the algorithm settings onto the codec's types.

pub mod alerts;
pub mod algorithms;
pub mod api_key;
pub mod as2_id;
pub mod audit;
pub mod cem;
pub mod certificate;
pub mod connection_test;
pub mod destination;
pub mod endpoint_url;
pub mod forwarded;
pub mod id;
pub mod idempotency;
pub mod job;
pub mod mdn;
pub mod message;
pub mod mode;
pub mod network;
pub mod pagination;
pub mod partner;
pub mod partner_tls;
pub mod plan;
pub mod public_url;
pub mod retention;
pub mod station;
pub mod tenant;
pub mod trust;
pub mod user;
pub mod validation;
pub mod webhook;

pub use mode::{Mode, UnknownValue};
pub use validation::ValidationErrors;
