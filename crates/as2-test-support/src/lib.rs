//! Fixtures shared by the integration tests of several crates: what two test suites would
//! otherwise each write for themselves. A dev-dependency only.

pub mod listener;
pub mod openssl;
pub mod postgres_cluster;
