//! Repositories: one per aggregate, each taking a `Scope` on every tenant-data call.

pub mod accounts;
pub mod api_keys;
pub mod cem;
pub mod certificates;
pub mod idempotency;
pub mod messages;
pub mod partners;
pub mod stations;
pub mod timestamp_authority;
pub mod trust;
pub mod webhooks;

use crate::error::StoreError;

/// Parses a stored enum name, or reports the row as corrupt.
pub(crate) fn parse_column<T: std::str::FromStr>(
    table: &'static str,
    value: &str,
) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| StoreError::corrupt(table, e))
}
