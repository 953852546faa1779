//! AS2 identifiers (RFC 4130 §6.2): 1 to 128 printable US-ASCII characters.

use crate::validation::ValidationErrors;

/// Longest AS2 name RFC 4130 allows.
pub const MAX_AS2_ID_LEN: usize = 128;

/// Checks an AS2 ID as partners and stations carry it, adding every rule it breaks.
///
/// Spaces are refused although RFC 4130 allows them quoted: many products (and the API
/// overview) reject them, so a partner configured with one would fail elsewhere.
pub fn check_as2_id(errors: &mut ValidationErrors, field: &str, value: &str) {
    if value.is_empty() {
        errors.add(field, "The AS2 ID field is required");
        return;
    }
    if value.len() > MAX_AS2_ID_LEN {
        errors.add(
            field,
            format!("The AS2 ID must be at most {MAX_AS2_ID_LEN} characters"),
        );
    }
    if value.contains(' ') {
        errors.add(field, "The AS2 ID must not contain spaces");
    }
    if value
        .bytes()
        .any(|b| !(0x21..=0x7e).contains(&b) && b != b' ')
    {
        errors.add(
            field,
            "The AS2 ID may only contain printable ASCII characters",
        );
    }
    if value.contains('"') || value.contains('\\') {
        errors.add(field, "The AS2 ID must not contain quotes or backslashes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(value: &str) -> Vec<String> {
        let mut errors = ValidationErrors::new();
        check_as2_id(&mut errors, "as2_id", value);
        errors.fields().get("as2_id").cloned().unwrap_or_default()
    }

    #[test]
    fn accepts_what_partners_use() {
        for ok in [
            "AS2:CLIENTE_001",
            "ACME-CORP-AS2",
            "mendelsontestAS2",
            "a",
            &"x".repeat(128),
        ] {
            assert!(problems(ok).is_empty(), "{ok}");
        }
    }

    #[test]
    fn names_each_broken_rule() {
        assert_eq!(problems(""), vec!["The AS2 ID field is required"]);
        assert_eq!(
            problems("has space"),
            vec!["The AS2 ID must not contain spaces"]
        );
        assert_eq!(problems(&"x".repeat(129)).len(), 1);
        assert_eq!(problems("tab\there").len(), 1);
        assert_eq!(problems("ümlaut").len(), 1);
        assert_eq!(problems("q\"uote").len(), 1);
    }
}
