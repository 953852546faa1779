//! TSTInfo and Accuracy (RFC 3161 §2.4.2): what a time-stamp token asserts.

use der::Sequence;
use der::asn1::Uint;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;

use super::gen_time::GenTime;
use super::request::MessageImprint;
use crate::PolicyId;

/// ```text
/// Accuracy ::= SEQUENCE {
///       seconds        INTEGER              OPTIONAL,
///       millis     [0] INTEGER  (1..999)    OPTIONAL,
///       micros     [1] INTEGER  (1..999)    OPTIONAL  }
/// ```
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, Sequence)]
pub struct Accuracy {
    /// Whole seconds.
    #[asn1(optional = "true")]
    pub seconds: Option<u32>,
    /// Milliseconds (1..999).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    /// Microseconds (1..999).
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

impl Accuracy {
    /// The accuracy as a duration (genTime is within ± this of the TSA's UTC).
    #[must_use]
    pub fn to_duration(self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.seconds.unwrap_or(0)))
            + std::time::Duration::from_millis(u64::from(self.millis.unwrap_or(0)))
            + std::time::Duration::from_micros(u64::from(self.micros.unwrap_or(0)))
    }
}

/// ```text
/// TSTInfo ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    policy                       TSAPolicyId,
///    messageImprint               MessageImprint,
///    serialNumber                 INTEGER,
///    genTime                      GeneralizedTime,
///    accuracy                     Accuracy                 OPTIONAL,
///    ordering                     BOOLEAN             DEFAULT FALSE,
///    nonce                        INTEGER                  OPTIONAL,
///    tsa                          [0] GeneralName          OPTIONAL,
///    extensions                   [1] IMPLICIT Extensions  OPTIONAL  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TstInfo {
    /// 1.
    pub version: u8,
    /// The TSA policy under which the token was issued.
    pub policy: PolicyId,
    /// The time-stamped hash, as requested.
    pub message_imprint: MessageImprint,
    /// Unique per token of this TSA.
    pub serial_number: Uint,
    /// When the token was created.
    pub gen_time: GenTime,
    /// How far genTime may be from UTC.
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    /// Whether tokens of this TSA can be ordered by genTime alone.
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    /// The request's nonce, echoed.
    #[asn1(optional = "true")]
    pub nonce: Option<Uint>,
    /// The name of the TSA (GeneralName is a CHOICE, so the tag is explicit).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    /// Extensions.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}
