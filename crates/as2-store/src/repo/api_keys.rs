//! API keys: stored by hash, found by hash, listed and revoked within their account.

use as2_domain::Mode;
use as2_domain::api_key::{ApiKey, GeneratedKey, KeyKind, Scope, format_scopes, parse_scopes};
use as2_domain::id::{AccountId, ApiKeyId, TenantId};
use as2_domain::pagination::PageRequest;
use as2_domain::tenant::Account;
use diesel::prelude::*;
use std::collections::BTreeSet;

use crate::error::{StoreError, StoreResult, not_found};
use crate::repo::{converted, parse_column};
use crate::schema::{accounts, api_keys, tenants};
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::with_conn;

/// API keys.
#[derive(Debug)]
pub struct ApiKeys<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
struct KeyRow {
    id: i64,
    account_id: i64,
    tenant_id: Option<i64>,
    kind: String,
    mode: String,
    name: String,
    display_prefix: String,
    scopes: String,
    last_used_at: Option<chrono::NaiveDateTime>,
    revoked_at: Option<chrono::NaiveDateTime>,
    created_at: chrono::NaiveDateTime,
}

impl TryFrom<KeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(row: KeyRow) -> StoreResult<Self> {
        Ok(Self {
            id: ApiKeyId(row.id),
            account_id: AccountId(row.account_id),
            tenant_id: row.tenant_id.map(TenantId),
            kind: parse_column::<KeyKind>("api_keys", &row.kind)?,
            mode: parse_column::<Mode>("api_keys", &row.mode)?,
            name: row.name,
            display_prefix: row.display_prefix,
            scopes: parse_scopes(&row.scopes).map_err(|e| StoreError::corrupt("api_keys", e))?,
            last_used_at: row.last_used_at.map(from_db),
            revoked_at: row.revoked_at.map(from_db),
            created_at: from_db(row.created_at),
        })
    }
}

/// What a new key is made of (the secret itself is never stored).
#[derive(Debug)]
pub struct NewApiKey<'k> {
    /// Owner.
    pub account_id: AccountId,
    /// For a `tk_` key, its tenant.
    pub tenant_id: Option<TenantId>,
    /// Kind.
    pub kind: KeyKind,
    /// Mode.
    pub mode: Mode,
    /// Display name.
    pub name: &'k str,
    /// Scopes.
    pub scopes: &'k BTreeSet<Scope>,
    /// The generated secret's hash and prefix.
    pub generated: &'k GeneratedKey,
}

impl ApiKeys<'_> {
    /// Stores a new key (its hash only).
    pub fn create(&self, key: &NewApiKey<'_>) -> StoreResult<ApiKey> {
        let mut conn = self.store.db().conn()?;
        let created = to_db(now());
        let scopes = format_scopes(key.scopes);
        let row: KeyRow = with_conn!(&mut conn, |c| diesel::insert_into(api_keys::table)
            .values((
                api_keys::account_id.eq(key.account_id.0),
                api_keys::tenant_id.eq(key.tenant_id.map(|t| t.0)),
                api_keys::kind.eq(key.kind.as_str()),
                api_keys::mode.eq(key.mode.as_str()),
                api_keys::name.eq(key.name),
                api_keys::display_prefix.eq(&key.generated.display_prefix),
                api_keys::secret_hash.eq(&key.generated.hash),
                api_keys::scopes.eq(&scopes),
                api_keys::created_at.eq(created),
            ))
            .returning(KeyRow::as_returning())
            .get_result(c))
        .map_err(StoreError::unique("an API key with this secret exists"))?;
        row.try_into()
    }

    /// The live (unrevoked) key with this secret hash and its account, for authentication.
    pub fn authenticate(&self, secret_hash: &str) -> StoreResult<(ApiKey, Account)> {
        let mut conn = self.store.db().conn()?;
        let row: KeyRow = with_conn!(&mut conn, |c| api_keys::table
            .filter(api_keys::secret_hash.eq(secret_hash))
            .filter(api_keys::revoked_at.is_null())
            .select(KeyRow::as_select())
            // a unique secret hash: no LIMIT (see `crate::db`)
            .get_result(c))
        .map_err(not_found)?;
        // Give the connection back before taking another: holding one while waiting for a
        // second deadlocks the pool under load.
        drop(conn);
        let key: ApiKey = row.try_into()?;
        let account = self.store.accounts().account(key.account_id)?;
        Ok((key, account))
    }

    /// Records a use (at most once a minute per key, to spare writes).
    pub fn touch(&self, id: ApiKeyId) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let at = now();
        let stale = to_db(at - chrono::Duration::minutes(1));
        with_conn!(&mut conn, |c| diesel::update(
            api_keys::table.filter(api_keys::id.eq(id.0)).filter(
                api_keys::last_used_at
                    .is_null()
                    .or(api_keys::last_used_at.lt(stale))
            )
        )
        .set(api_keys::last_used_at.eq(to_db(at)))
        .execute(c))?;
        Ok(())
    }

    /// The account's keys of `mode`, newest first; a tenant key lists only its tenant's keys.
    pub fn list(
        &self,
        account: AccountId,
        mode: Mode,
        tenant: Option<TenantId>,
        page: PageRequest,
    ) -> StoreResult<(Vec<ApiKey>, i64)> {
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<KeyRow>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                let query = api_keys::table
                    .filter(api_keys::account_id.eq(account.0))
                    .filter(api_keys::mode.eq(mode.as_str()))
                    .into_boxed();
                match tenant {
                    Some(t) => query.filter(api_keys::tenant_id.eq(t.0)),
                    None => query,
                }
            };
            page_of!(c, base, api_keys::id.desc(), page, KeyRow)
        })?;
        converted(rows, total)
    }

    /// Revokes a key of the account (and of the tenant when given); revoking twice is fine.
    pub fn revoke(
        &self,
        account: AccountId,
        mode: Mode,
        tenant: Option<TenantId>,
        id: ApiKeyId,
    ) -> StoreResult<ApiKey> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now());
        let row: KeyRow = with_conn!(&mut conn, |c| {
            let target = api_keys::table
                .filter(api_keys::id.eq(id.0))
                .filter(api_keys::account_id.eq(account.0))
                .filter(api_keys::mode.eq(mode.as_str()))
                .into_boxed();
            let target = match tenant {
                Some(t) => target.filter(api_keys::tenant_id.eq(t.0)),
                None => target,
            };
            let row: KeyRow = target.select(KeyRow::as_select()).first(c)?;
            diesel::update(
                api_keys::table
                    .filter(api_keys::id.eq(row.id))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(at))
            .execute(c)?;
            api_keys::table
                .find(row.id)
                .select(KeyRow::as_select())
                .first(c)
        })
        .map_err(not_found)?;
        row.try_into()
    }

    /// Whether a tenant key's tenant still exists (deleted tenants authenticate nothing).
    pub fn tenant_alive(&self, tenant: TenantId) -> StoreResult<bool> {
        let mut conn = self.store.db().conn()?;
        let n: i64 = with_conn!(&mut conn, |c| tenants::table
            .filter(tenants::id.eq(tenant.0))
            .filter(tenants::deleted_at.is_null())
            .inner_join(accounts::table)
            .count()
            .get_result(c))?;
        Ok(n > 0)
    }
}
