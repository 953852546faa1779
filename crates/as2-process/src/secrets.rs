//! The master key: from `AS2_MASTER_KEY`, or the one generated into the data directory on
//! the first start (logged with a warning to back it up), plus the older keys of a rotation
//! (`AS2_PREVIOUS_MASTER_KEYS`), which open values but never seal them.

use std::path::Path;

use as2_store::master_key::{KeySource, MasterKeyError, load_or_create};
use as2_store::secrets::SecretBox;

/// The secret box of this installation: `configured` (`AS2_MASTER_KEY`) or the data
/// directory's key seals; `previous` (`AS2_PREVIOUS_MASTER_KEYS`, comma-separated) only opens.
///
/// # Errors
/// A configured key is malformed, or the key file cannot be read or written.
pub fn load(
    configured: Option<&str>,
    previous: Option<&str>,
    data_dir: &Path,
) -> Result<SecretBox, MasterKeyError> {
    let (secrets, source) = load_or_create(configured, data_dir)?;
    let secrets = secrets.with_previous(previous.unwrap_or_default())?;
    match source {
        KeySource::Generated => tracing::warn!(
            key_id = secrets.current_key_id(),
            path = %data_dir.join(as2_store::master_key::KEY_FILE).display(),
            "generated a master key; back it up, secrets cannot be read without it"
        ),
        _ => tracing::info!(
            key_id = secrets.current_key_id(),
            previous_key_ids = ?secrets.previous_key_ids(),
            "master key loaded"
        ),
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_generated_key_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = super::load(None, None, dir.path()).unwrap();
        let second = super::load(None, None, dir.path()).unwrap();
        assert_eq!(first.current_key_id(), second.current_key_id());
        let old = as2_store::secrets::MasterKey::generate_hex();
        let sealed_old = as2_store::secrets::SecretBox::parse(&old)
            .unwrap()
            .seal("p", b"x");
        let rotated = super::load(None, Some(&old), dir.path()).unwrap();
        assert_eq!(rotated.current_key_id(), first.current_key_id());
        assert_eq!(rotated.open("p", &sealed_old).unwrap(), b"x");
        assert!(super::load(None, Some("short"), dir.path()).is_err());
    }
}
