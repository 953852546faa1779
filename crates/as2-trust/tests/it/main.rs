//! The trust lifecycle's integration tests, one binary: CEM, expiry, the scheduler and
//! time-stamping, on every backend.
//!
//! One test binary per crate (one link, one process start per test under nextest);
//! nextest names each test `it::<module>::<test>`.

mod common;

mod cem;
mod cem_tls;
mod expiry;
mod scheduler;
mod stamping;
