//! The REST API's integration tests, one binary: the real router in process over a fresh database
//! (`common`), one module per area.
//!
//! One test binary per crate (one link, one process start per test under nextest);
//! nextest names each test `it::<module>::<test>`.

mod common;
mod upload;

mod access_control;
mod algorithms;
mod audit;
mod body_deadline;
mod certificates;
mod console;
mod console_browser;
mod console_cem;
mod console_certificates;
mod console_deletes;
mod console_overview;
mod console_partner_edit;
mod console_partner_test;
mod console_send;
mod console_settings;
mod console_stations;
mod console_trust;
mod console_users;
mod console_webhooks;
mod cross_cutting;
mod destinations;
mod export_parts;
mod in_use;
mod key_modes;
mod legacy;
mod message_support;
mod messages;
mod openapi;
mod partner_tls;
mod partners;
mod retention;
mod tenants;
mod trust;
mod validation;
mod webhooks;
