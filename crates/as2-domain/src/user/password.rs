//! Console passwords: argon2id hashes in the PHC string format (the parameters travel with
//! the hash), the rule a new password must meet, and generated passwords.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngExt;

use crate::validation::ValidationErrors;

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted (bounds the hashing work a stranger can ask for).
pub const MAX_PASSWORD_LEN: usize = 256;

/// Hashing failed (argon2 refused its parameters: never with the defaults).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Checks a new password against the rule, naming the field `password`.
pub fn check_new(password: &str) -> Result<(), ValidationErrors> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(ValidationErrors::single(
            "password",
            format!("The password must be at least {MIN_PASSWORD_LEN} characters long"),
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ValidationErrors::single(
            "password",
            format!("The password must be at most {MAX_PASSWORD_LEN} bytes long"),
        ));
    }
    Ok(())
}

/// The argon2id hash of `password` with a fresh salt, as a PHC string (`$argon2id$v=19$…`).
pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored `phc` hash (a malformed hash matches nothing).
pub fn verify(password: &str, phc: &str) -> bool {
    password.len() <= MAX_PASSWORD_LEN
        && Argon2::default()
            .verify_password(password.as_bytes(), phc)
            .is_ok()
}

/// A hash no password matches, verified against when the email is unknown so that an
/// unknown email costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash("not a password anyone has: only spends the time").unwrap_or_default())
}

/// A random password of 24 characters (about 142 bits), for a user made without one.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterz", &phc));
        assert!(!verify("anything", "not a hash"));
        assert!(!verify("anything", dummy_hash()));
        assert_ne!(hash("correct horse battery").unwrap(), phc, "salted");
    }

    #[test]
    fn new_passwords_are_checked() {
        assert!(check_new("short").unwrap_err().has("password"));
        assert!(check_new(&"x".repeat(300)).unwrap_err().has("password"));
        assert!(check_new(&generate()).is_ok());
    }
}
