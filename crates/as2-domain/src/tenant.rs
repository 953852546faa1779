//! Accounts (billing owners) and tenants (one company's isolated space).

use chrono::{DateTime, Utc};

use crate::id::{AccountId, TenantId};
use crate::plan::Plan;
use crate::retention::RetentionOverride;
use crate::validation::{ValidationErrors, check_name};

/// The billing owner of tenants and of account keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `acct_…`.
    pub id: AccountId,
    /// Display name.
    pub name: String,
    /// Plan (rate limits, billing).
    pub plan: Plan,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// `tnt_…`.
    pub id: TenantId,
    /// The owning account.
    pub account_id: AccountId,
    /// Display name.
    pub name: String,
    /// The largest message (bytes) it takes or sends; `None`: the platform's limit.
    pub max_message_bytes: Option<i64>,
    /// Its own retention (payloads, records); unset values take the plan's.
    pub retention: RetentionOverride,
    /// Where its email alerts go (`crate::alerts`); empty: no email alerts.
    pub alert_emails: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The smallest per-tenant message size limit that can be set.
pub const MIN_MESSAGE_LIMIT: i64 = 1024;

/// Reads a requested per-tenant message size limit: `0` removes the tenant's own limit (the
/// platform's applies), anything from [`MIN_MESSAGE_LIMIT`] bytes up sets it.
pub fn message_limit(requested: i64) -> Result<Option<i64>, ValidationErrors> {
    match requested {
        0 => Ok(None),
        n if n >= MIN_MESSAGE_LIMIT => Ok(Some(n)),
        _ => Err(ValidationErrors::single(
            "max_message_bytes",
            format!(
                "The max message bytes must be 0 (the platform's limit) or at least {MIN_MESSAGE_LIMIT}"
            ),
        )),
    }
}

/// Checks a tenant's writable fields.
pub fn validate_tenant_name(name: &str) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    check_name(&mut errors, "name", "name", name, 255);
    errors.into_result(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn message_limits_are_zero_or_at_least_a_kilobyte() {
        assert_eq!(super::message_limit(0), Ok(None));
        assert_eq!(super::message_limit(1024), Ok(Some(1024)));
        assert!(
            super::message_limit(1023)
                .unwrap_err()
                .has("max_message_bytes")
        );
        assert!(
            super::message_limit(-5)
                .unwrap_err()
                .has("max_message_bytes")
        );
    }
}
