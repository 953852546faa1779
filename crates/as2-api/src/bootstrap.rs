//! First start: on an empty database, create an account, a tenant, a default station and a
//! test-mode admin key, so a new user can call the API at once. The key is returned once.

use as2_domain::Mode;
use as2_domain::api_key::{GeneratedKey, KeyKind, Scope as KeyScope, generate};
use as2_domain::id::{AccountId, TenantId};
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_store::repo::api_keys::NewApiKey;
use as2_store::{Scope, Store, StoreResult};

/// What the first start created.
#[derive(Debug)]
pub struct Bootstrapped {
    /// The new account.
    pub account_id: AccountId,
    /// Its first tenant.
    pub tenant_id: TenantId,
    /// A `pk_test_` key with every scope: print it once.
    pub test_key: String,
}

/// Creates the first account when the database has none; `None` when it already has one.
pub fn bootstrap(store: &Store, station_as2_id: &str) -> StoreResult<Option<Bootstrapped>> {
    if store.accounts().any_account()? {
        return Ok(None);
    }
    let account = store
        .accounts()
        .create_account("Default account", Plan::Enterprise)?;
    let tenant = store
        .accounts()
        .create_tenant(account.id, "Default tenant")?;
    for mode in [Mode::Test, Mode::Live] {
        let settings = StationSettings {
            name: "Default station".into(),
            as2_id: station_as2_id.into(),
            certificate_id: None,
            encryption_certificate_id: None,
            mdn_url: None,
            is_default: true,
        };
        store
            .stations()
            .create(Scope::new(tenant.id, mode), &settings)?;
    }
    let key = create_key(
        store,
        account.id,
        None,
        KeyKind::Account,
        Mode::Test,
        "Bootstrap key",
    )?;
    Ok(Some(Bootstrapped {
        account_id: account.id,
        tenant_id: tenant.id,
        test_key: key.secret,
    }))
}

/// Creates a key with every scope and returns its secret (for bootstrap and tests).
pub fn create_key(
    store: &Store,
    account: AccountId,
    tenant: Option<TenantId>,
    kind: KeyKind,
    mode: Mode,
    name: &str,
) -> StoreResult<GeneratedKey> {
    let generated = generate(kind, mode);
    let scopes = [
        KeyScope::Read,
        KeyScope::Write,
        KeyScope::Delete,
        KeyScope::Admin,
    ]
    .into_iter()
    .collect();
    store.api_keys().create(&NewApiKey {
        account_id: account,
        tenant_id: tenant,
        kind,
        mode,
        name,
        scopes: &scopes,
        generated: &generated,
    })?;
    Ok(generated)
}

/// Why the operator's key could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OperatorKeyError {
    /// No such tenant (or it is deleted).
    #[error("there is no tenant {0}")]
    UnknownTenant(TenantId),
    /// The name is empty or too long.
    #[error("the key name must be 1 to 255 characters")]
    BadName,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] as2_store::StoreError),
}

/// A key the operator made: what to print (the secret once).
pub struct OperatorKey {
    /// The tenant's account (the key's account).
    pub account_id: AccountId,
    /// The tenant (of a `tk` key; the `X-Tenant-ID` default of a `pk` key is the account's
    /// first tenant).
    pub tenant_id: TenantId,
    /// The key with its secret.
    pub key: GeneratedKey,
}

impl std::fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorKey")
            .field("account_id", &self.account_id)
            .field("tenant_id", &self.tenant_id)
            .field("prefix", &self.key.display_prefix)
            .finish_non_exhaustive()
    }
}

/// Creates a key with every scope in `mode` for `tenant` (`KeyKind::Tenant`) or for its
/// account (`KeyKind::Account`): the operator's way to the first live key, which no test key
/// can create through the API (`api-server create-key`).
///
/// # Errors
/// The tenant does not exist, the name is empty or longer than 255 characters, or the store
/// failed.
pub fn operator_key(
    store: &Store,
    tenant: TenantId,
    kind: KeyKind,
    mode: Mode,
    name: &str,
) -> Result<OperatorKey, OperatorKeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(OperatorKeyError::BadName);
    }
    let found = match store.accounts().tenant_for_operator(tenant) {
        Ok(found) => found,
        Err(as2_store::StoreError::NotFound) => {
            return Err(OperatorKeyError::UnknownTenant(tenant));
        }
        Err(e) => return Err(e.into()),
    };
    let key = create_key(
        store,
        found.account_id,
        (kind == KeyKind::Tenant).then_some(found.id),
        kind,
        mode,
        name,
    )?;
    Ok(OperatorKey {
        account_id: found.account_id,
        tenant_id: found.id,
        key,
    })
}
