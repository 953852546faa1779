//! The master key from configuration (`AS2_MASTER_KEY`), or generated into the data
//! directory on first start (`master.key`, mode 0600) so a single machine needs no setup.

use std::io::Write;
use std::path::Path;

use crate::secrets::{MasterKey, SecretBox, SecretError};

/// The file the generated key is kept in, under the data directory.
pub const KEY_FILE: &str = "master.key";

/// Where the master key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `AS2_MASTER_KEY`.
    Environment,
    /// An existing `master.key`.
    File,
    /// A new `master.key`, written now.
    Generated,
}

/// Loads the secret box from `configured` (the variable's value) or the data directory.
pub fn load_or_create(
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<(SecretBox, KeySource), MasterKeyError> {
    if let Some(value) = configured.filter(|v| !v.trim().is_empty()) {
        return Ok((SecretBox::parse(value)?, KeySource::Environment));
    }
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((SecretBox::parse(&text)?, KeySource::File)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)?;
            let key = MasterKey::generate_hex();
            // Written whole to a private temporary file, then linked into place: two
            // processes starting together (api-server and gateway) agree on one key, and
            // nobody ever reads a half-written file.
            let temporary = data_dir.join(format!(".{KEY_FILE}.{}", std::process::id()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(key.as_bytes())?;
            file.sync_all()?;
            let linked = std::fs::hard_link(&temporary, &path);
            let _ = std::fs::remove_file(&temporary);
            match linked {
                Ok(()) => Ok((SecretBox::parse(&key)?, KeySource::Generated)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path)?;
                    Ok((SecretBox::parse(&text)?, KeySource::File))
                }
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Why the master key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The configured or stored key is malformed.
    #[error(transparent)]
    Invalid(#[from] SecretError),
    /// The key file could not be read or written.
    #[error("master key file: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_then_reads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let (first, source) = load_or_create(None, dir.path()).unwrap();
        assert_eq!(source, KeySource::Generated);
        let (second, source) = load_or_create(None, dir.path()).unwrap();
        assert_eq!(source, KeySource::File);
        assert_eq!(first.current_key_id(), second.current_key_id());
        let sealed = first.seal("p", b"x");
        assert_eq!(second.open("p", &sealed).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            load_or_create(Some("short"), dir.path()),
            Err(MasterKeyError::Invalid(_))
        ));
    }
}
