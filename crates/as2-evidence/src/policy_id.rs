//! `TSAPolicyId` (RFC 3161): an OBJECT IDENTIFIER whose arcs may be as large as a UUID.
//!
//! `const-oid` (and so `der`'s `ObjectIdentifier`) limits an arc to 32 bits, but the arc an
//! installation owns without registering anything is `2.25.<UUID>` (ITU-T X.667), a 128-bit
//! number: a TSA policy of that form could neither be issued nor read. [`PolicyId`] keeps the
//! encoded arcs as they are and reads every arc up to 128 bits.

use std::fmt;
use std::str::FromStr;

use der::asn1::ObjectIdentifier;
use der::{
    DecodeValue, EncodeValue, Error as DerError, ErrorKind, FixedTag, Header, Length, Reader, Tag,
    Writer,
};

/// A TSA policy identifier. Compare, print (`2.25.3294…`) and parse (`"1.3.6.1.4.1.99999.1"`)
/// it; [`PolicyId::from_uuid`] makes the `2.25` form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PolicyId {
    /// The encoded value: the base-128 arcs, the first two combined (X.690 §8.19).
    encoded: Vec<u8>,
}

/// Why a dotted policy identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an object identifier (dotted decimal, first arc 0–2, arcs up to 128 bits)")]
pub struct InvalidPolicyId(pub String);

impl PolicyId {
    /// `2.25.<uuid>`: the identifier the holder of a UUID owns without registration.
    #[must_use]
    pub fn from_uuid(uuid: u128) -> Self {
        let mut encoded = vec![2 * 40 + 25];
        push_arc(&mut encoded, uuid);
        Self { encoded }
    }

    /// The arcs, first to last.
    pub fn arcs(&self) -> impl Iterator<Item = u128> + '_ {
        decode_arcs(&self.encoded).unwrap_or_default().into_iter()
    }
}

/// The arcs of an encoded value; `None` unless it is whole arcs, without padding, none
/// beyond 128 bits.
fn decode_arcs(encoded: &[u8]) -> Option<Vec<u128>> {
    if encoded.last().is_none_or(|b| b & 0x80 != 0) {
        return None;
    }
    let mut arcs = Vec::new();
    let mut value: u128 = 0;
    let mut at_start = true;
    for byte in encoded {
        if at_start && *byte == 0x80 {
            return None; // a leading zero digit
        }
        if value >> 121 != 0 {
            return None; // seven more bits would not fit
        }
        value = (value << 7) | u128::from(byte & 0x7f);
        at_start = byte & 0x80 == 0;
        if at_start {
            if arcs.is_empty() {
                let first = if value < 80 { value / 40 } else { 2 };
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    Some(arcs)
}

fn push_arc(out: &mut Vec<u8>, value: u128) {
    let digits = (128 - value.leading_zeros()).div_ceil(7).max(1);
    for i in (0..digits).rev() {
        let digit = u8::try_from((value >> (7 * i)) & 0x7f).unwrap_or(0);
        out.push(if i == 0 { digit } else { digit | 0x80 });
    }
}

impl FromStr for PolicyId {
    type Err = InvalidPolicyId;

    fn from_str(dotted: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidPolicyId(dotted.to_owned());
        let arcs = dotted
            .trim()
            .split('.')
            .map(|arc| {
                if arc.is_empty() || !arc.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                arc.parse::<u128>().ok()
            })
            .collect::<Option<Vec<u128>>>()
            .ok_or_else(invalid)?;
        let (first, second) = match arcs.as_slice() {
            [first @ 0..=1, second @ 0..=39, ..] | [first @ 2, second, ..] => (*first, *second),
            _ => return Err(invalid()),
        };
        let mut encoded = Vec::new();
        push_arc(
            &mut encoded,
            (first * 40).checked_add(second).ok_or_else(invalid)?,
        );
        for arc in &arcs[2..] {
            push_arc(&mut encoded, *arc);
        }
        Ok(Self { encoded })
    }
}

impl fmt::Display for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arc) in self.arcs().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{arc}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyId({self})")
    }
}

impl From<ObjectIdentifier> for PolicyId {
    fn from(oid: ObjectIdentifier) -> Self {
        Self {
            encoded: oid.as_bytes().to_vec(),
        }
    }
}

impl PartialEq<ObjectIdentifier> for PolicyId {
    fn eq(&self, other: &ObjectIdentifier) -> bool {
        self.encoded == other.as_bytes()
    }
}

impl FixedTag for PolicyId {
    const TAG: Tag = Tag::ObjectIdentifier;
}

impl<'a> DecodeValue<'a> for PolicyId {
    type Error = DerError;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let encoded = reader.read_vec(header.length())?;
        if decode_arcs(&encoded).is_none() {
            return Err(reader.error(ErrorKind::Value { tag: Self::TAG }));
        }
        Ok(Self { encoded })
    }
}

impl EncodeValue for PolicyId {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.encoded.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.encoded)
    }
}

#[cfg(test)]
mod tests {
    use der::{Decode, Encode};

    use super::*;

    #[test]
    fn a_uuid_arc_round_trips_through_der() {
        // X.667's own example: 2.25.329800735698586629295641978511506172918
        let uuid = 0xf81d_4fae_7dec_11d0_a765_00a0_c91e_6bf6_u128;
        let policy = PolicyId::from_uuid(uuid);
        assert_eq!(
            policy.to_string(),
            "2.25.329800735698586629295641978511506172918"
        );
        let der = policy.to_der().unwrap();
        assert_eq!(der[0], 0x06);
        assert_eq!(PolicyId::from_der(&der).unwrap(), policy);
        assert_eq!(
            "2.25.329800735698586629295641978511506172918"
                .parse::<PolicyId>()
                .unwrap(),
            policy
        );
        // the largest UUID too
        let max = PolicyId::from_uuid(u128::MAX);
        assert_eq!(PolicyId::from_der(&max.to_der().unwrap()).unwrap(), max);
    }

    #[test]
    fn small_arcs_are_const_oids_encoding() {
        let oid = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");
        let policy: PolicyId = "1.3.6.1.4.1.99999.1".parse().unwrap();
        assert_eq!(policy, PolicyId::from(oid));
        assert_eq!(policy, oid);
        assert_eq!(policy.to_der().unwrap(), oid.to_der().unwrap());
        assert_eq!(policy.to_string(), "1.3.6.1.4.1.99999.1");
        let two_arcs: PolicyId = "2.999".parse().unwrap();
        assert_eq!(two_arcs.to_string(), "2.999");
    }

    #[test]
    fn malformed_identifiers_are_refused() {
        for dotted in [
            "",
            "1",
            "3.1",
            "1.40",
            "1..2",
            "1.2.x",
            "1.2.-3",
            "2.25.340282366920938463463374607431768211456",
        ] {
            assert!(dotted.parse::<PolicyId>().is_err(), "{dotted}");
        }
        for value in [
            &[][..],
            &[0x2a, 0x86][..],       // cut inside an arc
            &[0x2a, 0x80, 0x01][..], // a padded arc
            &[
                0x69, 0x84, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
            ][..], // 2^128
        ] {
            let mut der = vec![0x06, u8::try_from(value.len()).unwrap()];
            der.extend_from_slice(value);
            assert!(PolicyId::from_der(&der).is_err(), "{value:02x?}");
        }
    }
}
