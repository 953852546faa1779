//! The byte queue between two stages of the decoder: appended at the back, consumed from
//! the front, compacted so that it never holds more than what is still unread (plus what
//! one append adds).

/// A FIFO of bytes.
#[derive(Debug, Default)]
pub(crate) struct Buf {
    data: Vec<u8>,
    start: usize,
}

impl Buf {
    /// The unread bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.data[self.start..]
    }

    /// How many bytes are unread.
    pub(crate) fn len(&self) -> usize {
        self.data.len() - self.start
    }

    /// Nothing unread.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drop the first `n` unread bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.data.len());
        if self.start == self.data.len() {
            self.data.clear();
            self.start = 0;
        }
    }

    /// Keep only the first `n` unread bytes.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.data.truncate(self.start + n);
    }

    /// Append bytes.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.compact();
        self.data.extend_from_slice(bytes);
    }

    /// The vector to append to directly (after the unread bytes).
    pub(crate) fn tail(&mut self) -> &mut Vec<u8> {
        self.compact();
        &mut self.data
    }

    /// The allocation held (what [`super::InboundDecoder::buffered_len`] counts).
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// Move the unread bytes to the front when the consumed prefix is large.
    fn compact(&mut self) {
        if self.start > 0 && self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo() {
        let mut b = Buf::default();
        b.extend(b"hello");
        b.consume(2);
        assert_eq!(b.as_slice(), b"llo");
        b.extend(b"!");
        assert_eq!(b.as_slice(), b"llo!");
        b.consume(10);
        assert!(b.is_empty());
        b.tail().extend_from_slice(b"x");
        assert_eq!(b.len(), 1);
    }
}
