//! Exit codes: one per MDN disposition, so a script can tell `decryption-failed` from
//! `authentication-failed` without parsing the output.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (`unpack`: the payload was written; `mdn verify`: the MDN confirms delivery) |
//! | 1 | usage or I/O error (bad option, unreadable file, wrong key password) |
//! | 2 | failed for a reason with no code below (e.g. an MDN reporting an unknown modifier) |
//! | 10 | `decryption-failed` |
//! | 11 | `authentication-failed` |
//! | 12 | `integrity-check-failed` |
//! | 13 | `decompression-failed` |
//! | 14 | `insufficient-message-security` |
//! | 15 | `unexpected-processing-error` |
//! | 16 | `unsupported format` (`failed/Failure`) |
//! | 17 | `unsupported MIC-algorithms` (`failed/Failure`) |

use as2_core::{MdnDisposition, Modifier};

/// A failure without a disposition of its own.
pub const FAILED: u8 = 2;

/// Every disposition with its exit code.
pub const CODES: [(Modifier, u8); 8] = [
    (Modifier::DecryptionFailed, 10),
    (Modifier::AuthenticationFailed, 11),
    (Modifier::IntegrityCheckFailed, 12),
    (Modifier::DecompressionFailed, 13),
    (Modifier::InsufficientMessageSecurity, 14),
    (Modifier::UnexpectedProcessingError, 15),
    (Modifier::UnsupportedFormat, 16),
    (Modifier::UnsupportedMicAlgorithms, 17),
];

/// The exit code of a failure with this disposition.
#[must_use]
pub fn for_disposition(d: &MdnDisposition) -> u8 {
    CODES
        .iter()
        .find(|(known, _)| Some(known) == d.modifier())
        .map_or(FAILED, |(_, code)| *code)
}

/// The exit code for a modifier a partner's MDN reports (`decryption-failed`, `unsupported
/// format`, any case), [`FAILED`] for one we do not know.
#[must_use]
pub fn for_modifier(modifier: &str) -> u8 {
    let m = modifier.trim();
    CODES
        .iter()
        .find(|(d, _)| d.as_str().eq_ignore_ascii_case(m))
        .map_or(FAILED, |(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for (d, code) in CODES {
            assert!(seen.insert(code));
            assert_eq!(for_disposition(&MdnDisposition::Error(d.clone())), code);
            assert_eq!(for_modifier(d.as_str()), code);
            assert_eq!(for_modifier(&d.as_str().to_ascii_uppercase()), code);
        }
        assert_eq!(for_modifier("something-else"), FAILED);
    }
}
