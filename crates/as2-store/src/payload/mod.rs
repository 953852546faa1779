//! The payload store: where message payloads and partners' MDNs live, behind one handle over
//! a [`PayloadBackend`]: the local file system here (`fs`, the embedded default) or any
//! S3-compatible object store (the `as2-payload-s3` crate, which also reads the setting that
//! chooses between them, `AS2_PAYLOAD_STORE`).
//!
//! The interface is synchronous (callers run on blocking threads) and streamed both ways: a
//! [`PayloadWriter`] takes the bytes as they come (bounded memory on both backends) and
//! computes SHA-256 and size on the way; [`PayloadWriter::finish`] returns only once the
//! payload is durable and complete (file fsynced and renamed into place, directory fsynced;
//! the S3 PUT or the multipart upload completed). Nothing is visible under its key before
//! that, and a writer dropped unfinished leaves nothing visible. The gateway relies on it: a
//! payload is finished before the row that names it is inserted and before any positive MDN.
//!
//! Keys are 32 lowercase hex characters chosen here; anything else is refused before it
//! reaches a backend. Backends file a key under `objects/<first two hex>/<key>`: the two hex
//! digits are the shards the orphan sweep (`crate::orphans`) walks one at a time.
//!
//! A payload at most [`PayloadStore::inline_limit`] long (`AS2_INLINE_PAYLOAD_BYTES`, 64 KiB
//! by default) need not be an object at all: a [`PayloadSpool`] keeps it in memory and the
//! message's row holds it ([`PayloadRef::Inline`]); readers open either kind of
//! [`PayloadRef`] with [`PayloadStore::open_ref`].

mod fs;
mod spool;

pub use spool::{PayloadSpool, SpooledPayload};

use std::fmt::Debug;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use as2_domain::message::PayloadRef;
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

/// A stored object as a listing shows it (for the orphan sweep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPayload {
    /// Its key.
    pub key: String,
    /// When it was written (the file's modification time; the object's `Last-Modified`).
    pub modified: SystemTime,
}

/// Where payloads are kept. Every key a backend is handed has been checked (32 lowercase
/// hex characters); listings may hold foreign names, which a backend skips (see
/// [`is_key`]).
pub trait PayloadBackend: Send + Sync + Debug {
    /// Where the payloads are, for a log line (never a credential).
    fn describe(&self) -> String;
    /// Starts writing the payload `key`; nothing is visible under it before `finish`.
    ///
    /// # Errors
    /// The backend failed.
    fn begin(&self, key: &str) -> io::Result<Box<dyn BackendWriter>>;
    /// Opens a payload for streamed reading; `NotFound` if there is none.
    ///
    /// # Errors
    /// No such payload, or the backend failed.
    fn open_read(&self, key: &str) -> io::Result<Box<dyn Read + Send>>;
    /// Reads a whole payload; `NotFound` if there is none.
    ///
    /// # Errors
    /// No such payload, or the backend failed.
    fn read(&self, key: &str) -> io::Result<Vec<u8>>;
    /// Removes payloads; missing ones are fine.
    ///
    /// # Errors
    /// The backend failed.
    fn delete_many(&self, keys: &[String]) -> io::Result<()>;
    /// The finished payloads whose keys start with `shard` (two hex digits).
    ///
    /// # Errors
    /// The backend failed.
    fn list(&self, shard: &str) -> io::Result<Vec<ListedPayload>>;
    /// Removes unfinished temporaries written before `cutoff`; how many.
    ///
    /// # Errors
    /// The backend failed.
    fn remove_stale_temporaries(&self, cutoff: SystemTime) -> io::Result<usize>;
}

/// A payload on its way into a backend; dropping it unfinished discards it.
pub trait BackendWriter: Send + Debug {
    /// Takes the next bytes.
    ///
    /// # Errors
    /// The backend failed.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Makes the payload durable and complete, then visible under its key.
    ///
    /// # Errors
    /// The backend failed; nothing is visible then.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// The payload store: a cheap-to-clone handle over one backend.
#[derive(Debug, Clone)]
pub struct PayloadStore {
    backend: Arc<dyn PayloadBackend>,
    /// The largest payload a [`PayloadSpool`] keeps inline (0: none).
    inline_limit: u64,
}

/// The default of `AS2_INLINE_PAYLOAD_BYTES`: payloads up to 64 KiB are kept in their row.
pub const DEFAULT_INLINE_PAYLOAD_BYTES: u64 = 64 * 1024;
/// The largest inline limit a store takes: a payload is held in memory up to the limit before
/// the message is authenticated, so the limit stays within what the gateway reserves for a
/// message in flight (its transit share of 2 MiB), whatever the setting.
pub const MAX_INLINE_PAYLOAD_BYTES: u64 = 1024 * 1024;

/// A payload being written; `finish` makes it durable, dropping it discards it.
#[derive(Debug)]
pub struct PayloadWriter {
    sink: Option<Box<dyn BackendWriter>>,
    key: String,
    hasher: Sha256,
    size: u64,
}

/// The shards of the key space: the first two hex digits of a key.
pub const SHARDS: usize = 256;

impl PayloadStore {
    /// A store on the local file system under `root` (created if missing); the root, `tmp/`
    /// and `objects/` are made private to the process's user (`0700`).
    ///
    /// # Errors
    /// The directories cannot be created or their modes set.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        Ok(Self::with_backend(Arc::new(fs::FsBackend::open(
            root.into(),
        )?)))
    }

    /// A store over `backend` (an S3 bucket, from `as2-payload-s3`).
    pub fn with_backend(backend: Arc<dyn PayloadBackend>) -> Self {
        Self {
            backend,
            inline_limit: DEFAULT_INLINE_PAYLOAD_BYTES,
        }
    }

    /// The same store keeping payloads of at most `bytes` inline (0: every payload is an
    /// object).
    #[must_use]
    pub fn with_inline_limit(mut self, bytes: u64) -> Self {
        self.inline_limit = bytes;
        self
    }

    /// The largest payload kept inline (0: none).
    pub fn inline_limit(&self) -> u64 {
        self.inline_limit
    }

    /// Starts a payload of unknown size: inline while it fits the inline limit, an object
    /// beyond it.
    pub fn spool(&self) -> PayloadSpool {
        PayloadSpool::new(self.clone())
    }

    /// Opens a payload wherever it is, for streamed reading.
    ///
    /// # Errors
    /// As [`Self::open_read`] for an object; an inline payload always opens.
    pub fn open_ref(&self, payload: &PayloadRef) -> io::Result<Box<dyn Read + Send>> {
        match payload {
            PayloadRef::Object(key) => self.open_read(key),
            PayloadRef::Inline(bytes) => Ok(Box::new(io::Cursor::new(bytes.clone()))),
        }
    }

    /// Reads a whole payload wherever it is.
    ///
    /// # Errors
    /// As [`Self::read`] for an object; an inline payload always reads.
    pub fn read_ref(&self, payload: &PayloadRef) -> io::Result<Vec<u8>> {
        match payload {
            PayloadRef::Object(key) => self.read(key),
            PayloadRef::Inline(bytes) => Ok(bytes.clone()),
        }
    }

    /// Removes a payload that will not be recorded: its object (an inline one has none).
    ///
    /// # Errors
    /// As [`Self::delete`].
    pub fn discard(&self, payload: &PayloadRef) -> io::Result<()> {
        match payload {
            PayloadRef::Object(key) => self.delete(key),
            PayloadRef::Inline(_) => Ok(()),
        }
    }

    /// Where the payloads are, for a log line: a directory or `s3://bucket/prefix` (never a
    /// credential).
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Starts a new payload.
    ///
    /// # Errors
    /// The temporary file cannot be created.
    pub fn begin(&self) -> io::Result<PayloadWriter> {
        let bytes: [u8; 16] = rand::rng().random();
        let key = hex::encode(bytes);
        let sink = self.backend.begin(&key)?;
        Ok(PayloadWriter {
            sink: Some(sink),
            key,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Stores everything `reader` yields.
    ///
    /// # Errors
    /// Reading `reader` or writing the payload failed; nothing is stored then.
    pub fn put(&self, mut reader: impl Read) -> io::Result<StoredPayload> {
        let mut writer = self.begin()?;
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            writer.write_all(&buffer[..n])?;
        }
        writer.finish()
    }

    /// Stores `bytes`.
    ///
    /// # Errors
    /// Writing the payload failed; nothing is stored then.
    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<StoredPayload> {
        self.put(bytes)
    }

    /// Opens a payload for streamed reading (S3: one GET whose body is read as it comes).
    ///
    /// # Errors
    /// Not a key, no such payload (`NotFound`), or the backend failed.
    pub fn open_read(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        check_key(key)?;
        self.backend.open_read(key)
    }

    /// Reads a whole payload.
    ///
    /// # Errors
    /// As [`Self::open_read`].
    pub fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        check_key(key)?;
        self.backend.read(key)
    }

    /// Removes a payload (missing is fine).
    ///
    /// # Errors
    /// Not a key, or the backend failed.
    pub fn delete(&self, key: &str) -> io::Result<()> {
        check_key(key)?;
        self.backend.delete_many(&[key.to_owned()])
    }

    /// Removes several payloads (missing ones are fine): one request per thousand on S3.
    ///
    /// # Errors
    /// Not a key (then nothing is removed), or the backend failed.
    pub fn delete_many(&self, keys: &[String]) -> io::Result<()> {
        for key in keys {
            check_key(key)?;
        }
        self.backend.delete_many(keys)
    }

    /// The finished payloads of one shard (keys starting with the two hex digits of
    /// `shard`), with when each was written.
    ///
    /// # Errors
    /// The backend failed.
    pub fn list_shard(&self, shard: u8) -> io::Result<Vec<ListedPayload>> {
        self.backend.list(&format!("{shard:02x}"))
    }

    /// Removes unfinished temporaries written before `cutoff` (a process that died while
    /// writing): `tmp/*.part` on the file system; none on S3, where an unfinished multipart
    /// upload is invisible and the bucket's lifecycle rule removes it (docs/OPERATIONS.md).
    ///
    /// # Errors
    /// The temporary directory cannot be read.
    pub fn remove_stale_temporaries(&self, cutoff: SystemTime) -> io::Result<usize> {
        self.backend.remove_stale_temporaries(cutoff)
    }
}

impl Write for PayloadWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink
            .as_mut()
            .ok_or_else(|| io::Error::other("payload already finished"))?
            .write_all(buf)?;
        self.hasher.update(buf);
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl PayloadWriter {
    /// The key the payload will have.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Makes the payload durable and complete, then visible under its key: fsync, rename
    /// and directory fsync on the file system; the PUT or the multipart upload completed on
    /// S3.
    ///
    /// # Errors
    /// The backend failed; the payload is discarded then.
    pub fn finish(mut self) -> io::Result<StoredPayload> {
        self.sink
            .take()
            .ok_or_else(|| io::Error::other("payload already finished"))?
            .finish()?;
        Ok(StoredPayload {
            key: std::mem::take(&mut self.key),
            size: self.size,
            sha256: hex::encode(std::mem::take(&mut self.hasher).finalize()),
        })
    }
}

/// Refuses anything that is not a key this store made (32 lowercase hex characters), so no
/// key reaches a path or an object name outside the store.
fn check_key(key: &str) -> io::Result<()> {
    if key.len() == 32
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a payload key",
        ))
    }
}

/// Whether `name` is a key (for listings, which may hold foreign objects).
pub fn is_key(name: &str) -> bool {
    check_key(name).is_ok()
}
