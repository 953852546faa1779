//! How long a tenant's data is kept: payloads and raw MDNs, and message rows with their
//! timelines. The plan sets the default, a tenant may set its own; rows always outlive
//! payloads (a purged payload still has its row, which says when it was purged).

use crate::plan::Plan;
use crate::validation::ValidationErrors;

/// The longest retention that can be set, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// Days of retention in force for one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Payloads and raw MDNs are deleted this many days after the message was created.
    pub payload_days: u32,
    /// Message rows, their events and MDN records are deleted after this many days.
    pub record_days: u32,
}

/// A tenant's own retention; `None` takes the plan's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionOverride {
    /// Own payload retention in days.
    pub payload_days: Option<u32>,
    /// Own record retention in days.
    pub record_days: Option<u32>,
}

impl Plan {
    /// The plan's retention: 30 days of payloads and 90 of records on Free, 90 and 400 on
    /// the paid plans (a year of records and a quarter's margin for audits and disputes).
    pub fn retention(self) -> Retention {
        match self {
            Self::Free => Retention {
                payload_days: 30,
                record_days: 90,
            },
            Self::Starter | Self::Professional | Self::Enterprise => Retention {
                payload_days: 90,
                record_days: 400,
            },
        }
    }
}

impl RetentionOverride {
    /// The retention in force under `plan`: the tenant's values where set, and records kept
    /// at least as long as payloads.
    pub fn under(self, plan: Plan) -> Retention {
        let default = plan.retention();
        let payload_days = self.payload_days.unwrap_or(default.payload_days);
        let record_days = self
            .record_days
            .unwrap_or(default.record_days)
            .max(payload_days);
        Retention {
            payload_days,
            record_days,
        }
    }
}

/// Reads a requested retention in days for `field`: `0` takes the plan's default (`None`),
/// 1 to [`MAX_RETENTION_DAYS`] sets it.
pub fn retention_days(field: &str, requested: i64) -> Result<Option<u32>, ValidationErrors> {
    match requested {
        0 => Ok(None),
        n if (1..=i64::from(MAX_RETENTION_DAYS)).contains(&n) => Ok(u32::try_from(n).ok()),
        _ => Err(ValidationErrors::single(
            field,
            format!(
                "The retention must be 0 (the plan's default) or a number of days from 1 to {MAX_RETENTION_DAYS}"
            ),
        )),
    }
}

/// Checks that records are not set to go before payloads.
pub fn check_order(wanted: RetentionOverride) -> Result<(), ValidationErrors> {
    match (wanted.payload_days, wanted.record_days) {
        (Some(payload), Some(record)) if record < payload => Err(ValidationErrors::single(
            "retention_record_days",
            format!(
                "Records must be kept at least as long as payloads ({payload} days): a message's row says when its payload was purged"
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_give_defaults_and_tenants_override_them() {
        assert_eq!(Plan::Free.retention().payload_days, 30);
        assert_eq!(Plan::Professional.retention().record_days, 400);
        let own = RetentionOverride {
            payload_days: Some(7),
            record_days: None,
        };
        assert_eq!(
            own.under(Plan::Starter),
            Retention {
                payload_days: 7,
                record_days: 400
            }
        );
        let long_payloads = RetentionOverride {
            payload_days: Some(500),
            record_days: None,
        };
        assert_eq!(long_payloads.under(Plan::Starter).record_days, 500);
    }

    #[test]
    fn requested_days_are_checked() {
        assert_eq!(retention_days("f", 0), Ok(None));
        assert_eq!(retention_days("f", 1), Ok(Some(1)));
        assert_eq!(retention_days("f", 3650), Ok(Some(3650)));
        assert!(retention_days("f", 3651).unwrap_err().has("f"));
        assert!(retention_days("f", -1).unwrap_err().has("f"));
        assert!(
            check_order(RetentionOverride {
                payload_days: Some(30),
                record_days: Some(10)
            })
            .unwrap_err()
            .has("retention_record_days")
        );
    }
}
