//! Making console users outside the console: the first owner at bootstrap and the operator's
//! `api-server user create`. A user made without a password gets a generated one, returned
//! once for the caller to print.

use as2_domain::ValidationErrors;
use as2_domain::id::TenantId;
use as2_domain::user::{Role, User, normalize_email, password};
use as2_store::{Store, StoreError};

/// Why a user could not be made.
#[derive(Debug, thiserror::Error)]
pub enum UserCreateError {
    /// A bad email or password (the sentences name the field).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The email is taken.
    #[error("a user with this email exists")]
    Taken,
    /// The tenant does not exist.
    #[error("no tenant {0}")]
    NoTenant(TenantId),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] password::HashError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for UserCreateError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(_) => Self::Taken,
            other => Self::Store(other),
        }
    }
}

/// A user made, and its password when it was generated (print it once).
#[derive(Debug)]
pub struct CreatedUser {
    /// The user.
    pub user: User,
    /// The generated password, when none was given.
    pub generated_password: Option<String>,
}

/// Makes a user with `role` in `tenant`; `password` `None` generates one.
pub fn create_user(
    store: &Store,
    email: &str,
    name: &str,
    password_given: Option<&str>,
    tenant: TenantId,
    role: Role,
) -> Result<CreatedUser, UserCreateError> {
    let email = normalize_email(email).map_err(UserCreateError::Invalid)?;
    let generated = password_given.is_none().then(password::generate);
    let secret = password_given.or(generated.as_deref()).unwrap_or_default();
    password::check_new(secret).map_err(UserCreateError::Invalid)?;
    store
        .accounts()
        .tenant_for_operator(tenant)
        .map_err(|e| match e {
            StoreError::NotFound => UserCreateError::NoTenant(tenant),
            other => UserCreateError::Store(other),
        })?;
    let hash = password::hash(secret)?;
    let name = if name.trim().is_empty() {
        email.as_str()
    } else {
        name.trim()
    };
    let user = store.users().create(&email, name, &hash)?;
    store.users().set_role(user.id, tenant, role)?;
    Ok(CreatedUser {
        user,
        generated_password: generated,
    })
}

/// On an installation with no user yet, makes `email` the owner of `tenant` with a generated
/// password; `None` when a user exists.
pub fn bootstrap_owner(
    store: &Store,
    email: &str,
    tenant: TenantId,
) -> Result<Option<CreatedUser>, UserCreateError> {
    if store.users().any()? {
        return Ok(None);
    }
    create_user(store, email, "Owner", None, tenant, Role::Owner).map(Some)
}
