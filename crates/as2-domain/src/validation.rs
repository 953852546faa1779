//! Collected validation failures: every bad field, each with sentences a person understands.

use std::collections::BTreeMap;
use std::fmt;

/// The fields that failed validation, each with one or more sentences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    fields: BTreeMap<String, Vec<String>>,
}

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single failure.
    pub fn single(field: &str, sentence: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, sentence);
        errors
    }

    /// Records that `field` failed with `sentence`.
    pub fn add(&mut self, field: &str, sentence: impl Into<String>) {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .push(sentence.into());
    }

    /// Takes over every failure of `other`.
    pub fn merge(&mut self, other: Self) {
        for (field, sentences) in other.fields {
            self.fields.entry(field).or_default().extend(sentences);
        }
    }

    /// True when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether `field` has a failure.
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// The failures, by field name.
    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        &self.fields
    }

    /// `Ok(value)` when nothing failed, else these errors.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, sentences) in &self.fields {
            for sentence in sentences {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {sentence}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Checks a required, trimmed, bounded text field.
pub fn check_name(
    errors: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) {
    if value.trim().is_empty() {
        errors.add(field, format!("The {label} field is required"));
    } else if value.chars().count() > max {
        errors.add(
            field,
            format!("The {label} must be at most {max} characters"),
        );
    } else if value.chars().any(char::is_control) {
        errors.add(
            field,
            format!("The {label} must not contain control characters"),
        );
    }
}

/// Checks a plausible e-mail address (one `@`, a dot in the domain, no spaces).
pub fn check_email(errors: &mut ValidationErrors, field: &str, value: &str) {
    let valid = value.len() <= 254
        && !value.contains(char::is_whitespace)
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        errors.add(field, "The email must be a valid email address");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_field() {
        let mut errors = ValidationErrors::new();
        check_name(&mut errors, "name", "name", " ", 10);
        check_email(&mut errors, "email", "not-an-email");
        check_email(&mut errors, "ok", "as2@cliente.com");
        assert!(errors.has("name") && errors.has("email") && !errors.has("ok"));
        assert_eq!(errors.fields()["name"], vec!["The name field is required"]);
        assert!(errors.into_result(()).is_err());
    }
}
