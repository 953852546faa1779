//! Console users and their memberships (user × tenant → role). Users are installation-wide
//! (one email, one person); what a user sees is only ever reached through a membership.

use as2_domain::id::{TenantId, UserId};
use as2_domain::pagination::PageRequest;
use as2_domain::user::{Membership, Role, User};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult, not_found};
use crate::repo::parse_column;
use crate::schema::{memberships, tenants, users};
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::with_conn;

/// Users and memberships.
#[derive(Debug)]
pub struct Users<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: i64,
    email: String,
    name: String,
    created_at: chrono::NaiveDateTime,
    disabled_at: Option<chrono::NaiveDateTime>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: UserId(row.id),
            email: row.email,
            name: row.name,
            created_at: from_db(row.created_at),
            disabled_at: row.disabled_at.map(from_db),
        }
    }
}

type MembershipRow = (i64, i64, String, String);

fn membership((user_id, tenant_id, tenant_name, role): MembershipRow) -> StoreResult<Membership> {
    Ok(Membership {
        user_id: UserId(user_id),
        tenant_id: TenantId(tenant_id),
        tenant_name,
        role: parse_column::<Role>("memberships", &role)?,
    })
}

impl Users<'_> {
    /// Creates a user; `email` must be normalised already and `password_hash` an argon2id
    /// PHC string. A taken email is `Conflict`.
    pub fn create(&self, email: &str, name: &str, password_hash: &str) -> StoreResult<User> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        let row: UserRow = with_conn!(&mut conn, |c| diesel::insert_into(users::table)
            .values((
                users::email.eq(email),
                users::name.eq(name),
                users::password_hash.eq(password_hash),
                users::created_at.eq(at),
                users::updated_at.eq(at),
            ))
            .returning(UserRow::as_returning())
            .get_result(c))
        .map_err(StoreError::unique("a user with this email exists"))?;
        Ok(row.into())
    }

    /// The user with this id.
    pub fn get(&self, id: UserId) -> StoreResult<User> {
        let mut conn = self.store.db().conn()?;
        let row: UserRow = with_conn!(&mut conn, |c| users::table
            .find(id.0)
            .select(UserRow::as_select())
            .first(c))
        .map_err(not_found)?;
        Ok(row.into())
    }

    /// The user with this (normalised) email and its password hash, for signing in.
    pub fn credentials(&self, email: &str) -> StoreResult<(User, String)> {
        let mut conn = self.store.db().conn()?;
        let (row, hash): (UserRow, String) = with_conn!(&mut conn, |c| users::table
            .filter(users::email.eq(email))
            .select((UserRow::as_select(), users::password_hash))
            .first(c))
        .map_err(not_found)?;
        Ok((row.into(), hash))
    }

    /// Replaces a user's password hash.
    pub fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        let n = with_conn!(&mut conn, |c| diesel::update(users::table.find(id.0))
            .set((
                users::password_hash.eq(password_hash),
                users::updated_at.eq(at),
            ))
            .execute(c))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Whether any user exists (bootstrap makes the first owner only on an empty table).
    pub fn any(&self) -> StoreResult<bool> {
        let mut conn = self.store.db().conn()?;
        let n: i64 = with_conn!(&mut conn, |c| users::table.count().get_result(c))?;
        Ok(n > 0)
    }

    /// Gives `user` the `role` in `tenant` (replacing a role it had there).
    pub fn set_role(&self, user: UserId, tenant: TenantId, role: Role) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        with_conn!(&mut conn, |c| diesel::insert_into(memberships::table)
            .values((
                memberships::user_id.eq(user.0),
                memberships::tenant_id.eq(tenant.0),
                memberships::role.eq(role.as_str()),
                memberships::created_at.eq(at),
            ))
            .on_conflict((memberships::user_id, memberships::tenant_id))
            .do_update()
            .set(memberships::role.eq(role.as_str()))
            .execute(c))?;
        Ok(())
    }

    /// Takes `user` out of `tenant`.
    pub fn remove_membership(&self, user: UserId, tenant: TenantId) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let n = with_conn!(&mut conn, |c| diesel::delete(
            memberships::table
                .filter(memberships::user_id.eq(user.0))
                .filter(memberships::tenant_id.eq(tenant.0))
        )
        .execute(c))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The tenants `user` belongs to (not deleted ones), by tenant id.
    pub fn memberships(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let mut conn = self.store.db().conn()?;
        let rows: Vec<MembershipRow> = with_conn!(&mut conn, |c| memberships::table
            .inner_join(tenants::table)
            .filter(memberships::user_id.eq(user.0))
            .filter(tenants::deleted_at.is_null())
            .order(tenants::id.asc())
            .select((
                memberships::user_id,
                memberships::tenant_id,
                tenants::name,
                memberships::role,
            ))
            .load(c))?;
        rows.into_iter().map(membership).collect()
    }

    /// `user`'s membership of `tenant`: `NotFound` when it has none (or the tenant is gone).
    pub fn membership(&self, user: UserId, tenant: TenantId) -> StoreResult<Membership> {
        let mut conn = self.store.db().conn()?;
        let row: MembershipRow = with_conn!(&mut conn, |c| memberships::table
            .inner_join(tenants::table)
            .filter(memberships::user_id.eq(user.0))
            .filter(memberships::tenant_id.eq(tenant.0))
            .filter(tenants::deleted_at.is_null())
            .select((
                memberships::user_id,
                memberships::tenant_id,
                tenants::name,
                memberships::role,
            ))
            .first(c))
        .map_err(not_found)?;
        membership(row)
    }

    /// The users of `tenant` with their role there, by email.
    pub fn of_tenant(
        &self,
        tenant: TenantId,
        page: PageRequest,
    ) -> StoreResult<(Vec<(User, Role)>, i64)> {
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<(UserRow, String)>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                users::table
                    .inner_join(memberships::table)
                    .filter(memberships::tenant_id.eq(tenant.0))
            };
            let total: i64 = base().count().get_result(c)?;
            let rows = base()
                .order(users::email.asc())
                .limit(page.per_page)
                .offset(page.offset())
                .select((UserRow::as_select(), memberships::role))
                .load(c)?;
            Ok::<_, diesel::result::Error>((rows, total))
        })?;
        let users = rows
            .into_iter()
            .map(|(row, role)| Ok((row.into(), parse_column::<Role>("memberships", &role)?)))
            .collect::<StoreResult<_>>()?;
        Ok((users, total))
    }
}
