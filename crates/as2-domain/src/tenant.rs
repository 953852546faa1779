//! Accounts (billing owners) and tenants (one company's isolated space).

use chrono::{DateTime, Utc};

use crate::id::{AccountId, TenantId};
use crate::plan::Plan;
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
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Checks a tenant's writable fields.
pub fn validate_tenant_name(name: &str) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    check_name(&mut errors, "name", "name", name, 255);
    errors.into_result(())
}
