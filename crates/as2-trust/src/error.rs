//! What a lifecycle operation can fail with.

use as2_domain::ValidationErrors;
use as2_store::StoreError;

/// A refused or failed lifecycle operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustOpError {
    /// A rule was broken (the API answers 422 naming the field).
    #[error("invalid: {0}")]
    Invalid(ValidationErrors),
    /// The partner, station or certificate does not exist in the caller's scope.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Another request changed the record meanwhile.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored certificate or key does not parse.
    #[error("stored trust material cannot be read: {0}")]
    Material(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TrustOpError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::Invalid(errors) => Self::Invalid(errors),
            other => Self::Store(other),
        }
    }
}

impl From<ValidationErrors> for TrustOpError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Invalid(errors)
    }
}
