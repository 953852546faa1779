//! The payload store on the local file system: streamed writes to a temporary file, fsync,
//! rename into place, directory fsync; SHA-256 and size computed on the way; streamed reads.
//!
//! A payload that is `finish`ed is on disk: this is what lets the gateway send a positive
//! MDN only for data that survives a crash.
//!
//! Payloads are business documents: files are created `0600` and directories `0700`, and
//! opening the store takes its root, `tmp/` and `objects/` to `0700` (so files written by an
//! older version are out of other users' reach too).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rand::RngExt;
use sha2::{Digest, Sha256};

/// What a stored payload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPayload {
    /// The key to read it back.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// Payloads under a root directory: `objects/ab/<key>`, temporaries under `tmp/`.
#[derive(Debug, Clone)]
pub struct PayloadStore {
    root: PathBuf,
}

/// A payload being written; `finish` makes it durable, dropping it discards it.
#[derive(Debug)]
pub struct PayloadWriter {
    file: Option<File>,
    tmp: PathBuf,
    target: PathBuf,
    key: String,
    hasher: Sha256,
    size: u64,
}

impl PayloadStore {
    /// A store under `root` (created if missing); the root, `tmp/` and `objects/` are made
    /// private to the gateway's user (`0700`).
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        for dir in [root.join("tmp"), root.join("objects")] {
            create_private_dir(&dir)?;
        }
        for dir in [root.clone(), root.join("tmp"), root.join("objects")] {
            make_private(&dir)?;
        }
        Ok(Self { root })
    }

    /// Starts a new payload.
    pub fn begin(&self) -> io::Result<PayloadWriter> {
        let bytes: [u8; 16] = rand::rng().random();
        let key = hex::encode(bytes);
        let tmp = self.root.join("tmp").join(format!("{key}.part"));
        let mut options = File::options();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&tmp)?;
        Ok(PayloadWriter {
            file: Some(file),
            tmp,
            target: self.path(&key)?,
            key,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Stores everything `reader` yields.
    pub fn put(&self, mut reader: impl Read) -> io::Result<StoredPayload> {
        let mut writer = self.begin()?;
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            writer.write_all(&buffer[..n])?;
        }
        writer.finish()
    }

    /// Stores `bytes`.
    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<StoredPayload> {
        self.put(bytes)
    }

    /// Opens a payload for streamed reading.
    pub fn open_read(&self, key: &str) -> io::Result<File> {
        File::open(self.path(key)?)
    }

    /// Reads a whole payload.
    pub fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        fs::read(self.path(key)?)
    }

    /// Removes a payload (missing is fine).
    pub fn delete(&self, key: &str) -> io::Result<()> {
        match fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if key.len() != 32
            || !key
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a payload key",
            ));
        }
        Ok(self.root.join("objects").join(&key[..2]).join(key))
    }
}

impl Write for PayloadWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("payload already finished"))?;
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl PayloadWriter {
    /// Makes the payload durable: fsync the file, rename it into place, fsync the directory.
    pub fn finish(mut self) -> io::Result<StoredPayload> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("payload already finished"))?;
        file.sync_all()?;
        drop(file);
        let dir = self
            .target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        create_private_dir(&dir)?;
        fs::rename(&self.tmp, &self.target)?;
        File::open(&dir)?.sync_all()?;
        Ok(StoredPayload {
            key: std::mem::take(&mut self.key),
            size: self.size,
            sha256: hex::encode(std::mem::take(&mut self.hasher).finalize()),
        })
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

impl Drop for PayloadWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, PayloadStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = PayloadStore::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn round_trip_with_hash_and_size() {
        let (_dir, store) = store();
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
    fn an_unfinished_payload_leaves_nothing() {
        let (dir, store) = store();
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
        let file = store.path(&stored.key).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
        for d in [root.clone(), root.join("tmp"), root.join("objects")] {
            assert_eq!(mode(&d), 0o700, "{d:?}");
        }
    }

    #[test]
    fn keys_cannot_escape_the_root() {
        let (_dir, store) = store();
        for bad in [
            "../../etc/passwd",
            "",
            "ABCDEF0123456789ABCDEF0123456789",
            "zz",
        ] {
            assert!(store.read(bad).is_err());
        }
    }
}
