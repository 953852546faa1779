//! `xs:dateTime` for CEM dates: written in UTC as `YYYY-MM-DDTHH:MM:SS+00:00`, read with
//! any offset, `Z`, or none (taken as UTC), with optional fractional seconds.
//!
//! The output carries `+00:00` rather than `Z`, and no fraction: mendelson AS2 reads CEM
//! dates only in the 25-character form `yyyy-MM-ddTHH:mm:ss±HH:mm` and rejects anything else.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECS_PER_DAY: i64 = 86_400;

/// Format `t` (UTC, whole seconds; the fraction is dropped).
#[must_use]
pub fn format(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            // before 1970: round towards the past so the fraction is dropped consistently
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 {
                -whole.saturating_add(1)
            } else {
                -whole
            }
        }
    };
    let days = secs.div_euclid(SECS_PER_DAY);
    let rem = secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parse an `xs:dateTime`.
///
/// # Errors
/// A sentence saying what is wrong with the value.
pub fn parse(s: &str) -> Result<SystemTime, String> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(format!("{s:?} is not an xs:dateTime (YYYY-MM-DDThh:mm:ss)"));
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    let mut rest = &b[19..];
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(format!("{s:?}: empty fractional seconds"));
        }
        let mut scale = 100_000_000u32;
        for c in &frac[..n.min(9)] {
            nanos += u32::from(c - b'0') * scale;
            scale /= 10;
        }
        rest = &frac[n..];
    }
    let offset_secs = parse_offset(rest)
        .ok_or_else(|| format!("{s:?}: the time zone must be Z, +hh:mm or -hh:mm (or absent)"))?;
    if year == 0
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || minute > 59
        || second > 59
        || (hour > 23 && !(hour == 24 && minute == 0 && second == 0 && nanos == 0))
    {
        return Err(format!("{s:?} is not a valid date and time"));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs =
        days * SECS_PER_DAY + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
            - offset_secs;
    let at = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    };
    at.and_then(|t| t.checked_add(Duration::from_nanos(u64::from(nanos))))
        .ok_or_else(|| format!("{s:?} is out of range"))
}

fn digits(b: &[u8]) -> Result<u32, String> {
    if b.iter().all(u8::is_ascii_digit) {
        Ok(b.iter().fold(0, |acc, c| acc * 10 + u32::from(c - b'0')))
    } else {
        Err(format!(
            "{:?} is not a number in an xs:dateTime",
            String::from_utf8_lossy(b)
        ))
    }
}

/// `Z`, `±hh:mm`, `±hhmm` or nothing; seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h1, h2, rest @ ..] => {
            let ([b':', m1, m2] | [m1, m2]) = rest else {
                return None;
            };
            let d = [*h1, *h2, *m1, *m2];
            if !d.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let h = i64::from(d[0] - b'0') * 10 + i64::from(d[1] - b'0');
            let m = i64::from(d[2] - b'0') * 10 + i64::from(d[3] - b'0');
            if h > 14 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_without_fraction() {
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00+00:00");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(format(t), "2024-02-29T12:34:56+00:00");
        assert_eq!(format(t).len(), 25);
        assert_eq!(
            format(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59+00:00"
        );
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        for s in [
            "2024-02-29T12:34:56Z",
            "2024-02-29T12:34:56",
            "2024-02-29T12:34:56+00:00",
            " 2024-02-29T13:34:56+01:00\n",
            "2024-02-29T07:34:56-05:00",
            "2024-02-29T07:34:56-0500",
        ] {
            assert_eq!(parse(s).unwrap(), t, "{s}");
        }
        assert_eq!(
            parse("2024-02-29T12:34:56.25Z").unwrap(),
            t + Duration::from_millis(250)
        );
        assert_eq!(
            parse("2024-02-29T24:00:00Z").unwrap(),
            parse("2024-03-01T00:00:00Z").unwrap()
        );
        assert_eq!(parse(&format(t)).unwrap(), t);
        assert!(parse("1900-01-01T00:00:00Z").unwrap() < UNIX_EPOCH);
    }

    #[test]
    fn rejects_invalid() {
        for s in [
            "",
            "tomorrow",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "2024-01-01T24:00:01Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00+25:00",
            "2024-01-01T00:00:00+01",
            "2024-01-01T00:00:00.Z",
            "0000-01-01T00:00:00Z",
            "2024-0a-01T00:00:00Z",
            "2024-01-01T00:00:00ZZ",
            "２０２４-01-01T00:00:00Z",
        ] {
            assert!(parse(s).is_err(), "{s}");
        }
    }
}
