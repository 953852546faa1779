//! Encoding a TimeStampResp: granted with a token, or a rejection with one failInfo bit and
//! a statusString for a person.

use cms::content_info::ContentInfo;
use der::{Decode as _, Encode as _};

use crate::asn1::{PkiStatusInfo, TimeStampResp};
use crate::status::{FailureInfo, PkiStatus};

/// `SEQUENCE { SEQUENCE { INTEGER 2, BIT STRING systemFailure } }`, for the case where even
/// a rejection cannot be encoded.
const SYSTEM_FAILURE: &[u8] = &[
    0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40,
];

/// Why a request is not granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub failure: FailureInfo,
    pub text: String,
}

impl Rejection {
    pub(crate) fn new(failure: FailureInfo, text: impl Into<String>) -> Self {
        Self {
            failure,
            text: text.into(),
        }
    }
}

/// A granted response carrying `token` (a DER ContentInfo).
pub(crate) fn granted(token: &[u8]) -> Vec<u8> {
    let encoded = ContentInfo::from_der(token).and_then(|ci| {
        TimeStampResp {
            status: PkiStatusInfo {
                status: PkiStatus::Granted.to_u8(),
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(ci),
        }
        .to_der()
    });
    encoded.unwrap_or_else(|_| rejected(&Rejection::new(FailureInfo::SystemFailure, "encoding")))
}

/// A rejection response.
pub(crate) fn rejected(rejection: &Rejection) -> Vec<u8> {
    let encoded = rejection.failure.to_bit_string().and_then(|bits| {
        TimeStampResp {
            status: PkiStatusInfo {
                status: PkiStatus::Rejection.to_u8(),
                status_string: Some(vec![rejection.text.clone()]),
                fail_info: Some(bits),
            },
            time_stamp_token: None,
        }
        .to_der()
    });
    encoded.unwrap_or_else(|_| SYSTEM_FAILURE.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_is_a_system_failure_rejection() {
        let resp = TimeStampResp::from_der(SYSTEM_FAILURE).unwrap();
        assert_eq!(resp.status.status, 2);
        let bits = resp.status.fail_info.unwrap();
        assert_eq!(
            FailureInfo::from_bit_string(&bits),
            vec![FailureInfo::SystemFailure]
        );
        let ours = TimeStampResp {
            status: PkiStatusInfo {
                status: 2,
                status_string: None,
                fail_info: Some(FailureInfo::SystemFailure.to_bit_string().unwrap()),
            },
            time_stamp_token: None,
        };
        assert_eq!(ours.to_der().unwrap(), SYSTEM_FAILURE);
    }

    #[test]
    fn rejection_carries_text_and_bit() {
        let der = rejected(&Rejection::new(FailureInfo::BadAlg, "only SHA-256"));
        let resp = TimeStampResp::from_der(&der).unwrap();
        assert_eq!(resp.status.status_string.unwrap(), ["only SHA-256"]);
        assert!(resp.time_stamp_token.is_none());
    }
}
