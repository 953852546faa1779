//! The master key: from `AS2_MASTER_KEY`, or the one generated into the data directory on
//! the first start (logged with a warning to back it up).

use std::path::Path;

use as2_store::master_key::{KeySource, MasterKeyError, load_or_create};
use as2_store::secrets::SecretBox;

/// The secret box of this installation.
///
/// # Errors
/// The configured key is malformed, or the key file cannot be read or written.
pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<SecretBox, MasterKeyError> {
    let (secrets, source) = load_or_create(configured, data_dir)?;
    match source {
        KeySource::Generated => tracing::warn!(
            key_id = secrets.current_key_id(),
            path = %data_dir.join(as2_store::master_key::KEY_FILE).display(),
            "generated a master key; back it up, secrets cannot be read without it"
        ),
        _ => tracing::info!(key_id = secrets.current_key_id(), "master key loaded"),
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_generated_key_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = super::load(None, dir.path()).unwrap();
        let second = super::load(None, dir.path()).unwrap();
        assert_eq!(first.current_key_id(), second.current_key_id());
    }
}
