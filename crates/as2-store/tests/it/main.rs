//! The store's integration tests, one binary: repositories, isolation, jobs, outbox,
//! migrations and secrets at rest, on both backends.
//!
//! One test binary per crate (one link, one process start per test under nextest);
//! nextest names each test `it::<module>::<test>`.

mod common;

mod console;
mod deletion;
mod inline_payloads;
mod isolation;
mod jobs;
mod keyset;
mod message_lookup;
mod message_support;
mod migrations;
mod outbox;
mod repositories;
mod retention;
mod rotation;
mod secrets_at_rest;
mod sqlite_writers;
