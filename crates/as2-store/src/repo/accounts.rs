//! Accounts and tenants: a tenant is only ever read through its account.

use as2_domain::id::{AccountId, TenantId};
use as2_domain::pagination::PageRequest;
use as2_domain::plan::Plan;
use as2_domain::retention::RetentionOverride;
use as2_domain::tenant::{Account, Tenant};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult, not_found};
use crate::repo::parse_column;
use crate::schema::{accounts, tenants};
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::with_conn;

/// Accounts and tenants.
#[derive(Debug)]
pub struct Accounts<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
struct AccountRow {
    id: i64,
    name: String,
    plan: String,
    created_at: chrono::NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = tenants)]
struct TenantRow {
    id: i64,
    account_id: i64,
    name: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    max_message_bytes: Option<i64>,
    retention_payload_days: Option<i32>,
    retention_record_days: Option<i32>,
    alert_emails: Option<String>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(row: AccountRow) -> StoreResult<Self> {
        Ok(Self {
            id: AccountId(row.id),
            name: row.name,
            plan: parse_column::<Plan>("accounts", &row.plan)?,
            created_at: from_db(row.created_at),
        })
    }
}

impl From<TenantRow> for Tenant {
    fn from(row: TenantRow) -> Self {
        Self {
            id: TenantId(row.id),
            account_id: AccountId(row.account_id),
            name: row.name,
            max_message_bytes: row.max_message_bytes,
            retention: RetentionOverride {
                payload_days: row
                    .retention_payload_days
                    .and_then(|d| u32::try_from(d).ok()),
                record_days: row
                    .retention_record_days
                    .and_then(|d| u32::try_from(d).ok()),
            },
            alert_emails: row
                .alert_emails
                .as_deref()
                .map(|text| {
                    text.lines()
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            created_at: from_db(row.created_at),
            updated_at: from_db(row.updated_at),
        }
    }
}

impl Accounts<'_> {
    /// Creates an account.
    pub fn create_account(&self, name: &str, plan: Plan) -> StoreResult<Account> {
        let mut conn = self.store.db().conn()?;
        let created = to_db(now());
        let row: AccountRow = with_conn!(&mut conn, |c| diesel::insert_into(accounts::table)
            .values((
                accounts::name.eq(name),
                accounts::plan.eq(plan.as_str()),
                accounts::created_at.eq(created),
            ))
            .returning(AccountRow::as_returning())
            .get_result(c))?;
        row.try_into()
    }

    /// An account by id.
    pub fn account(&self, id: AccountId) -> StoreResult<Account> {
        let mut conn = self.store.db().conn()?;
        let row: AccountRow = with_conn!(&mut conn, |c| accounts::table
            .find(id.0)
            .select(AccountRow::as_select())
            .first(c))
        .map_err(not_found)?;
        row.try_into()
    }

    /// Whether any account exists (a fresh installation has none).
    pub fn any_account(&self) -> StoreResult<bool> {
        let mut conn = self.store.db().conn()?;
        let count: i64 = with_conn!(&mut conn, |c| accounts::table.count().get_result(c))?;
        Ok(count > 0)
    }

    /// Creates a tenant in `account`.
    pub fn create_tenant(&self, account: AccountId, name: &str) -> StoreResult<Tenant> {
        let mut conn = self.store.db().conn()?;
        let created = to_db(now());
        let row: TenantRow = with_conn!(&mut conn, |c| diesel::insert_into(tenants::table)
            .values((
                tenants::account_id.eq(account.0),
                tenants::name.eq(name),
                tenants::created_at.eq(created),
                tenants::updated_at.eq(created),
            ))
            .returning(TenantRow::as_returning())
            .get_result(c))?;
        Ok(row.into())
    }

    /// A tenant of `account` (not found when it belongs to another account or is deleted).
    pub fn tenant(&self, account: AccountId, id: TenantId) -> StoreResult<Tenant> {
        let mut conn = self.store.db().conn()?;
        let row: TenantRow = with_conn!(&mut conn, |c| tenants::table
            .filter(tenants::id.eq(id.0))
            .filter(tenants::account_id.eq(account.0))
            .filter(tenants::deleted_at.is_null())
            .select(TenantRow::as_select())
            .first(c))
        .map_err(not_found)?;
        Ok(row.into())
    }

    /// A tenant by its id alone, whatever its account (not found when deleted). For the
    /// operator's tools (`api-server create-key`), never for a request: a request reaches
    /// tenants through its key's account ([`Self::tenant`]).
    pub fn tenant_for_operator(&self, id: TenantId) -> StoreResult<Tenant> {
        let mut conn = self.store.db().conn()?;
        let row: TenantRow = with_conn!(&mut conn, |c| tenants::table
            .filter(tenants::id.eq(id.0))
            .filter(tenants::deleted_at.is_null())
            .select(TenantRow::as_select())
            .first(c))
        .map_err(not_found)?;
        Ok(row.into())
    }

    /// The account's tenants, newest first, and their total.
    pub fn list_tenants(
        &self,
        account: AccountId,
        page: PageRequest,
    ) -> StoreResult<(Vec<Tenant>, i64)> {
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<TenantRow>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                tenants::table
                    .filter(tenants::account_id.eq(account.0))
                    .filter(tenants::deleted_at.is_null())
            };
            page_of!(
                c,
                base,
                (tenants::created_at.desc(), tenants::id.desc()),
                page,
                TenantRow
            )
        })?;
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }

    /// The account's oldest tenant (what a `pk_` key without `X-Tenant-ID` works on).
    pub fn first_tenant(&self, account: AccountId) -> StoreResult<Tenant> {
        let mut conn = self.store.db().conn()?;
        let row: TenantRow = with_conn!(&mut conn, |c| tenants::table
            .filter(tenants::account_id.eq(account.0))
            .filter(tenants::deleted_at.is_null())
            .order(tenants::id.asc())
            .select(TenantRow::as_select())
            .first(c))
        .map_err(not_found)?;
        Ok(row.into())
    }

    /// Renames a tenant of `account`.
    pub fn rename_tenant(
        &self,
        account: AccountId,
        id: TenantId,
        name: &str,
    ) -> StoreResult<Tenant> {
        let mut conn = self.store.db().conn()?;
        let updated = to_db(now());
        let row: TenantRow = with_conn!(&mut conn, |c| diesel::update(
            tenants::table
                .filter(tenants::id.eq(id.0))
                .filter(tenants::account_id.eq(account.0))
                .filter(tenants::deleted_at.is_null())
        )
        .set((tenants::name.eq(name), tenants::updated_at.eq(updated)))
        .returning(TenantRow::as_returning())
        .get_result(c))
        .map_err(not_found)?;
        Ok(row.into())
    }

    /// Sets (or, with `None`, removes) the largest message a tenant of `account` takes or sends.
    pub fn set_message_limit(
        &self,
        account: AccountId,
        id: TenantId,
        limit: Option<i64>,
    ) -> StoreResult<Tenant> {
        let mut conn = self.store.db().conn()?;
        let updated = to_db(now());
        let row: TenantRow = with_conn!(&mut conn, |c| diesel::update(
            tenants::table
                .filter(tenants::id.eq(id.0))
                .filter(tenants::account_id.eq(account.0))
                .filter(tenants::deleted_at.is_null())
        )
        .set((
            tenants::max_message_bytes.eq(limit),
            tenants::updated_at.eq(updated),
        ))
        .returning(TenantRow::as_returning())
        .get_result(c))
        .map_err(not_found)?;
        Ok(row.into())
    }

    /// Sets a tenant's own retention (`None` values: the plan's default).
    pub fn set_retention(
        &self,
        account: AccountId,
        id: TenantId,
        retention: RetentionOverride,
    ) -> StoreResult<Tenant> {
        let days = |d: Option<u32>| d.and_then(|d| i32::try_from(d).ok());
        let mut conn = self.store.db().conn()?;
        let updated = to_db(now());
        let row: TenantRow = with_conn!(&mut conn, |c| diesel::update(
            tenants::table
                .filter(tenants::id.eq(id.0))
                .filter(tenants::account_id.eq(account.0))
                .filter(tenants::deleted_at.is_null())
        )
        .set((
            tenants::retention_payload_days.eq(days(retention.payload_days)),
            tenants::retention_record_days.eq(days(retention.record_days)),
            tenants::updated_at.eq(updated),
        ))
        .returning(TenantRow::as_returning())
        .get_result(c))
        .map_err(not_found)?;
        Ok(row.into())
    }

    /// Sets where a tenant's email alerts go (checked addresses, `as2_domain::alerts`; empty:
    /// none).
    pub fn set_alert_emails(
        &self,
        account: AccountId,
        id: TenantId,
        addresses: &[String],
    ) -> StoreResult<Tenant> {
        let text = (!addresses.is_empty()).then(|| addresses.join("\n"));
        let mut conn = self.store.db().conn()?;
        let updated = to_db(now());
        let row: TenantRow = with_conn!(&mut conn, |c| diesel::update(
            tenants::table
                .filter(tenants::id.eq(id.0))
                .filter(tenants::account_id.eq(account.0))
                .filter(tenants::deleted_at.is_null())
        )
        .set((
            tenants::alert_emails.eq(text.as_deref()),
            tenants::updated_at.eq(updated),
        ))
        .returning(TenantRow::as_returning())
        .get_result(c))
        .map_err(not_found)?;
        Ok(row.into())
    }

    /// The tenant's own message size limit, if it has one (the gateway asks for every message).
    pub fn message_limit(&self, id: TenantId) -> StoreResult<Option<i64>> {
        let mut conn = self.store.db().conn()?;
        let limit: Option<Option<i64>> = with_conn!(&mut conn, |c| tenants::table
            .filter(tenants::id.eq(id.0))
            .select(tenants::max_message_bytes)
            // by primary key: no LIMIT (see `crate::db`)
            .get_result(c)
            .optional())?;
        Ok(limit.flatten())
    }

    /// Deletes (soft) a tenant of `account`; its data stays for audit but is unreachable.
    pub fn delete_tenant(&self, account: AccountId, id: TenantId) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let deleted = to_db(now());
        let n = with_conn!(&mut conn, |c| diesel::update(
            tenants::table
                .filter(tenants::id.eq(id.0))
                .filter(tenants::account_id.eq(account.0))
                .filter(tenants::deleted_at.is_null())
        )
        .set(tenants::deleted_at.eq(deleted))
        .execute(c))?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}
