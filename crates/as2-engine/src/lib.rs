//! AS2 message exchange over the store: the inbound pipeline (admission on the headers:
//! route by AS2-To/AS2-From on the URL's mode; then decrypt with the station's keys, verify
//! with the partner's certificates, store the payload durably, answer the MDN), outbound
//! delivery (build, post, read the MDN, retry),
//! async MDNs both ways, webhook deliveries, email alerts, and the worker that runs the jobs.
//!
//! The store and the codec are synchronous; [`worker`] runs them on tokio's blocking pool
//! and does the HTTP with reqwest (rustls).

pub mod admission;
pub mod alert_mail;
pub mod basic_auth;
mod body_reader;
pub mod connection_test;
pub mod error;
pub mod gateway;
pub mod http;
pub mod http_client;
pub mod inbound;
pub mod inbox;
pub mod mail;
pub mod maintenance;
pub mod material;
pub mod mdn;
pub mod metrics;
pub mod outbound;
pub mod outcome;
pub mod refusal;
pub mod serve;
pub mod tls;
pub mod webhook_delivery;
pub mod worker;

pub use error::EngineError;
pub use inbound::{InboundRequest, receive, receive_admitted};
pub use mdn::receive_async::{looks_like_mdn, receive_mdn};
pub use outcome::HttpAnswer;
pub use worker::{Worker, WorkerConfig};
