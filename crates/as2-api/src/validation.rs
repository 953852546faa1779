//! Domain validation failures as 422 answers naming every field.

use as2_domain::ValidationErrors;

use crate::error::{ApiError, FieldErrors};

/// A 422 with every field of `errors`, each sentence once (two rules that find the same
/// fault, such as "required" on the request and on the settings, say it once).
pub fn into_api(errors: &ValidationErrors) -> ApiError {
    ApiError::validation(
        errors
            .fields()
            .iter()
            .map(|(k, v)| {
                let mut sentences: Vec<String> = Vec::with_capacity(v.len());
                for sentence in v {
                    if !sentences.contains(sentence) {
                        sentences.push(sentence.clone());
                    }
                }
                (k.clone(), sentences)
            })
            .collect::<FieldErrors>(),
    )
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        into_api(&errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_is_said_once_per_field() {
        let mut errors = ValidationErrors::new();
        errors.add("name", "The name field is required");
        errors.add("name", "The name field is required");
        errors.add("name", "The name must be short");
        let body = into_api(&errors).body();
        assert_eq!(
            body["errors"]["name"],
            serde_json::json!(["The name field is required", "The name must be short"])
        );
    }
}
