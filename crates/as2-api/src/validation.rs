//! Domain validation failures as 422 answers naming every field.

use as2_domain::ValidationErrors;

use crate::error::{ApiError, FieldErrors};

/// A 422 with every field of `errors`.
pub fn into_api(errors: &ValidationErrors) -> ApiError {
    ApiError::validation(
        errors
            .fields()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<FieldErrors>(),
    )
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        into_api(&errors)
    }
}
