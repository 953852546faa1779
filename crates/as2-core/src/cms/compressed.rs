//! CompressedData (RFC 3274) with zlib (id-alg-zlibCompress), zlib framing.

use std::io::{Read, Write as _};

use cms::content_info::{CmsVersion, ContentInfo};
use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _};
use spki::AlgorithmIdentifierOwned;

use super::{decode_content, parse_content_info};
use crate::crypto::oids;
use crate::error::{Error, Limit, Result};

/// The default decompression budget: 1 GiB. It bounds the bytes inflated from every
/// CompressedData layer of one inbound message together (the default of
/// `message::InboundLimits::max_decompressed_total`), and serves as the `max_len` of a
/// single [`decompress`] where no smaller limit is known.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 1 << 30;

/// Bytes that may still be inflated, shared by every CompressedData layer of one message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecompressionBudget {
    /// The whole budget (what an error reports).
    limit: u64,
    /// What is left of it.
    remaining: u64,
}

impl DecompressionBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            limit,
            remaining: limit,
        }
    }

    fn exceeded(self) -> Error {
        Error::limit(Limit::DecompressedBytes, self.limit)
    }

    /// Spend `n` inflated bytes: [`Error::LimitExceeded`] when they are more than is left.
    pub(crate) fn spend(&mut self, n: u64) -> Result<()> {
        if n > self.remaining {
            return Err(self.exceeded());
        }
        self.remaining -= n;
        Ok(())
    }
}

/// The first allocation for the inflated output: a guess from the compressed size, never
/// more than the budget allows.
fn initial_capacity(compressed_len: usize, remaining: u64) -> usize {
    let guess = compressed_len.saturating_mul(4).clamp(8 << 10, 64 << 20);
    usize::try_from(remaining.min(guess as u64)).unwrap_or(guess)
}

/// Inflate `reader` into a buffer, stopping with [`Error::LimitExceeded`] as soon as one
/// byte more than the budget has come out; the buffer never holds more than that byte.
fn inflate_within(
    mut reader: impl Read,
    compressed_len: usize,
    budget: &mut DecompressionBudget,
) -> Result<Vec<u8>> {
    // one byte past the budget proves it is exceeded
    let ceiling = usize::try_from(budget.remaining.saturating_add(1)).unwrap_or(usize::MAX);
    let mut out = vec![0; initial_capacity(compressed_len, budget.remaining).min(ceiling)];
    let mut filled = 0;
    loop {
        if filled == out.len() {
            let grown = out.len().saturating_mul(2).max(8 << 10).min(ceiling);
            out.reserve_exact(grown - out.len());
            out.resize(grown, 0);
        }
        let n = reader
            .read(&mut out[filled..])
            .map_err(|e| Error::Decompression(e.to_string()))?;
        if n == 0 {
            break;
        }
        filled += n;
        if filled as u64 > budget.remaining {
            return Err(budget.exceeded());
        }
    }
    out.truncate(filled);
    budget.remaining -= filled as u64;
    Ok(out)
}

/// EncapsulatedContentInfo with eContent typed as OCTET STRING, so that a BER
/// constructed (chunked) OCTET STRING is reassembled (der 0.8.3 keeps chunk headers in `Any`).
#[derive(Clone, Debug, der::Sequence)]
pub(crate) struct EncapContent {
    pub econtent_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub econtent: Option<OctetString>,
}

#[derive(Clone, Debug, der::Sequence)]
struct CompressedData {
    version: CmsVersion,
    compression_alg: AlgorithmIdentifierOwned,
    encap: EncapContent,
}

/// Compress a MIME entity into a DER CompressedData ContentInfo.
///
/// # Errors
/// Encoding failure.
pub fn compress(content: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(content)
        .map_err(|e| Error::Crypto(format!("zlib: {e}")))?;
    let z = enc
        .finish()
        .map_err(|e| Error::Crypto(format!("zlib: {e}")))?;
    compressed_data(z)
}

/// `chunk` repeated `times`, compressed without ever holding the whole: how tests build a
/// compression bomb.
#[cfg(test)]
pub(crate) fn compress_repeated(chunk: &[u8], times: usize) -> Result<Vec<u8>> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..times {
        enc.write_all(chunk)
            .map_err(|e| Error::Crypto(format!("zlib: {e}")))?;
    }
    let z = enc
        .finish()
        .map_err(|e| Error::Crypto(format!("zlib: {e}")))?;
    compressed_data(z)
}

/// The DER CompressedData ContentInfo of a zlib stream.
fn compressed_data(z: Vec<u8>) -> Result<Vec<u8>> {
    let cd = CompressedData {
        version: CmsVersion::V0,
        compression_alg: AlgorithmIdentifierOwned {
            oid: oids::ZLIB_COMPRESS,
            parameters: None,
        },
        encap: EncapContent {
            econtent_type: oids::DATA,
            econtent: Some(OctetString::new(z)?),
        },
    };
    let ci = ContentInfo {
        content_type: oids::COMPRESSED_DATA,
        content: Any::from_der(&cd.to_der()?)?,
    };
    Ok(ci.to_der()?)
}

/// Decompress a CompressedData (DER or BER), refusing output beyond `max_len` bytes: the
/// inflation stops as soon as it exceeds them.
///
/// # Errors
/// [`Error::Decompression`] for anything that is not valid zlib CompressedData, and
/// [`Error::LimitExceeded`] ([`Limit::DecompressedBytes`]) beyond `max_len`.
pub fn decompress(data: &[u8], max_len: u64) -> Result<Vec<u8>> {
    decompress_within(data, &mut DecompressionBudget::new(max_len))
}

/// [`decompress`], spending from a budget shared with the message's other layers.
pub(crate) fn decompress_within(data: &[u8], budget: &mut DecompressionBudget) -> Result<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| Error::Decompression(e.to_string());
    let ci = parse_content_info(data).map_err(|e| fail(&e))?;
    if ci.content_type != oids::COMPRESSED_DATA {
        return Err(Error::Decompression(format!(
            "content type {} is not compressed-data",
            ci.content_type
        )));
    }
    let cd: CompressedData = decode_content(&ci).map_err(|e| fail(&e))?;
    if cd.compression_alg.oid != oids::ZLIB_COMPRESS {
        return Err(Error::Decompression(format!(
            "compression algorithm {}",
            cd.compression_alg.oid
        )));
    }
    let z = cd
        .encap
        .econtent
        .ok_or_else(|| Error::Decompression("no compressed content".into()))?;
    let z = z.as_bytes();
    inflate_within(flate2::read::ZlibDecoder::new(z), z.len(), budget)
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
    fn round_trip_and_limit() {
        let data = vec![b'a'; 10_000];
        let c = compress(&data).unwrap();
        assert!(c.len() < 200);
        assert_eq!(decompress(&c, DEFAULT_MAX_DECOMPRESSED).unwrap(), data);
        assert!(matches!(
            decompress(&c, 100),
            Err(Error::LimitExceeded {
                limit: Limit::DecompressedBytes,
                max: 100
            })
        ));
        assert_eq!(decompress(&c, 10_000).unwrap(), data);
        assert!(decompress(&c, 9_999).is_err());
        assert!(matches!(
            decompress(b"junk", 100),
            Err(Error::Decompression(_))
        ));
    }

    /// A reader that counts what was asked of it: the inflation must stop at the budget.
    struct Counting<R> {
        inner: R,
        read: usize,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n;
            Ok(n)
        }
    }

    #[test]
    fn inflation_stops_at_the_budget_and_spends_it() {
        // 64 MiB of zeros from a stream that would go on: only just past the budget is read
        let mut reader = Counting {
            inner: std::io::repeat(0).take(64 << 20),
            read: 0,
        };
        let mut budget = DecompressionBudget::new(100_000);
        let err = inflate_within(&mut reader, 100, &mut budget).unwrap_err();
        assert!(matches!(
            err,
            Error::LimitExceeded {
                limit: Limit::DecompressedBytes,
                max: 100_000
            }
        ));
        assert!(reader.read <= 100_001, "read {}", reader.read);
        // two layers from one budget: the second gets what the first left
        let layer = compress(&vec![b'x'; 600]).unwrap();
        let mut budget = DecompressionBudget::new(1_000);
        assert_eq!(decompress_within(&layer, &mut budget).unwrap().len(), 600);
        assert!(matches!(
            decompress_within(&layer, &mut budget),
            Err(Error::LimitExceeded { max: 1_000, .. })
        ));
    }
}
