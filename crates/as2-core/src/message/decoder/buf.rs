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

    /// The unread bytes, to change in place (a decryption).
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.data[self.start..]
    }

    /// The whole allocation and where the unread bytes start in it: the bytes before
    /// `start` were consumed but are still there (what `parse_inbound` checks before it
    /// takes the payload queue over as the payload entity's buffer).
    pub(crate) fn into_parts(self) -> (Vec<u8>, usize) {
        (self.data, self.start)
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
        b.extend(b"yz");
        b.consume(1);
        b.as_mut_slice()[0] = b'Y';
        assert_eq!(b.into_parts(), (b"xYz".to_vec(), 1));
    }
}
