//! The codec's integration tests, one binary: interop with the `openssl` CLI and pyas2lib,
//! and the tidy check of the public API.
//!
//! One test binary per crate (one link, one process start per test under nextest);
//! nextest names each test `it::<module>::<test>`.

mod built;
mod openssl_interop;
mod openssl_interop_ec;
mod public_api;
mod pyas2lib_interop;
