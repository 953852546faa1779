//! Reading a TimeStampResp: the status (a rejection becomes [`Error::Rejected`] with the
//! TSA's failInfo and text) and the token inside.

use as2_core::cert::Certificate;
use der::Encode as _;

use super::{TokenInfo, verify_token};
use crate::asn1::{TimeStampResp, decode_lenient};
use crate::error::{Error, Result};
use crate::status::{FailureInfo, PkiStatus};

/// The DER token of a granted DER (or BER) TimeStampResp.
///
/// # Errors
/// [`Error::MalformedDer`], [`Error::Rejected`] when the status is not granted, or
/// [`Error::NotATimeStampToken`] when a granted response carries no token.
pub fn token_from_response(resp_der: &[u8]) -> Result<Vec<u8>> {
    let resp: TimeStampResp = decode_lenient(resp_der)?;
    let status = PkiStatus::from_u8(resp.status.status);
    if !status.is_granted() {
        return Err(Error::Rejected {
            status,
            failures: resp
                .status
                .fail_info
                .as_ref()
                .map(FailureInfo::from_bit_string)
                .unwrap_or_default(),
            text: resp.status.status_string.unwrap_or_default().join("; "),
        });
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| Error::NotATimeStampToken("granted response without a token".into()))?;
    Ok(token.to_der()?)
}

/// Verify a TimeStampResp: granted, its token verifies as [`verify_token`] does, and when
/// `expected_nonce` is given the token echoes it.
///
/// # Errors
/// Those of [`token_from_response`] and [`verify_token`], and [`Error::NonceMismatch`].
pub fn verify_response(
    resp_der: &[u8],
    expected_sha256: &[u8; 32],
    expected_nonce: Option<u64>,
    trusted: &[Certificate],
) -> Result<TokenInfo> {
    let token = token_from_response(resp_der)?;
    let info = verify_token(&token, expected_sha256, trusted)?;
    if let Some(nonce) = expected_nonce
        && info.nonce_u64() != Some(nonce)
    {
        return Err(Error::NonceMismatch);
    }
    Ok(info)
}
