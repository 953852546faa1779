//! The store's error type.

use as2_domain::ValidationErrors;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No row with that id in the caller's scope.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (the message names the rule).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The operation breaks a domain rule.
    #[error("invalid: {0}")]
    Invalid(ValidationErrors),
    /// The database URL is not `sqlite://…` or `postgres://…`.
    #[error("unsupported database URL (expected sqlite://PATH or postgres://…)")]
    UnsupportedUrl,
    /// No connection could be made or taken from the pool.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database error: {0}")]
    Database(diesel::result::Error),
    /// Running or reverting migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value does not read back (an unknown enum name, say).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// Table of the row.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A secret could not be encrypted or decrypted.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    /// The payload store failed.
    #[error("payload store: {0}")]
    Payload(#[from] std::io::Error),
}

/// The store's result type.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Maps a unique-violation to `Conflict` with `what`, other errors unchanged.
    pub(crate) fn unique(what: &str) -> impl FnOnce(diesel::result::Error) -> Self + '_ {
        move |error| match error {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => Self::Conflict(what.to_owned()),
            other => other.into(),
        }
    }

    /// Whether the database could not be reached (no connection, or the connection was lost
    /// mid-request): the request may be retried once it is back.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// A stored value that does not parse.
    pub(crate) fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            table,
            detail: detail.to_string(),
        }
    }
}

/// Turns `diesel::result::Error::NotFound` into `StoreError::NotFound`.
pub(crate) fn not_found(error: diesel::result::Error) -> StoreError {
    error.into()
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => Self::NotFound,
            lost if crate::pg_pool::is_connection_loss(&lost) => {
                Self::Unavailable(format!("the connection was lost: {lost}"))
            }
            other => Self::Database(other),
        }
    }
}
