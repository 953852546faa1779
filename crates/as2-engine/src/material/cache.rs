//! The trust material's process-wide caches: parsed certificates and loaded keys by the
//! SHA-256 of their bytes ([`ContentCache`]), and a received message's certificates and key
//! pairs by their id ([`ById`]), so that a message of a known partner reads no certificate.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, OnceLock};

use as2_core::cert::Certificate;
use as2_domain::id::CertificateId;
use as2_store::{Scope, Store};
use sha2::{Digest, Sha256};

use super::{MaterialError, PrivateKey};

/// The most entries a cache holds: cleared when full (a process serves far fewer
/// certificates; a full cache only costs the reads it saved).
const LIMIT: usize = 1024;

/// A process-wide map, bounded: cleared when full.
struct Bounded<K, V> {
    entries: OnceLock<Mutex<HashMap<K, V>>>,
}

impl<K: Eq + Hash, V: Clone> Bounded<K, V> {
    const fn new() -> Self {
        Self {
            entries: OnceLock::new(),
        }
    }

    fn entries(&self) -> &Mutex<HashMap<K, V>> {
        self.entries.get_or_init(|| Mutex::new(HashMap::new()))
    }

    fn get(&self, key: &K) -> Option<V> {
        self.entries().lock().ok()?.get(key).cloned()
    }

    fn insert(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries().lock() {
            if entries.len() >= LIMIT {
                entries.clear();
            }
            entries.insert(key, value);
        }
    }
}

/// Parsed values by the SHA-256 of the bytes they were parsed from: parsing a certificate,
/// or parsing and precomputing a key, costs about as much as using it, and every message
/// would pay it again. Keyed by content, an entry can never serve other bytes, and a deleted
/// certificate's entry is simply never asked for again.
pub(super) struct ContentCache<T> {
    entries: Bounded<[u8; 32], T>,
}

impl<T: Clone> ContentCache<T> {
    pub(super) const fn new() -> Self {
        Self {
            entries: Bounded::new(),
        }
    }

    pub(super) fn get_or_parse(
        &self,
        bytes: &[u8],
        parse: impl FnOnce() -> Result<T, MaterialError>,
    ) -> Result<T, MaterialError> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(hit) = self.entries.get(&digest) {
            return Ok(hit);
        }
        let value = parse()?;
        self.entries.insert(digest, value.clone());
        Ok(value)
    }
}

/// A stored certificate as a received message uses it: parsed, with its private key
/// loaded when it was asked for.
#[derive(Clone)]
pub(super) struct Loaded {
    pub(super) certificate: Certificate,
    /// Its key, when it was read (`None` within: stored without one).
    pub(super) key: Option<Option<PrivateKey>>,
}

/// Certificates by `(store, tenant, mode, id)`. A stored certificate never changes: it is
/// inserted, and later deleted (never updated, and its id never reused: both backends'
/// ids only grow), so an entry can only ever serve the bytes stored under its id. A deleted
/// certificate's entry outlives it but is never asked for: the reception asks for the ids
/// its station's and partner's settings and trust records name, read anew with every
/// message, and a certificate they name cannot be deleted (`delete_unused`). The store's
/// [`Store::instance`] keeps two databases of one process (tests) apart.
pub(super) struct ById {
    entries: Bounded<(u64, i64, &'static str, i64), Loaded>,
}

impl ById {
    pub(super) const fn new() -> Self {
        Self {
            entries: Bounded::new(),
        }
    }

    /// The entry of `id`, if it holds what is asked: with `key`, only one whose key was read.
    pub(super) fn get(
        &self,
        store: &Store,
        scope: Scope,
        id: CertificateId,
        key: bool,
    ) -> Option<Loaded> {
        self.entries
            .get(&(store.instance(), scope.tenant(), scope.mode(), id.0))
            .filter(|loaded| !key || loaded.key.is_some())
    }

    pub(super) fn insert(&self, store: &Store, scope: Scope, id: CertificateId, loaded: Loaded) {
        self.entries.insert(
            (store.instance(), scope.tenant(), scope.mode(), id.0),
            loaded,
        );
    }
}
