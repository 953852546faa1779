//! AS2 message exchange over the store: the inbound pipeline (route by AS2-To/AS2-From,
//! decrypt with the station's keys, verify with the partner's certificates, store the
//! payload durably, answer the MDN) and, to come, outbound delivery and the workers.
//!
//! Functions here are synchronous (diesel and the codec are); the gateway runs them on the
//! blocking pool.

pub mod inbound;
pub mod material;
pub mod outcome;

pub use inbound::{InboundRequest, receive};
pub use outcome::HttpAnswer;
