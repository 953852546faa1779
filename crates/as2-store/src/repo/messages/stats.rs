//! Operations-wide message counts for the gateway's `/metrics` (all tenants: never exposed
//! through the tenant API).

use diesel::prelude::*;

use super::Messages;
use crate::error::StoreResult;
use crate::schema::messages;
use crate::with_conn;

impl Messages<'_> {
    /// Messages of every tenant by direction and status.
    pub fn count_by_status(&self) -> StoreResult<Vec<(String, String, i64)>> {
        let mut conn = self.store.db().conn()?;
        let rows = with_conn!(&mut conn, |c| messages::table
            .group_by((messages::direction, messages::status))
            .select((
                messages::direction,
                messages::status,
                diesel::dsl::count_star()
            ))
            .load::<(String, String, i64)>(c))?;
        Ok(rows)
    }
}
