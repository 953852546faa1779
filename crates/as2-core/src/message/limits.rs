//! What one inbound message may cost before any signature is checked: the total bytes
//! inflated from its compressed layers and the bounds of every MIME entity in it.

use crate::cms::DEFAULT_MAX_DECOMPRESSED;
use crate::mime::MimeLimits;

/// The resource limits of [`super::parse_inbound`]; exceeding one is
/// [`crate::Error::LimitExceeded`]. Build with [`Self::new`] and the `with_` setters:
///
/// ```
/// use as2_core::message::{InboundConfig, InboundLimits};
/// use as2_core::mime::MimeLimits;
/// // a tenant whose messages are at most 50 MiB: inflate no more than 4 times that
/// let limits = InboundLimits::new()
///     .with_max_decompressed_total(4 * (50 << 20))
///     .with_mime(MimeLimits::new().with_max_parts(100));
/// let provider = &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
/// let cfg = InboundConfig::new(provider, &[], &[]).with_limits(limits);
/// assert_eq!(cfg.limits.mime.max_parts, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct InboundLimits {
    /// Bytes inflated from every CompressedData layer of the message together; the
    /// inflation stops as soon as they are exceeded (disposition `decompression-failed`).
    /// Default [`DEFAULT_MAX_DECOMPRESSED`] (1 GiB).
    pub max_decompressed_total: u64,
    /// The bounds of every MIME entity of the message, the decrypted and decompressed ones
    /// included (disposition `unsupported format`). Default [`MimeLimits::default`].
    pub mime: MimeLimits,
    /// The most bytes the streaming [`super::InboundDecoder`] holds to read something
    /// whole: a CMS field before or after the content (the recipients), the signature
    /// part, the content when several of our keys may open it. Beyond it:
    /// [`crate::Limit::BufferedBytes`] (disposition `unsupported format`). Default
    /// [`DEFAULT_MAX_BUFFERED`] (1 MiB). [`super::parse_inbound`], which holds the whole
    /// body anyway, does not apply it.
    pub max_buffered: usize,
}

/// The default of [`InboundLimits::max_buffered`]: 1 MiB.
pub const DEFAULT_MAX_BUFFERED: usize = 1 << 20;

impl Default for InboundLimits {
    fn default() -> Self {
        Self {
            max_decompressed_total: DEFAULT_MAX_DECOMPRESSED,
            mime: MimeLimits::default(),
            max_buffered: DEFAULT_MAX_BUFFERED,
        }
    }
}

impl InboundLimits {
    /// The defaults: 1 GiB decompressed in total, the default [`MimeLimits`], 1 MiB
    /// buffered.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Set [`Self::max_decompressed_total`].
    #[must_use]
    pub fn with_max_decompressed_total(mut self, bytes: u64) -> Self {
        self.max_decompressed_total = bytes;
        self
    }

    /// Set [`Self::max_buffered`].
    #[must_use]
    pub fn with_max_buffered(mut self, bytes: usize) -> Self {
        self.max_buffered = bytes;
        self
    }

    /// Set [`Self::mime`].
    #[must_use]
    pub fn with_mime(mut self, mime: MimeLimits) -> Self {
        self.mime = mime;
        self
    }
}
