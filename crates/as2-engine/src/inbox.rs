//! Delivery to the application through a directory: when the gateway has an inbox
//! (`AS2_INBOX_DIR`), every payload received is also written there, atomically (temporary
//! file, fsync, rename), as `<tenant>/<station AS2 ID>/<Message-ID>__<filename>` — only the
//! first time a Message-ID arrives, so the application never sees a file twice.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// The inbox directory.
#[derive(Debug, Clone)]
pub struct Inbox {
    root: PathBuf,
}

/// Keeps `[A-Za-z0-9._@-]`, replaces the rest with `_` (no path separators, no `..` alone).
pub fn safe_name(value: &str) -> String {
    let cleaned: String = value
        .trim()
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    match cleaned.trim_matches('.') {
        "" => "_".to_owned(),
        _ => cleaned,
    }
}

impl Inbox {
    /// An inbox under `root` (created when missing).
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// Writes one received payload; the path written.
    ///
    /// # Errors
    /// The file system failed; nothing partial is left under the final name.
    pub fn deliver(
        &self,
        tenant: &str,
        station_as2_id: &str,
        message_id: &str,
        filename: Option<&str>,
        payload: &[u8],
    ) -> io::Result<PathBuf> {
        let dir = self
            .root
            .join(safe_name(tenant))
            .join(safe_name(station_as2_id));
        fs::create_dir_all(&dir)?;
        let name = format!(
            "{}__{}",
            safe_name(message_id),
            safe_name(filename.unwrap_or("payload"))
        );
        let target = dir.join(name);
        let temporary = dir.join(format!(".{}.part", uuid_like()));
        write_synced(&temporary, payload)?;
        fs::rename(&temporary, &target)?;
        fs::File::open(&dir)?.sync_all()?;
        Ok(target)
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_inbox() {
        assert_eq!(safe_name("<abc/../x@host>"), "abc_.._x@host");
        assert_eq!(safe_name(".."), "_");
        assert_eq!(safe_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_name(""), "_");
        assert_eq!(safe_name("INV 1.edi"), "INV_1.edi");
    }

    #[test]
    fn delivers_atomically_under_the_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(dir.path()).unwrap();
        let path = inbox
            .deliver("tnt_1", "US", "<id-1@partner>", Some("po.edi"), b"ISA*")
            .unwrap();
        assert!(path.ends_with("tnt_1/US/id-1@partner__po.edi"), "{path:?}");
        assert_eq!(fs::read(&path).unwrap(), b"ISA*");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
