//! The engine's integration tests, one binary: the inbound pipeline and the maintenance loop.

// Tests report what they skip and what they measured.
#![allow(clippy::print_stderr)]

mod inbound;
mod maintenance;
mod tls_listener;
mod tls_outbound;
