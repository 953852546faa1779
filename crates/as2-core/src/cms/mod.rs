//! CMS (RFC 5652) for AS2: detached SignedData, EnvelopedData, AuthEnvelopedData (AES-GCM),
//! CompressedData and certs-only SignedData. Input from partners is parsed as BER (Java
//! products send indefinite lengths); output is DER.

mod certs_only;
mod compressed;
mod envelope_writer;
mod enveloped;
mod recipient;
mod signed;
mod stream_ber;
pub(crate) mod stream_reader;
mod stream_writer;

pub use certs_only::{certs_only, parse_certs_only};
pub(crate) use compressed::DecompressionBudget;
#[cfg(test)]
pub(crate) use compressed::compress_repeated;
pub use compressed::{DEFAULT_MAX_DECOMPRESSED, compress, decompress};
pub(crate) use envelope_writer::EnvelopeWriter;
pub use enveloped::{Decrypted, EncryptOptions, decrypt, encrypt};
pub(crate) use recipient::{CekCandidate, cek_candidates};
pub use recipient::{DecryptionKey, MAX_RECIPIENTS};
pub(crate) use signed::verify_detached_digests;
pub use signed::{
    MAX_SIGNERS, SignOptions, VerifiedSignature, embedded_certificates, sign_detached,
    sign_detached_with_digest, verify_detached,
};
pub(crate) use signed::{sign_content_digest, signed_data_len};
pub(crate) use stream_writer::{COMPRESSED_TAIL, SegmentWriter, compressed_head};

use cms::content_info::ContentInfo;
use der::asn1::ObjectIdentifier;
use der::{Decode as _, EncodingRules};

use crate::error::{Error, Result};

/// Parse a ContentInfo from DER or BER. Accepts base64 text too (some partners send
/// base64 without a Content-Transfer-Encoding header).
///
/// # Errors
/// Not a ContentInfo.
pub fn parse_content_info(data: &[u8]) -> Result<ContentInfo> {
    if let Ok(ci) = ContentInfo::from_der(data).or_else(|_| ContentInfo::from_ber(data)) {
        return Ok(ci);
    }
    let looks_base64 = data
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=\r\n \t".contains(b));
    if looks_base64 && !data.is_empty() {
        let decoded = crate::mime::encoding::decode_base64(data)?;
        return ContentInfo::from_ber(&decoded).map_err(Error::from);
    }
    Err(Error::Asn1("not a CMS ContentInfo".into()))
}

/// The content type OID of a CMS blob.
///
/// # Errors
/// Not a ContentInfo.
pub fn content_type_of(data: &[u8]) -> Result<ObjectIdentifier> {
    Ok(parse_content_info(data)?.content_type)
}

/// Decode the `content` of a ContentInfo as `T`, with BER rules.
pub(crate) fn decode_content<T>(ci: &ContentInfo) -> Result<T>
where
    T: for<'a> der::Choice<'a> + for<'a> der::DecodeValue<'a, Error = der::Error>,
{
    ci.content
        .decode_as_encoding::<T>(EncodingRules::Ber)
        .map_err(Error::from)
}
