//! Billing plans and the rate limits each one grants.

use crate::named_enum;

named_enum!(
    /// An account's plan.
    Plan, "plan" {
        /// 100 requests a minute, burst 20.
        Free => "free",
        /// 300 requests a minute, burst 60.
        Starter => "starter",
        /// 1 000 requests a minute, burst 200.
        Professional => "professional",
        /// Limits set per account.
        Enterprise => "enterprise",
    }
);

/// Request limits of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanLimits {
    /// Sustained requests per minute.
    pub per_minute: u32,
    /// Requests that may arrive at once.
    pub burst: u32,
    /// Requests in flight at once.
    pub concurrent: u32,
}

impl Plan {
    /// The overview's table; `Enterprise` gets `custom` (configured per account).
    pub fn limits(self, custom: Option<PlanLimits>) -> PlanLimits {
        match self {
            Self::Free => PlanLimits {
                per_minute: 100,
                burst: 20,
                concurrent: 5,
            },
            Self::Starter => PlanLimits {
                per_minute: 300,
                burst: 60,
                concurrent: 10,
            },
            Self::Professional => PlanLimits {
                per_minute: 1000,
                burst: 200,
                concurrent: 25,
            },
            Self::Enterprise => custom.unwrap_or(PlanLimits {
                per_minute: 5000,
                burst: 1000,
                concurrent: 100,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_match_the_overview() {
        assert_eq!(Plan::Free.limits(None).per_minute, 100);
        assert_eq!(Plan::Free.limits(None).burst, 20);
        assert_eq!(Plan::Starter.limits(None).burst, 60);
        assert_eq!(Plan::Professional.limits(None).per_minute, 1000);
        let custom = PlanLimits {
            per_minute: 7,
            burst: 3,
            concurrent: 1,
        };
        assert_eq!(Plan::Enterprise.limits(Some(custom)), custom);
        assert_eq!("professional".parse::<Plan>(), Ok(Plan::Professional));
    }
}
