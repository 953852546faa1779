//! GeneralizedTime as RFC 3161 uses it for genTime: `YYYYMMDDHHMMSS[.s...]Z`. `der`'s own
//! `GeneralizedTime` rejects fractional seconds, which some TSAs send, so decoding is
//! done here; encoding writes whole seconds through `der`.

use std::time::{Duration, SystemTime};

use der::asn1::GeneralizedTime;
use der::{
    DateTime, DecodeValue, EncodeValue, ErrorKind, FixedTag, Header, Length, Reader, Tag, Writer,
};

/// A genTime: a UTC instant, with sub-second precision when the TSA sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenTime(pub SystemTime);

impl GenTime {
    /// Whole seconds, as DER output carries them.
    fn whole_seconds(self) -> der::Result<GeneralizedTime> {
        let since = self
            .0
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| der::Error::from(ErrorKind::DateTime))?;
        GeneralizedTime::from_unix_duration(Duration::from_secs(since.as_secs()))
    }
}

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        self.whole_seconds()?.value_len()
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.whole_seconds()?.encode_value(writer)
    }
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let len = usize::try_from(header.length())?;
        if len > 64 {
            return Err(ErrorKind::DateTime.into());
        }
        let mut buf = [0u8; 64];
        let bytes = buf
            .get_mut(..len)
            .ok_or_else(|| der::Error::from(ErrorKind::DateTime))?;
        reader.read_into(bytes)?;
        parse(bytes).map(Self)
    }
}

fn digits(bytes: &[u8]) -> der::Result<u32> {
    bytes.iter().try_fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + u32::from(b - b'0'))
        } else {
            Err(ErrorKind::DateTime.into())
        }
    })
}

fn field<T: TryFrom<u32>>(bytes: &[u8], range: std::ops::Range<usize>) -> der::Result<T> {
    let part = bytes
        .get(range)
        .ok_or_else(|| der::Error::from(ErrorKind::DateTime))?;
    T::try_from(digits(part)?).map_err(|_| ErrorKind::DateTime.into())
}

/// `YYYYMMDDHHMMSS` then an optional `.` with 1 to 9 digits, then `Z`.
fn parse(bytes: &[u8]) -> der::Result<SystemTime> {
    let err = || der::Error::from(ErrorKind::DateTime);
    let (body, zulu) = bytes
        .split_at_checked(bytes.len().wrapping_sub(1))
        .ok_or_else(err)?;
    if zulu != b"Z" || body.len() < 14 {
        return Err(err());
    }
    let date = DateTime::new(
        field(body, 0..4)?,
        field(body, 4..6)?,
        field(body, 6..8)?,
        field(body, 8..10)?,
        field(body, 10..12)?,
        field(body, 12..14)?,
    )?;
    let nanos = match body.get(14..) {
        Some([]) | None => 0,
        Some([b'.', frac @ ..]) if (1..=9).contains(&frac.len()) => {
            let exponent = u32::try_from(9 - frac.len()).map_err(|_| err())?;
            digits(frac)? * 10u32.pow(exponent)
        }
        Some(_) => return Err(err()),
    };
    Ok(date.to_system_time() + Duration::from_nanos(u64::from(nanos)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode as _, Encode as _};

    fn tlv(text: &str) -> Vec<u8> {
        let mut v = vec![0x18, u8::try_from(text.len()).unwrap()];
        v.extend_from_slice(text.as_bytes());
        v
    }

    #[test]
    fn whole_and_fractional_seconds() {
        let t = GenTime::from_der(&tlv("20240229123456Z")).unwrap();
        let secs = t.0.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(secs, Duration::from_secs(1_709_210_096));
        assert_eq!(t.to_der().unwrap(), tlv("20240229123456Z"));

        let f = GenTime::from_der(&tlv("20240229123456.25Z")).unwrap();
        let since = f.0.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(since, Duration::from_millis(1_709_210_096_250));
        // output is whole seconds
        assert_eq!(f.to_der().unwrap(), tlv("20240229123456Z"));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "Z",
            "2024Z",
            "20241329123456Z",
            "20240229123456",
            "20240229123456.Z",
            "20240229123456.1234567890Z",
            "2024022912345xZ",
            "20240229123456+0100",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}Z",
        ] {
            assert!(GenTime::from_der(&tlv(bad)).is_err(), "{bad:?}");
        }
    }
}
