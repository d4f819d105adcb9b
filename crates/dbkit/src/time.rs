//! One clock for everything written to the database, and the one type for every time a
//! client sends.

use chrono::{DateTime, Datelike, SubsecRound, Utc};

/// The current time, truncated to microseconds.
///
/// PostgreSQL keeps microseconds; SQLite keeps the text it is given. Truncating here
/// means a value read back equals the value written on both backends, and text
/// timestamps on SQLite keep comparing in time order.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A point in time a client sends: RFC 3339 (a time without a zone is read as UTC),
/// between the years 1 and 9999, kept to the microsecond. Outside that range the backends part ways — PostgreSQL refuses years
/// before 4713 BC with an error (a 500), SQLite stores any text and then compares
/// `+262143-…` as text — so such input is refused where it is read, as the client's
/// mistake, alike on both. Every timestamp a request carries has this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

/// The years a [`Timestamp`] may fall in: RFC 3339's four digits.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

impl Timestamp {
    /// A timestamp in range, or `None`.
    pub fn new(at: DateTime<Utc>) -> Option<Self> {
        YEARS
            .contains(&at.year())
            .then(|| Self(at.trunc_subsecs(6)))
    }

    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        let at = parse(&text).ok_or_else(|| {
            D::Error::custom("must be an RFC 3339 time, e.g. 2024-01-31T09:30:00Z")
        })?;
        Self::new(at).ok_or_else(|| D::Error::custom("must be a time between the years 1 and 9999"))
    }
}

/// RFC 3339; or, as Python's `isoformat()` writes a naive time (or an HTML form's
/// `datetime-local`, which leaves out zero seconds), without a zone: then UTC.
fn parse(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_time_without_a_zone_is_utc_with_or_without_seconds() {
        let at = |text: &str| parse(text).map(|t| t.to_rfc3339());
        assert_eq!(
            at("2031-01-15T10:30:00Z").as_deref(),
            Some("2031-01-15T10:30:00+00:00")
        );
        assert_eq!(
            at("2031-01-15T10:30:00.5").as_deref(),
            Some("2031-01-15T10:30:00.500+00:00")
        );
        // What an HTML form's datetime-local sends when the seconds are zero.
        assert_eq!(
            at("2031-01-15T10:30").as_deref(),
            Some("2031-01-15T10:30:00+00:00")
        );
        for bad in [
            "2031-01-15",
            "2031-01-15T10",
            "tomorrow",
            "2031-01-15 10:30",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }
}
