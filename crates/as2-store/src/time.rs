//! Conversions between the domain's UTC times and the columns' naive UTC timestamps.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// The current time, truncated to microseconds (what both backends keep).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A column value from a UTC time (microsecond precision).
pub fn to_db(time: DateTime<Utc>) -> NaiveDateTime {
    time.trunc_subsecs(6).naive_utc()
}

/// A UTC time from a column value.
pub fn from_db(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}
