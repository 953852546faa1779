//! Unsigned INTEGERs (serial numbers, nonces) between `der`'s `Uint` and Rust integers.

use der::asn1::Uint;

/// A `u128` as an ASN.1 INTEGER.
pub(crate) fn uint_from_u128(v: u128) -> der::Result<Uint> {
    Uint::new(&v.to_be_bytes())
}

/// Big-endian magnitude bytes as a `u128`, when they fit.
pub(crate) fn u128_from_be(bytes: &[u8]) -> Option<u128> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let significant = bytes.get(start..)?;
    if significant.len() > 16 {
        return None;
    }
    Some(
        significant
            .iter()
            .fold(0u128, |acc, b| (acc << 8) | u128::from(*b)),
    )
}

/// Big-endian magnitude bytes as a `u64`, when they fit.
pub(crate) fn u64_from_be(bytes: &[u8]) -> Option<u64> {
    u128_from_be(bytes).and_then(|v| u64::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for v in [0u128, 1, 0x80, 0xff_ff, u128::from(u64::MAX), u128::MAX] {
            let u = uint_from_u128(v).unwrap();
            assert_eq!(u128_from_be(u.as_bytes()), Some(v));
        }
        assert_eq!(u64_from_be(&[1; 9]), None);
        assert_eq!(u128_from_be(&[1; 17]), None);
        assert_eq!(u128_from_be(&[0, 0, 0, 5]), Some(5));
    }
}
