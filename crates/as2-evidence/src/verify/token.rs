//! Taking a time-stamp token apart: ContentInfo → SignedData (BER accepted, as as2-core
//! does for partner input) → the encapsulated, encoded TSTInfo.

use as2_core::crypto::oids::SIGNED_DATA;
use cms::signed_data::SignedData;
use der::EncodingRules;
use der::asn1::OctetString;

use crate::asn1::{TstInfo, decode_lenient};
use crate::error::{Error, Result};
use crate::oids::ID_CT_TST_INFO;

/// A token's SignedData and its TSTInfo, the encoded bytes (what messageDigest covers) and
/// the decoded value.
#[derive(Debug)]
pub(crate) struct ParsedToken {
    pub signed_data: SignedData,
    pub tst_info_der: Vec<u8>,
    pub tst_info: TstInfo,
}

/// Parse a DER (or BER) time-stamp token.
pub(crate) fn parse_token(token: &[u8]) -> Result<ParsedToken> {
    let content_info = as2_core::cms::parse_content_info(token)
        .map_err(|e| Error::MalformedDer(format!("time-stamp token: {e}")))?;
    if content_info.content_type != SIGNED_DATA {
        return Err(Error::NotATimeStampToken(format!(
            "content type {} is not signedData",
            content_info.content_type
        )));
    }
    let signed_data: SignedData = content_info
        .content
        .decode_as_encoding(EncodingRules::Ber)?;
    let encap = &signed_data.encap_content_info;
    if encap.econtent_type != ID_CT_TST_INFO {
        return Err(Error::NotATimeStampToken(format!(
            "eContentType {} is not id-ct-TSTInfo",
            encap.econtent_type
        )));
    }
    let econtent = encap
        .econtent
        .as_ref()
        .ok_or_else(|| Error::NotATimeStampToken("no encapsulated TSTInfo".into()))?;
    let octets: OctetString = econtent.decode_as_encoding(EncodingRules::Ber)?;
    let tst_info_der = octets.as_bytes().to_vec();
    let tst_info: TstInfo = decode_lenient(&tst_info_der)?;
    if tst_info.version != 1 {
        return Err(Error::NotATimeStampToken(format!(
            "TSTInfo version {}, expected 1",
            tst_info.version
        )));
    }
    Ok(ParsedToken {
        signed_data,
        tst_info_der,
        tst_info,
    })
}
