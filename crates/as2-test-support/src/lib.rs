//! Fixtures shared by the integration tests of several crates: what two test suites would
//! otherwise each write for themselves (a counting HTTP server, the openssl CLI, an S3 server, an SMTP server,
//! a real browser).
//! A dev-dependency only.

pub mod browser;
pub mod listener;
pub mod openssl;
pub mod postgres_cluster;
pub mod s3;
pub mod smtp;
pub mod tls;
