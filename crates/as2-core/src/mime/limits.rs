//! Bounds on what parsing one MIME entity may cost: header lines, header block bytes and
//! multipart parts, so that a stranger's message cannot make the parser allocate without end.

/// The default of [`MimeLimits::max_header_lines`]: 1,000 lines.
pub const DEFAULT_MAX_HEADER_LINES: usize = 1_000;
/// The default of [`MimeLimits::max_header_bytes`]: 64 KiB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 << 10;
/// The default of [`MimeLimits::max_parts`]: 1,000 parts.
pub const DEFAULT_MAX_PARTS: usize = 1_000;

/// Limits applied to every MIME entity parsed, and to the parts of its parts. Exceeding one
/// is [`crate::Error::LimitExceeded`] (disposition `unsupported format`).
///
/// ```
/// use as2_core::mime::MimeLimits;
/// let limits = MimeLimits::new().with_max_header_lines(100).with_max_parts(10);
/// assert_eq!(limits.max_header_lines, 100);
/// assert_eq!(limits.max_header_bytes, as2_core::mime::DEFAULT_MAX_HEADER_BYTES);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MimeLimits {
    /// Lines (folded continuation lines included) in one header block.
    pub max_header_lines: usize,
    /// Bytes in one header block, without the blank line that ends it.
    pub max_header_bytes: usize,
    /// Parts in one multipart body.
    pub max_parts: usize,
}

impl Default for MimeLimits {
    fn default() -> Self {
        Self {
            max_header_lines: DEFAULT_MAX_HEADER_LINES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_parts: DEFAULT_MAX_PARTS,
        }
    }
}

impl MimeLimits {
    /// The defaults: 1,000 header lines, 64 KiB of header block, 1,000 parts.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Set [`Self::max_header_lines`].
    #[must_use]
    pub fn with_max_header_lines(mut self, lines: usize) -> Self {
        self.max_header_lines = lines;
        self
    }

    /// Set [`Self::max_header_bytes`].
    #[must_use]
    pub fn with_max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }

    /// Set [`Self::max_parts`].
    #[must_use]
    pub fn with_max_parts(mut self, parts: usize) -> Self {
        self.max_parts = parts;
        self
    }
}
