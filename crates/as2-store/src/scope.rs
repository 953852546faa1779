//! The tenant and mode every tenant-data query is filtered by.

use as2_domain::Mode;
use as2_domain::id::TenantId;

/// Whose data a call may reach: one tenant, one mode. Every repository function that touches
/// tenant data takes one and filters on both columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Test or live.
    pub mode: Mode,
}

impl Scope {
    /// A scope for `tenant_id` in `mode`.
    pub fn new(tenant_id: TenantId, mode: Mode) -> Self {
        Self { tenant_id, mode }
    }

    /// The tenant's row id.
    pub fn tenant(&self) -> i64 {
        self.tenant_id.0
    }

    /// The mode's column value.
    pub fn mode(&self) -> &'static str {
        self.mode.as_str()
    }
}
