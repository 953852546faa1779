//! The engine's integration tests, one binary: the inbound pipeline, the outbound stream and
//! the maintenance loop, email alerts, partner reachability and webhook redeliveries.

// Tests report what they skip and what they measured.
#![allow(clippy::print_stderr)]

mod alerts;
mod inbound;
mod maintenance;
mod outbound_stream;
mod reachability;
mod tls_listener;
mod tls_outbound;
mod webhook_redelivery;
