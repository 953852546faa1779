//! [`SharedBytes`]: a cheap, shareable view of bytes held in an entity's buffer.

use std::ops::{Deref, Range};
use std::sync::Arc;

/// Bytes that may be a view of a buffer shared with other values (an entity and its parts):
/// an identity-encoded (binary) payload is handed out this way instead of being copied.
/// Reads like a `[u8]` (`Deref`, `AsRef`, comparisons with slices, arrays and `Vec<u8>`);
/// [`Self::into_vec`] gives an owned `Vec<u8>`, without a copy when nothing else shares it.
/// Keeping one alive keeps the whole buffer it views alive.
#[derive(Clone, Default)]
pub struct SharedBytes {
    buf: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl SharedBytes {
    /// A view of `range` of a shared buffer (`range` lies within it).
    pub(crate) fn view(buf: Arc<Vec<u8>>, range: Range<usize>) -> Self {
        debug_assert!(range.start <= range.end && range.end <= buf.len());
        Self { buf, range }
    }

    /// The bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[self.range.clone()]
    }

    /// The bytes as an owned vector: no copy when this is the whole buffer and nothing
    /// else shares it, a copy otherwise.
    #[must_use]
    pub fn into_vec(self) -> Vec<u8> {
        let Self { buf, range } = self;
        if range.start == 0 && range.end == buf.len() {
            Arc::try_unwrap(buf).unwrap_or_else(|shared| shared.as_slice().to_vec())
        } else {
            buf[range].to_vec()
        }
    }
}

impl Deref for SharedBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::borrow::Borrow<[u8]> for SharedBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl From<Vec<u8>> for SharedBytes {
    fn from(v: Vec<u8>) -> Self {
        let len = v.len();
        Self {
            buf: Arc::new(v),
            range: 0..len,
        }
    }
}

impl From<&[u8]> for SharedBytes {
    fn from(v: &[u8]) -> Self {
        Self::from(v.to_vec())
    }
}

impl From<SharedBytes> for Vec<u8> {
    fn from(b: SharedBytes) -> Self {
        b.into_vec()
    }
}

impl PartialEq for SharedBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SharedBytes {}

impl std::hash::Hash for SharedBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialEq<[u8]> for SharedBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for SharedBytes {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialEq<Vec<u8>> for SharedBytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> PartialEq<[u8; N]> for SharedBytes {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for SharedBytes {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialEq<SharedBytes> for [u8] {
    fn eq(&self, other: &SharedBytes) -> bool {
        self == other.as_slice()
    }
}

impl PartialEq<SharedBytes> for &[u8] {
    fn eq(&self, other: &SharedBytes) -> bool {
        *self == other.as_slice()
    }
}

impl PartialEq<SharedBytes> for Vec<u8> {
    fn eq(&self, other: &SharedBytes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    #[test]
    fn views_compare_and_convert() {
        let buf = Arc::new(b"head:body".to_vec());
        let v = SharedBytes::view(Arc::clone(&buf), 5..9);
        assert_eq!(v, b"body");
        assert_eq!(v, *b"body");
        assert_eq!(v, b"body".to_vec());
        assert_eq!(v, b"body".as_slice());
        assert_eq!(b"body".to_vec(), v);
        assert_eq!(b"body".as_slice(), v);
        assert_eq!(v.len(), 4);
        assert!(v.starts_with(b"bo"));
        assert_eq!(format!("{v:?}"), format!("{:?}", b"body".as_slice()));
        assert_eq!(v, SharedBytes::from(b"body".as_slice()));
        assert_eq!(v.to_vec(), b"body");
        assert_eq!(v.clone().into_vec(), b"body");
        // the whole buffer, shared: copied; unshared: moved out
        let whole = SharedBytes::view(Arc::clone(&buf), 0..9);
        assert_eq!(whole.into_vec(), b"head:body");
        drop(v);
        let only = SharedBytes::view(buf, 0..9);
        assert_eq!(Vec::from(only), b"head:body");
        assert!(SharedBytes::default().is_empty());
    }
}
