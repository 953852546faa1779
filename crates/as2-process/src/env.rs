//! Environment values: unset and blank are the same, numbers are checked with a message
//! naming the variable.

use std::str::FromStr;

/// A variable that cannot be used as it is set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name} must be {expected}, not {value:?}")]
pub struct EnvError {
    /// The variable.
    pub name: String,
    /// What it must be.
    pub expected: &'static str,
    /// What it is.
    pub value: String,
}

/// The value of `name`, or `None` when it is unset or blank.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The whole number in `name`, or `default` when it is unset or blank.
///
/// # Errors
/// The value is not a whole number of type `T`.
pub fn number<T: FromStr>(name: &str, default: T) -> Result<T, EnvError> {
    parse_number(name, var(name), default)
}

fn parse_number<T: FromStr>(name: &str, value: Option<String>, default: T) -> Result<T, EnvError> {
    value.map_or(Ok(default), |v| {
        v.trim().parse().map_err(|_| EnvError {
            name: name.to_owned(),
            expected: "a whole number",
            value: v,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_default_parse_and_name_the_variable() {
        assert_eq!(parse_number::<u32>("AS2_X", None, 4), Ok(4));
        assert_eq!(parse_number::<u32>("AS2_X", Some(" 12 ".into()), 4), Ok(12));
        let error = parse_number::<u32>("AS2_X", Some("many".into()), 4).unwrap_err();
        assert_eq!(
            error.to_string(),
            "AS2_X must be a whole number, not \"many\""
        );
    }
}
