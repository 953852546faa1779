//! What a tenant's owner may do to a user's account, beyond its role there: disable it (it
//! cannot sign in, its sessions end at once), enable it again, or reset its password (a new
//! generated one, returned once; every session ends).
//!
//! An account is installation-wide: one person may belong to several tenants. So an owner
//! acts on an account only when it is their own or every tenant it belongs to is one they
//! own; otherwise the owner of one tenant could lock a user out of another, or learn the
//! password of another tenant's owner. And no tenant is left without an active owner: the
//! last one is not disabled.

use as2_domain::id::{TenantId, UserId};
use as2_domain::user::{Role, User, password};
use as2_store::{Store, StoreError};
use chrono::Utc;

/// A change of an account's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    /// It cannot sign in; its sessions end.
    Disable,
    /// It can sign in again.
    Enable,
    /// A new generated password; its sessions end.
    ResetPassword,
}

impl AccessChange {
    /// The audit log's action.
    pub fn action(self) -> &'static str {
        match self {
            Self::Disable => "user.disable",
            Self::Enable => "user.enable",
            Self::ResetPassword => "user.password_reset",
        }
    }
}

/// Why a change was refused; each sentence is for the owner who asked.
#[derive(Debug, thiserror::Error)]
pub enum AccessRefusal {
    /// The user is not in the owner's tenant.
    #[error("No such user here.")]
    NotHere,
    /// The account belongs to a tenant the owner does not own.
    #[error(
        "{0} also belongs to a tenant you do not own, so their account is not yours to change: remove them from this tenant instead."
    )]
    OtherTenants(String),
    /// Disabling the account would leave a tenant without an active owner.
    #[error("{email} is the last active owner of {tenant}: make another user owner first.")]
    LastOwner {
        /// The user's email.
        email: String,
        /// The tenant's name.
        tenant: String,
    },
    /// Hashing the new password failed.
    #[error(transparent)]
    Hash(#[from] password::HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a change did.
#[derive(Debug)]
pub struct AccessChanged {
    /// The user, as it was before.
    pub user: User,
    /// Sessions ended.
    pub sessions_ended: usize,
    /// The new password (a reset), to show once.
    pub password: Option<String>,
}

/// Applies `change` to user `target` of `tenant`, asked by `actor` (an owner of `tenant`:
/// the caller checked the role). Blocking.
pub fn change_access(
    store: &Store,
    actor: UserId,
    tenant: TenantId,
    target: UserId,
    change: AccessChange,
) -> Result<AccessChanged, AccessRefusal> {
    let users = store.users();
    let user = match users.membership(target, tenant) {
        Ok(_) => users.get(target)?,
        Err(StoreError::NotFound) => return Err(AccessRefusal::NotHere),
        Err(other) => return Err(other.into()),
    };
    let theirs = users.memberships(target)?;
    if target != actor {
        let owned: Vec<TenantId> = users
            .memberships(actor)?
            .into_iter()
            .filter(|m| m.role == Role::Owner)
            .map(|m| m.tenant_id)
            .collect();
        if theirs.iter().any(|m| !owned.contains(&m.tenant_id)) {
            return Err(AccessRefusal::OtherTenants(user.email));
        }
    }
    if change == AccessChange::Disable {
        for membership in theirs.iter().filter(|m| m.role == Role::Owner) {
            let others = users
                .owners(membership.tenant_id)?
                .into_iter()
                .filter(|o| o.id != target && o.disabled_at.is_none())
                .count();
            if others == 0 {
                return Err(AccessRefusal::LastOwner {
                    email: user.email,
                    tenant: membership.tenant_name.clone(),
                });
            }
        }
    }
    let now = Utc::now();
    let (sessions_ended, password) = match change {
        AccessChange::Disable => match users.disable(target, now)? {
            Ok(ended) => (ended, None),
            // another owner was disabled meanwhile: the store's check under its lock
            Err(tenant) => {
                let name = theirs
                    .iter()
                    .find(|m| m.tenant_id == tenant)
                    .map(|m| m.tenant_name.clone())
                    .unwrap_or_default();
                return Err(AccessRefusal::LastOwner {
                    email: user.email,
                    tenant: name,
                });
            }
        },
        AccessChange::Enable => {
            users.enable(target, now)?;
            (0, None)
        }
        AccessChange::ResetPassword => {
            let new = password::generate();
            let hash = password::hash(&new)?;
            (users.reset_password(target, &hash, now)?, Some(new))
        }
    };
    Ok(AccessChanged {
        user,
        sessions_ended,
        password,
    })
}
