//! The end-to-end suite, one binary: both routers on 127.0.0.1 over a fresh database, tenant
//! to tenant and with a real pyas2lib peer (one link, one process per test under nextest).

// Tests report what they skip and what they measured.
#![allow(clippy::print_stderr)]

mod api_limits;
mod cem;
mod console_exchange;
mod db_restart;
mod ec_exchange;
mod evidence;
mod exchange;
mod front_door;
mod http_framing;
mod https;
mod interop;
mod message_support;
mod outbound_policy;
mod partner_tls;
mod rollover;
mod scale_out;
mod shared_rate_limit;
mod trust_boundary;
