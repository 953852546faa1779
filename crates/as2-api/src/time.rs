//! Timestamps on the wire: ISO 8601 UTC with microseconds, `2024-01-15T10:30:00.000000Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats a timestamp the way every API response shows it.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a timestamp given by a client: RFC 3339 with any offset (normalised to UTC).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_have_microseconds_and_a_z() {
        let t = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).unwrap();
        assert_eq!(format(t), "2024-01-15T10:30:00.000000Z");
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let t = parse("2024-01-15T12:30:00.5+02:00").unwrap();
        assert_eq!(format(t), "2024-01-15T10:30:00.500000Z");
        assert!(parse("yesterday").is_none());
    }
}
