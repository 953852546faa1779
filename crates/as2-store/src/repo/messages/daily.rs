//! A tenant's messages per UTC day and status, for the console's overview chart: one grouped
//! count per day (an index range on `created_at` each), the same on both backends.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use super::Messages;
use crate::error::StoreResult;
use crate::schema::messages;
use crate::scope::Scope;
use crate::time::to_db;
use crate::with_conn;

/// One day's messages by status (the statuses with none left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCounts {
    /// The UTC day.
    pub day: NaiveDate,
    /// `(status, messages)`.
    pub by_status: Vec<(String, i64)>,
}

impl Messages<'_> {
    /// The messages of `scope` created on each of the `days` UTC days that end with the day of
    /// `now`, by status, oldest day first.
    pub fn daily_counts(
        &self,
        scope: Scope,
        now: DateTime<Utc>,
        days: u32,
    ) -> StoreResult<Vec<DayCounts>> {
        let today = now.date_naive();
        let mut conn = self.store.db().conn()?;
        let mut counted = Vec::new();
        for back in (0..i64::from(days)).rev() {
            let day = today - Duration::days(back);
            let start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            let end = start + Duration::days(1);
            let by_status = with_conn!(&mut conn, |c| scoped!(messages, scope)
                .filter(messages::created_at.ge(to_db(start)))
                .filter(messages::created_at.lt(to_db(end)))
                .group_by(messages::status)
                .select((messages::status, diesel::dsl::count_star()))
                .order_by(messages::status)
                .load::<(String, i64)>(c))?;
            counted.push(DayCounts { day, by_status });
        }
        Ok(counted)
    }
}
