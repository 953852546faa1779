//! The compression layer of the encoder: the entity written through it is deflated (zlib)
//! into a CompressedData (RFC 3274) with BER indefinite lengths, since the compressed
//! length is known only at the end. The input is deflated in fixed-size blocks so that the
//! output does not depend on how the caller cut it.

use flate2::{Compress, FlushCompress, Status};

use crate::cms::{COMPRESSED_TAIL, SegmentWriter, compressed_head};
use crate::error::{Error, Result};
use crate::mime::Headers;

/// The input block handed to zlib at once.
const BLOCK_LEN: usize = 64 * 1024;

/// Compresses the entity written through it.
pub(super) struct CompressLayer {
    /// The `application/pkcs7-mime; smime-type=compressed-data` entity's headers.
    pub(super) headers: Headers,
    deflate: Compress,
    /// Input short of a block.
    input: Vec<u8>,
    /// zlib's output of one call.
    zlib_out: Vec<u8>,
    segments: SegmentWriter,
}

impl std::fmt::Debug for CompressLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompressLayer").finish_non_exhaustive()
    }
}

impl CompressLayer {
    pub(super) fn new() -> Self {
        let mut headers = Headers::new();
        headers.push(
            "Content-Type",
            "application/pkcs7-mime; smime-type=compressed-data; name=\"smime.p7z\"",
        );
        headers.push("Content-Transfer-Encoding", "binary");
        headers.push("Content-Disposition", "attachment; filename=\"smime.p7z\"");
        Self {
            headers,
            deflate: Compress::new(flate2::Compression::default(), true),
            input: Vec::new(),
            zlib_out: Vec::new(),
            segments: SegmentWriter::default(),
        }
    }

    /// The body up to the zlib stream.
    pub(super) fn body_prefix() -> Result<Vec<u8>> {
        compressed_head()
    }

    /// The bytes held between calls (zlib's own window aside).
    pub(super) fn buffered_len(&self) -> usize {
        self.input.capacity() + self.zlib_out.capacity() + self.segments.buffered_len()
    }

    /// Compress the next piece onto `out`.
    pub(super) fn write(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if !self.input.is_empty() {
            let take = (BLOCK_LEN - self.input.len()).min(data.len());
            self.input.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.input.len() < BLOCK_LEN {
                return Ok(());
            }
            let block = std::mem::take(&mut self.input);
            self.deflate_block(&block, FlushCompress::None, out)?;
            self.input = block;
            self.input.clear();
        }
        let mut blocks = data.chunks_exact(BLOCK_LEN);
        for block in blocks.by_ref() {
            self.deflate_block(block, FlushCompress::None, out)?;
        }
        if self.input.capacity() < BLOCK_LEN && !blocks.remainder().is_empty() {
            self.input.reserve_exact(BLOCK_LEN);
        }
        self.input.extend_from_slice(blocks.remainder());
        Ok(())
    }

    /// The rest of the zlib stream and the end of the CompressedData.
    pub(super) fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        let last = std::mem::take(&mut self.input);
        self.deflate_block(&last, FlushCompress::Finish, out)?;
        self.segments.finish(out)?;
        out.extend_from_slice(&COMPRESSED_TAIL);
        Ok(())
    }

    fn deflate_block(
        &mut self,
        mut input: &[u8],
        flush: FlushCompress,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        loop {
            self.zlib_out.clear();
            self.zlib_out.reserve(BLOCK_LEN);
            let before = self.deflate.total_in();
            let status = self
                .deflate
                .compress_vec(input, &mut self.zlib_out, flush)
                .map_err(|e| Error::Crypto(format!("zlib: {e}")))?;
            let used = usize::try_from(self.deflate.total_in() - before).unwrap_or(input.len());
            input = &input[used.min(input.len())..];
            self.segments.write(&self.zlib_out, out)?;
            let done = match flush {
                FlushCompress::Finish => status == Status::StreamEnd,
                _ => input.is_empty() && self.zlib_out.len() < self.zlib_out.capacity(),
            };
            if done {
                return Ok(());
            }
        }
    }
}
