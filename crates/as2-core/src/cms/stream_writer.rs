//! Writing CMS framing around content that passes in chunks: DER headers when the content
//! length is known up front, BER indefinite lengths (RFC 5652 §6.1 allows them; OpenSSL's
//! `-stream` and BouncyCastle's stream generators write them) when it is not, with the
//! content as a constructed OCTET STRING of fixed-size segments, so that the bytes do not
//! depend on how the caller cut the input. Also the CompressedData framing of a zlib stream.

use der::{Encode as _, Header, Length, Tag, TagNumber};

use crate::crypto::oids;
use crate::error::Result;

/// The size of every segment of a constructed OCTET STRING but the last.
pub(crate) const SEGMENT_LEN: usize = 16 * 1024;

/// The BER end-of-contents octets closing an indefinite length.
pub(crate) const END_OF_CONTENTS: [u8; 2] = [0, 0];

/// A DER header: `tag` and the definite length `len`.
pub(crate) fn der_header(tag: Tag, len: u64) -> Result<Vec<u8>> {
    let len = Length::try_from(
        usize::try_from(len).map_err(|_| der::Error::from(der::ErrorKind::Overflow))?,
    )?;
    Ok(Header::new(tag, len).to_der()?)
}

/// The length of a DER TLV with `content_len` bytes of content.
pub(crate) fn der_tlv_len(tag: Tag, content_len: u64) -> Result<u64> {
    Ok(der_header(tag, content_len)?.len() as u64 + content_len)
}

/// BER headers with an indefinite length: SEQUENCE, `[0]` (constructed) and a constructed
/// OCTET STRING.
pub(crate) const SEQUENCE_INDEFINITE: [u8; 2] = [0x30, 0x80];
/// `[0]`, constructed, indefinite length.
pub(crate) const CONTEXT_0_INDEFINITE: [u8; 2] = [0xa0, 0x80];
/// A constructed OCTET STRING of indefinite length.
pub(crate) const OCTET_STRING_INDEFINITE: [u8; 2] = [0x24, 0x80];

/// `[0]` in context-specific class, constructed or not.
pub(crate) fn context_0(constructed: bool) -> Tag {
    Tag::ContextSpecific {
        constructed,
        number: TagNumber(0),
    }
}

/// Content written as the segments of a constructed OCTET STRING (or of an IMPLICIT
/// `[0]` one): whole [`SEGMENT_LEN`] segments as soon as they are complete, the rest at
/// [`Self::finish`]. Holds less than one segment.
#[derive(Debug, Default)]
pub(crate) struct SegmentWriter {
    partial: Vec<u8>,
}

impl SegmentWriter {
    /// The bytes held (less than one segment).
    pub(crate) fn buffered_len(&self) -> usize {
        self.partial.len()
    }

    /// Write `data`: every completed segment goes onto `out`.
    pub(crate) fn write(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if !self.partial.is_empty() {
            let take = (SEGMENT_LEN - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() < SEGMENT_LEN {
                return Ok(());
            }
            segment(&self.partial, out)?;
            self.partial.clear();
        }
        let mut whole = data.chunks_exact(SEGMENT_LEN);
        for s in whole.by_ref() {
            segment(s, out)?;
        }
        self.partial.extend_from_slice(whole.remainder());
        Ok(())
    }

    /// The last (short) segment, if any.
    pub(crate) fn finish(self, out: &mut Vec<u8>) -> Result<()> {
        if self.partial.is_empty() {
            Ok(())
        } else {
            segment(&self.partial, out)
        }
    }
}

fn segment(data: &[u8], out: &mut Vec<u8>) -> Result<()> {
    out.extend_from_slice(&der_header(Tag::OctetString, data.len() as u64)?);
    out.extend_from_slice(data);
    Ok(())
}

/// The CompressedData ContentInfo in BER up to its zlib stream (RFC 3274): the segments of
/// the stream follow, then [`COMPRESSED_TAIL`].
pub(crate) fn compressed_head() -> Result<Vec<u8>> {
    let alg = spki::AlgorithmIdentifierOwned {
        oid: oids::ZLIB_COMPRESS,
        parameters: None,
    };
    Ok([
        SEQUENCE_INDEFINITE.as_slice(),
        &oids::COMPRESSED_DATA.to_der()?,
        &CONTEXT_0_INDEFINITE,
        &SEQUENCE_INDEFINITE,
        &cms::content_info::CmsVersion::V0.to_der()?,
        &alg.to_der()?,
        &SEQUENCE_INDEFINITE,
        &oids::DATA.to_der()?,
        &CONTEXT_0_INDEFINITE,
        &OCTET_STRING_INDEFINITE,
    ]
    .concat())
}

/// Closes what [`compressed_head`] opened: the OCTET STRING, `[0]`, the
/// EncapsulatedContentInfo, the CompressedData, `[0]` and the ContentInfo.
pub(crate) const COMPRESSED_TAIL: [u8; 12] = [0; 12];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_do_not_depend_on_the_cuts() {
        let data: Vec<u8> = (0..(3 * SEGMENT_LEN + 100))
            .map(|i| (i % 253) as u8)
            .collect();
        let whole = {
            let mut w = SegmentWriter::default();
            let mut out = Vec::new();
            w.write(&data, &mut out).unwrap();
            w.finish(&mut out).unwrap();
            out
        };
        for piece in [1, 1000, SEGMENT_LEN - 1, SEGMENT_LEN, SEGMENT_LEN + 1] {
            let mut w = SegmentWriter::default();
            let mut out = Vec::new();
            for p in data.chunks(piece) {
                w.write(p, &mut out).unwrap();
                assert!(w.buffered_len() < SEGMENT_LEN);
            }
            w.finish(&mut out).unwrap();
            assert_eq!(out, whole, "{piece}");
        }
        // 3 whole segments (4-byte headers) and one of 100 bytes (2-byte header)
        assert_eq!(whole.len(), data.len() + 3 * 4 + 2);
    }

    #[test]
    fn a_streamed_compressed_data_decompresses() {
        use std::io::Write as _;
        let content = b"Content-Type: text/plain\r\n\r\nhello hello hello".repeat(2000);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&content).unwrap();
        let z = z.finish().unwrap();
        let mut out = compressed_head().unwrap();
        let mut w = SegmentWriter::default();
        w.write(&z, &mut out).unwrap();
        w.finish(&mut out).unwrap();
        out.extend_from_slice(&COMPRESSED_TAIL);
        let back = crate::cms::decompress(&out, 1 << 20).unwrap();
        assert_eq!(back, content);
    }
}
