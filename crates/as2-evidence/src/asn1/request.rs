//! TimeStampReq and MessageImprint (RFC 3161 §2.4.1).

use der::Sequence;
use der::asn1::{OctetString, Uint};

use crate::PolicyId;
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extensions;

/// ```text
/// MessageImprint ::= SEQUENCE  {
///      hashAlgorithm                AlgorithmIdentifier,
///      hashedMessage                OCTET STRING  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm (parameters absent or NULL).
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash of the time-stamped data.
    pub hashed_message: OctetString,
}

/// ```text
/// TimeStampReq ::= SEQUENCE  {
///    version                  INTEGER  { v1(1) },
///    messageImprint           MessageImprint,
///    reqPolicy                TSAPolicyId              OPTIONAL,
///    nonce                    INTEGER                  OPTIONAL,
///    certReq                  BOOLEAN                  DEFAULT FALSE,
///    extensions               [0] IMPLICIT Extensions  OPTIONAL  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampReq {
    /// 1.
    pub version: u8,
    /// What to time-stamp.
    pub message_imprint: MessageImprint,
    /// The policy the requester wants.
    #[asn1(optional = "true")]
    pub req_policy: Option<PolicyId>,
    /// A random number the token must echo.
    #[asn1(optional = "true")]
    pub nonce: Option<Uint>,
    /// Whether the TSA certificate must be included in the token.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    /// Request extensions.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}
