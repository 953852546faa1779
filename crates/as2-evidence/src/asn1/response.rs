//! TimeStampResp and PKIStatusInfo (RFC 3161 §2.4.2).

use cms::content_info::ContentInfo;
use der::Sequence;
use der::asn1::BitString;

/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL  }
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    /// PKIStatus (see [`crate::status::PkiStatus`]).
    pub status: u8,
    /// Free text for a person.
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// PKIFailureInfo bits (see [`crate::status::FailureInfo`]).
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// ```text
/// TimeStampResp ::= SEQUENCE  {
///      status                  PKIStatusInfo,
///      timeStampToken          TimeStampToken     OPTIONAL  }
/// TimeStampToken ::= ContentInfo
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    /// Granted or not, and why.
    pub status: PkiStatusInfo,
    /// The token, when granted.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<ContentInfo>,
}
