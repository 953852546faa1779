//! A payload on its way in whose size is not known up front: kept in memory while it is at
//! most the store's inline limit (then it goes into the message's row, no object), spilled
//! into a [`PayloadWriter`] as soon as it grows past it.

use std::io::{self, Write};

use as2_domain::message::PayloadRef;
use sha2::{Digest, Sha256};

use super::{PayloadStore, PayloadWriter};

/// A payload being received or uploaded; [`PayloadSpool::finish`] says where it ended up,
/// dropping it discards it (nothing visible in the store).
#[derive(Debug)]
pub struct PayloadSpool {
    store: PayloadStore,
    /// The bytes while they fit the inline limit.
    memory: Vec<u8>,
    /// The object once they did not.
    object: Option<PayloadWriter>,
}

/// Where a finished spool's payload is, its size and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpooledPayload {
    /// An object of the store (finished: durable and complete) or the bytes themselves.
    pub payload: PayloadRef,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

impl PayloadSpool {
    pub(super) fn new(store: PayloadStore) -> Self {
        Self {
            store,
            memory: Vec::new(),
            object: None,
        }
    }

    /// The payload's bytes are all there: an inline payload as it is, an object made
    /// durable and complete ([`PayloadWriter::finish`]).
    ///
    /// # Errors
    /// The backend failed; nothing is visible then.
    pub fn finish(self) -> io::Result<SpooledPayload> {
        let object = match self.object {
            // a limit of 0 keeps every payload an object, the empty one too
            None if self.store.inline_limit == 0 => Some(self.store.begin()?),
            object => object,
        };
        match object {
            Some(object) => {
                let stored = object.finish()?;
                Ok(SpooledPayload {
                    payload: PayloadRef::Object(stored.key),
                    size: stored.size,
                    sha256: stored.sha256,
                })
            }
            None => Ok(SpooledPayload {
                size: self.memory.len() as u64,
                sha256: hex::encode(Sha256::digest(&self.memory)),
                payload: PayloadRef::Inline(self.memory),
            }),
        }
    }
}

impl Write for PayloadSpool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(object) = &mut self.object {
            return object.write(buf);
        }
        let limit = self.store.inline_limit;
        let fits = limit > 0 && (self.memory.len() + buf.len()) as u64 <= limit;
        if fits {
            self.memory.extend_from_slice(buf);
            return Ok(buf.len());
        }
        let mut object = self.store.begin()?;
        object.write_all(&self.memory)?;
        self.memory = Vec::new();
        object.write_all(buf)?;
        self.object = Some(object);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(limit: u64) -> (tempfile::TempDir, PayloadStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = PayloadStore::open(dir.path())
            .unwrap()
            .with_inline_limit(limit);
        (dir, store)
    }

    fn objects(dir: &tempfile::TempDir) -> usize {
        walk(&dir.path().join("objects"))
    }

    fn walk(path: &std::path::Path) -> usize {
        std::fs::read_dir(path).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }

    #[test]
    fn a_payload_up_to_the_limit_stays_in_memory() {
        let (dir, store) = store(10);
        let mut spool = store.spool();
        spool.write_all(b"12345").unwrap();
        spool.write_all(b"67890").unwrap();
        let done = spool.finish().unwrap();
        assert_eq!(done.payload, PayloadRef::Inline(b"1234567890".to_vec()));
        assert_eq!(done.size, 10);
        assert_eq!(done.sha256, hex::encode(Sha256::digest(b"1234567890")));
        assert_eq!(objects(&dir), 0);
    }

    #[test]
    fn a_payload_past_the_limit_becomes_an_object_with_every_byte() {
        let (dir, store) = store(10);
        let mut spool = store.spool();
        spool.write_all(b"123456").unwrap();
        spool.write_all(b"789012").unwrap();
        spool.write_all(b"345").unwrap();
        let done = spool.finish().unwrap();
        let PayloadRef::Object(key) = &done.payload else {
            panic!("expected an object, got {:?}", done.payload);
        };
        assert_eq!(store.read(key).unwrap(), b"123456789012345");
        assert_eq!(done.size, 15);
        assert_eq!(done.sha256, hex::encode(Sha256::digest(b"123456789012345")));
        assert_eq!(objects(&dir), 1);
    }

    #[test]
    fn a_limit_of_zero_keeps_every_payload_an_object_the_empty_one_too() {
        let (dir, store) = store(0);
        let mut spool = store.spool();
        spool.write_all(b"x").unwrap();
        assert!(matches!(
            spool.finish().unwrap().payload,
            PayloadRef::Object(_)
        ));
        let empty = store.spool().finish().unwrap();
        let PayloadRef::Object(key) = &empty.payload else {
            panic!("expected an object, got {:?}", empty.payload);
        };
        assert_eq!(store.read(key).unwrap(), b"");
        assert_eq!(objects(&dir), 2);
    }

    #[test]
    fn a_dropped_spool_leaves_no_object() {
        let (dir, store) = store(4);
        let mut spool = store.spool();
        spool.write_all(b"more than four").unwrap();
        drop(spool);
        assert_eq!(objects(&dir), 0);
    }
}
