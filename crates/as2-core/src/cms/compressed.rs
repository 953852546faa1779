//! CompressedData (RFC 3274) with zlib (id-alg-zlibCompress), zlib framing.

use std::io::{Read as _, Write as _};

use cms::content_info::{CmsVersion, ContentInfo};
use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _};
use spki::AlgorithmIdentifierOwned;

use super::{decode_content, parse_content_info};
use crate::crypto::oids;
use crate::error::{Error, Result};

/// The decompressed size limit used by [`decompress`]: 4 GiB.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 4 << 30;

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

/// Decompress a CompressedData (DER or BER), refusing output beyond `max_len` bytes.
///
/// # Errors
/// [`Error::Decompression`] for anything that is not valid zlib CompressedData.
pub fn decompress(data: &[u8], max_len: u64) -> Result<Vec<u8>> {
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
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(z.as_bytes())
        .take(max_len.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| fail(&e))?;
    if out.len() as u64 > max_len {
        return Err(Error::Decompression(
            "decompressed size limit exceeded".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limit() {
        let data = vec![b'a'; 10_000];
        let c = compress(&data).unwrap();
        assert!(c.len() < 200);
        assert_eq!(decompress(&c, DEFAULT_MAX_DECOMPRESSED).unwrap(), data);
        assert!(matches!(decompress(&c, 100), Err(Error::Decompression(_))));
        assert!(matches!(
            decompress(b"junk", 100),
            Err(Error::Decompression(_))
        ));
    }
}
