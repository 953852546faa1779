//! The payload store's file-system backend: streamed writes to `tmp/<key>.part`, fsync,
//! rename to `objects/ab/<key>`, directory fsync; streamed reads.
//!
//! Payloads are business documents: files are created `0600` and directories `0700`, and
//! opening the store takes its root, `tmp/` and `objects/` to `0700` (so files written by an
//! older version are out of other users' reach too).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{BackendWriter, ListedPayload, PayloadBackend, is_key};

/// Payloads under a root directory: `objects/ab/<key>`, temporaries under `tmp/`.
#[derive(Debug, Clone)]
pub(super) struct FsBackend {
    root: PathBuf,
}

/// A payload being written to its temporary file; dropping it removes the file.
#[derive(Debug)]
pub(super) struct FsWriter {
    file: Option<File>,
    tmp: PathBuf,
    target: PathBuf,
}

impl FsBackend {
    pub(super) fn open(root: PathBuf) -> io::Result<Self> {
        for dir in [root.join("tmp"), root.join("objects")] {
            create_private_dir(&dir)?;
        }
        for dir in [root.clone(), root.join("tmp"), root.join("objects")] {
            make_private(&dir)?;
        }
        Ok(Self { root })
    }

    /// The path of a key (checked by the caller).
    fn path(&self, key: &str) -> PathBuf {
        self.root.join("objects").join(&key[..2]).join(key)
    }
}

impl PayloadBackend for FsBackend {
    fn describe(&self) -> String {
        format!("file system at {}", self.root.display())
    }

    fn begin(&self, key: &str) -> io::Result<Box<dyn BackendWriter>> {
        let tmp = self.root.join("tmp").join(format!("{key}.part"));
        let mut options = File::options();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&tmp)?;
        Ok(Box::new(FsWriter {
            file: Some(file),
            tmp,
            target: self.path(key),
        }))
    }

    fn open_read(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(self.path(key))?))
    }

    fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        fs::read(self.path(key))
    }

    fn delete_many(&self, keys: &[String]) -> io::Result<()> {
        for key in keys {
            match fs::remove_file(self.path(key)) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// The finished payloads under `objects/<shard>/`.
    fn list(&self, shard: &str) -> io::Result<Vec<ListedPayload>> {
        let dir = self.root.join("objects").join(shard);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut listed = Vec::new();
        for entry in entries {
            let entry = entry?;
            let Some(key) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !is_key(&key) || !key.starts_with(shard) {
                continue;
            }
            match entry.metadata().and_then(|m| m.modified()) {
                Ok(modified) => listed.push(ListedPayload { key, modified }),
                // removed meanwhile
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(listed)
    }

    /// Removes `tmp/*.part` files last modified before `cutoff`.
    fn remove_stale_temporaries(&self, cutoff: SystemTime) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(self.root.join("tmp"))? {
            let entry = entry?;
            let is_part = entry
                .file_name()
                .to_str()
                .and_then(|name| name.strip_suffix(".part"))
                .is_some_and(is_key);
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < cutoff);
            if is_part && stale {
                match fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

impl BackendWriter for FsWriter {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("payload already finished"))?
            .write_all(buf)
    }

    /// Makes the payload durable: fsync the file, rename it into place, fsync the directory.
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("payload already finished"))?;
        let result = (|| {
            file.sync_all()?;
            drop(file);
            let dir = self
                .target
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            create_private_dir(&dir)?;
            fs::rename(&self.tmp, &self.target)?;
            File::open(&dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&self.tmp);
        }
        result
    }
}

impl Drop for FsWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Creates `dir` and its missing parents with mode `0700`.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Takes an existing directory of ours to mode `0700`.
fn make_private(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::super::PayloadStore;
    use super::*;

    #[test]
    fn round_trip_with_hash_and_size() {
        use sha2::{Digest, Sha256};
        let dir = tempfile::tempdir().unwrap();
        let store = PayloadStore::open(dir.path()).unwrap();
        let stored = store.put_bytes(b"ISA*00*...~").unwrap();
        assert_eq!(stored.size, 11);
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(b"ISA*00*...~")));
        assert_eq!(store.read(&stored.key).unwrap(), b"ISA*00*...~");
        let mut streamed = Vec::new();
        store
            .open_read(&stored.key)
            .unwrap()
            .read_to_end(&mut streamed)
            .unwrap();
        assert_eq!(streamed, b"ISA*00*...~");
    }

    #[test]
    fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = PayloadStore::open(dir.path()).unwrap();
        for bad in [
            "../../etc/passwd",
            "",
            "ABCDEF0123456789ABCDEF0123456789",
            "zz",
        ] {
            assert!(store.read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unfinished_payload_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = PayloadStore::open(dir.path()).unwrap();
        let mut writer = store.begin().unwrap();
        writer.write_all(b"partial").unwrap();
        drop(writer);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(dir.path().join("objects")).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn payloads_and_directories_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("payloads");
        // an older store, created world-readable
        fs::create_dir_all(root.join("objects")).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        let store = PayloadStore::open(&root).unwrap();
        let stored = store.put_bytes(b"ISA*secret~").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let file = FsBackend { root: root.clone() }.path(&stored.key);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
        for d in [root.clone(), root.join("tmp"), root.join("objects")] {
            assert_eq!(mode(&d), 0o700, "{d:?}");
        }
    }

    #[test]
    fn stale_temporaries_are_removed_and_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = PayloadStore::open(dir.path()).unwrap();
        // a process that died while writing: the temporary stays behind
        let mut crashed = store.begin().unwrap();
        crashed.write_all(b"half a payload").unwrap();
        std::mem::forget(crashed);
        let now = SystemTime::now();
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(store.remove_stale_temporaries(now - hour).unwrap(), 0);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 1);
        assert_eq!(store.remove_stale_temporaries(now + hour).unwrap(), 1);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
