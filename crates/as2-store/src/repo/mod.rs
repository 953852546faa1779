//! Repositories: one per aggregate, each taking a `Scope` on every tenant-data call.

/// The rows of `$table` that belong to `$scope` (its tenant and mode); with `kept`, only
/// those not soft-deleted. Every tenant query starts here.
macro_rules! scoped {
    ($table:ident, $scope:expr) => {
        $table::table
            .filter($table::tenant_id.eq($scope.tenant()))
            .filter($table::mode.eq($scope.mode()))
    };
    ($table:ident, $scope:expr, kept) => {
        scoped!($table, $scope).filter($table::deleted_at.is_null())
    };
}

/// One page of `$base()` in `$order`, selected as `$row`, and the total of `$base()`: a
/// diesel result, for the body of `with_conn!`.
macro_rules! page_of {
    ($c:expr, $base:expr, $order:expr, $page:expr, $row:ty) => {{
        let total: i64 = $base().count().get_result($c)?;
        let rows: Vec<$row> = $base()
            .order($order)
            .limit($page.per_page)
            .offset($page.offset())
            .select(<$row>::as_select())
            .load($c)?;
        Ok::<_, diesel::result::Error>((rows, total))
    }};
}

pub mod accounts;
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod cem;
pub mod certificates;
pub mod deletion;
pub mod idempotency;
pub mod inbound_route;
pub mod material;
pub mod message_evidence;
pub mod messages;
pub mod partners;
pub mod payload_refs;
pub mod rate_limits;
pub mod reachability;
pub mod retention;
pub mod sessions;
pub mod station_deletion;
pub mod stations;
pub mod timestamp_authority;
pub mod trust;
mod trust_record;
pub mod user_access;
pub mod users;
pub mod webhook_failures;
pub mod webhook_redelivery;
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

/// Rows of a page turned into domain values, with the total.
pub(crate) fn converted<R, T>(rows: Vec<R>, total: i64) -> Result<(Vec<T>, i64), StoreError>
where
    R: TryInto<T, Error = StoreError>,
{
    Ok((
        rows.into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_, _>>()?,
        total,
    ))
}
