//! The time-stamping crate's integration tests, one binary: interop with `openssl ts`.
//!
//! One test binary per crate (one link, one process start per test under nextest);
//! nextest names each test `it::<module>::<test>`.

mod openssl_ts;
