//! Whether a console user may sign in: disabling and enabling an account, and replacing its
//! password. Each ends every session of the user in the same transaction, so a disabled
//! user or an old password is out at once, and enabling the account again revives none.

use as2_domain::id::{TenantId, UserId};
use as2_domain::user::{Role, User};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::repo::users::{UserRow, Users};
use crate::schema::{memberships, sessions, tenants, users};
use crate::time::to_db;
use crate::tx::{Tx, with_tx};
use crate::with_conn;

/// Ends every live session of `user` in `tx`; how many there were.
fn end_sessions(tx: &mut Tx<'_>, user: UserId, now: DateTime<Utc>) -> StoreResult<usize> {
    let at = to_db(now);
    Ok(with_tx!(tx, |c| diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user.0))
            .filter(sessions::revoked_at.is_null())
    )
    .set(sessions::revoked_at.eq(at))
    .execute(c))?)
}

/// Locks `tenants` (PostgreSQL, `FOR UPDATE`, in id order) until `tx` ends, so that the owner
/// checks of two transactions on one tenant take turns; SQLite's transaction holds the write
/// lock from its start already.
fn lock_tenants(tx: &mut Tx<'_>, tenants: &[i64]) -> StoreResult<()> {
    if let Tx::Postgres(c) = tx {
        tenants::table
            .filter(tenants::id.eq_any(tenants))
            .order(tenants::id.asc())
            .select(tenants::id)
            .for_update()
            .load::<i64>(*c)?;
    }
    Ok(())
}

/// The active owners of `tenant` other than `user`.
fn other_active_owners(tx: &mut Tx<'_>, tenant: i64, user: UserId) -> StoreResult<i64> {
    Ok(with_tx!(tx, |c| memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .filter(memberships::user_id.ne(user.0))
        .filter(users::disabled_at.is_null())
        .count()
        .get_result(c))?)
}

/// A tenant of which `user` is the only active owner, if any; the tenants the user owns are
/// locked ([`lock_tenants`]) until `tx` ends.
fn last_owner_of(tx: &mut Tx<'_>, user: UserId) -> StoreResult<Option<TenantId>> {
    let owned: Vec<i64> = with_tx!(tx, |c| memberships::table
        .filter(memberships::user_id.eq(user.0))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .select(memberships::tenant_id)
        .order(memberships::tenant_id.asc())
        .load(c))?;
    lock_tenants(tx, &owned)?;
    for tenant in owned {
        if other_active_owners(tx, tenant, user)? == 0 {
            return Ok(Some(TenantId(tenant)));
        }
    }
    Ok(None)
}

impl Users<'_> {
    /// Disables `user` (it cannot sign in) and ends its sessions; answers how many were
    /// live, or `Err(tenant)` and nothing changed when the user is the last active owner of
    /// `tenant`. The owner count and the change are one transaction, and on PostgreSQL the
    /// tenants the user owns are locked first, so two owners disabling each other at once
    /// cannot both succeed (SQLite's transaction holds the write lock from its start).
    /// Disabling a disabled user keeps the first date. `NotFound` for no such user.
    pub fn disable(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<usize, TenantId>> {
        let at = to_db(now);
        self.store.transaction(|tx| {
            let found = with_tx!(tx, |c| users::table
                .find(user.0)
                .select(users::id)
                .first::<i64>(c)
                .optional())?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            if let Some(tenant) = last_owner_of(tx, user)? {
                return Ok(Err(tenant));
            }
            with_tx!(tx, |c| diesel::update(
                users::table
                    .find(user.0)
                    .filter(users::disabled_at.is_null())
            )
            .set((users::disabled_at.eq(Some(at)), users::updated_at.eq(at)))
            .execute(c))?;
            end_sessions(tx, user, now).map(Ok)
        })
    }

    /// Gives `user` `role` in `tenant`, or takes the user out (`None`), unless that leaves
    /// `tenant` without an active owner: then `Ok(false)` and nothing changed. The check and
    /// the change are one transaction with the tenant locked ([`lock_tenants`]), so two owners
    /// demoting each other at once cannot both succeed. `NotFound` when the user is not in it.
    pub fn change_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        role: Option<Role>,
    ) -> StoreResult<bool> {
        self.store.transaction(|tx| {
            lock_tenants(tx, &[tenant.0])?;
            if role != Some(Role::Owner) && other_active_owners(tx, tenant.0, user)? == 0 {
                return Ok(false);
            }
            let n = match role {
                Some(role) => with_tx!(tx, |c| diesel::update(
                    memberships::table
                        .filter(memberships::user_id.eq(user.0))
                        .filter(memberships::tenant_id.eq(tenant.0))
                )
                .set(memberships::role.eq(role.as_str()))
                .execute(c))?,
                None => with_tx!(tx, |c| diesel::delete(
                    memberships::table
                        .filter(memberships::user_id.eq(user.0))
                        .filter(memberships::tenant_id.eq(tenant.0))
                )
                .execute(c))?,
            };
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(true)
        })
    }

    /// Enables `user` again (its old sessions stay ended). `NotFound` for no such user.
    pub fn enable(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<()> {
        let at = to_db(now);
        let mut conn = self.store.db().conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(users::table.find(user.0))
            .set((
                users::disabled_at.eq(None::<chrono::NaiveDateTime>),
                users::updated_at.eq(at),
            ))
            .execute(c))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replaces `user`'s password hash and ends its sessions; answers how many were live.
    pub fn reset_password(
        &self,
        user: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<usize> {
        let at = to_db(now);
        self.store.transaction(|tx| {
            let n = with_tx!(tx, |c| diesel::update(users::table.find(user.0))
                .set((
                    users::password_hash.eq(password_hash),
                    users::updated_at.eq(at),
                ))
                .execute(c))?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            end_sessions(tx, user, now)
        })
    }

    /// The owners of `tenant`, disabled ones too (see [`User::disabled_at`]).
    pub fn owners(&self, tenant: TenantId) -> StoreResult<Vec<User>> {
        let mut conn = self.store.db().conn()?;
        let rows: Vec<UserRow> = with_conn!(&mut conn, |c| users::table
            .inner_join(memberships::table)
            .filter(memberships::tenant_id.eq(tenant.0))
            .filter(memberships::role.eq(Role::Owner.as_str()))
            .order(users::id.asc())
            .select(UserRow::as_select())
            .load(c))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
