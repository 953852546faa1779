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
