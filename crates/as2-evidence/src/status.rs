//! PKIStatus and PKIFailureInfo (RFC 3161 §2.4.2) as Rust enums, and their mapping onto the
//! wire's INTEGER and named BIT STRING.

use std::fmt;

use der::asn1::BitString;

/// The status of a TimeStampResp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PkiStatus {
    /// granted (0): the token is present.
    Granted,
    /// grantedWithMods (1): the token is present, with modifications.
    GrantedWithMods,
    /// rejection (2).
    Rejection,
    /// waiting (3): not yet granted.
    Waiting,
    /// revocationWarning (4).
    RevocationWarning,
    /// revocationNotification (5).
    RevocationNotification,
    /// A value RFC 3161 does not define.
    Unknown(u8),
}

impl PkiStatus {
    /// From the INTEGER on the wire.
    #[must_use]
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Granted,
            1 => Self::GrantedWithMods,
            2 => Self::Rejection,
            3 => Self::Waiting,
            4 => Self::RevocationWarning,
            5 => Self::RevocationNotification,
            other => Self::Unknown(other),
        }
    }

    /// The INTEGER on the wire.
    #[must_use]
    pub fn to_u8(self) -> u8 {
        match self {
            Self::Granted => 0,
            Self::GrantedWithMods => 1,
            Self::Rejection => 2,
            Self::Waiting => 3,
            Self::RevocationWarning => 4,
            Self::RevocationNotification => 5,
            Self::Unknown(v) => v,
        }
    }

    /// Whether a token comes with this status.
    #[must_use]
    pub fn is_granted(self) -> bool {
        matches!(self, Self::Granted | Self::GrantedWithMods)
    }
}

impl fmt::Display for PkiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Granted => f.write_str("granted"),
            Self::GrantedWithMods => f.write_str("grantedWithMods"),
            Self::Rejection => f.write_str("rejection"),
            Self::Waiting => f.write_str("waiting"),
            Self::RevocationWarning => f.write_str("revocationWarning"),
            Self::RevocationNotification => f.write_str("revocationNotification"),
            Self::Unknown(v) => write!(f, "status {v}"),
        }
    }
}

/// Why a TSA rejected a request (the bits of PKIFailureInfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureInfo {
    /// badAlg (0): unrecognized or unsupported algorithm.
    BadAlg,
    /// badRequest (2): transaction not permitted or supported.
    BadRequest,
    /// badDataFormat (5): the data submitted has the wrong format.
    BadDataFormat,
    /// timeNotAvailable (14): the TSA's time source is not available.
    TimeNotAvailable,
    /// unacceptedPolicy (15): the requested policy is not supported.
    UnacceptedPolicy,
    /// unacceptedExtension (16): the requested extension is not supported.
    UnacceptedExtension,
    /// addInfoNotAvailable (17): the additional information is not available.
    AddInfoNotAvailable,
    /// systemFailure (25): the request cannot be handled due to system failure.
    SystemFailure,
}

impl FailureInfo {
    /// Every value, in bit order.
    pub const ALL: [Self; 8] = [
        Self::BadAlg,
        Self::BadRequest,
        Self::BadDataFormat,
        Self::TimeNotAvailable,
        Self::UnacceptedPolicy,
        Self::UnacceptedExtension,
        Self::AddInfoNotAvailable,
        Self::SystemFailure,
    ];

    /// The bit number in PKIFailureInfo.
    #[must_use]
    pub fn bit(self) -> usize {
        match self {
            Self::BadAlg => 0,
            Self::BadRequest => 2,
            Self::BadDataFormat => 5,
            Self::TimeNotAvailable => 14,
            Self::UnacceptedPolicy => 15,
            Self::UnacceptedExtension => 16,
            Self::AddInfoNotAvailable => 17,
            Self::SystemFailure => 25,
        }
    }

    /// The ASN.1 name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadRequest => "badRequest",
            Self::BadDataFormat => "badDataFormat",
            Self::TimeNotAvailable => "timeNotAvailable",
            Self::UnacceptedPolicy => "unacceptedPolicy",
            Self::UnacceptedExtension => "unacceptedExtension",
            Self::AddInfoNotAvailable => "addInfoNotAvailable",
            Self::SystemFailure => "systemFailure",
        }
    }

    /// The DER named BIT STRING with only this bit set (trailing zero bits removed).
    ///
    /// # Errors
    /// None in practice (a BIT STRING of at most four bytes).
    pub fn to_bit_string(self) -> der::Result<BitString> {
        let bit = self.bit();
        let mut bytes = vec![0u8; bit / 8 + 1];
        let shift = 7 - (bit % 8);
        if let Some(last) = bytes.last_mut() {
            *last = 1 << shift;
        }
        // `shift` is at most 7, so the cast is exact.
        BitString::new(u8::try_from(shift).unwrap_or(0), bytes)
    }

    /// The failures whose bits are set in `bits` (unknown bits are ignored).
    #[must_use]
    pub fn from_bit_string(bits: &BitString) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|f| bits.get(f.bit()) == Some(true))
            .collect()
    }
}

impl fmt::Display for FailureInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode as _;

    #[test]
    fn failure_bits_round_trip() {
        for f in FailureInfo::ALL {
            let bits = f.to_bit_string().unwrap();
            assert_eq!(FailureInfo::from_bit_string(&bits), vec![f]);
        }
        // badAlg is bit 0: 03 02 07 80
        let der = FailureInfo::BadAlg
            .to_bit_string()
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(der, [0x03, 0x02, 0x07, 0x80]);
        // badDataFormat is bit 5: 03 02 02 04
        let der = FailureInfo::BadDataFormat
            .to_bit_string()
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(der, [0x03, 0x02, 0x02, 0x04]);
    }

    #[test]
    fn statuses() {
        for v in 0..8 {
            assert_eq!(PkiStatus::from_u8(v).to_u8(), v);
        }
        assert!(PkiStatus::GrantedWithMods.is_granted());
        assert!(!PkiStatus::Rejection.is_granted());
    }
}
