//! UTC instants as epoch milliseconds, and their (de)serialisation as TOML datetimes.
//!
//! incident.toml writes times as TOML datetimes (`fired_at = 2024-05-01T14:02:00Z`); a quoted
//! RFC 3339 string is accepted too. A datetime without an offset is UTC, as in the archive spec.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::de::{self, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One minute in milliseconds, the unit incident windows and look-backs are written in.
pub const MINUTE_MS: i64 = 60_000;

/// Grid buckets of `step_ms` needed to cover `span_ms`, a partial bucket counting as whole:
/// the one rounding rule for every "within N minutes" judged on the grid.
#[must_use]
pub fn buckets(span_ms: i64, step_ms: i64) -> usize {
    let step = step_ms.max(1);
    usize::try_from((span_ms.max(0) + step - 1) / step).unwrap_or(0)
}

/// The positive gaps between consecutive times (repeats and steps back are skipped).
pub fn gaps(ts: impl IntoIterator<Item = i64>) -> impl Iterator<Item = i64> {
    let mut prev = None;
    ts.into_iter().filter_map(move |t| {
        let gap = prev.map(|p| t - p);
        prev = Some(t);
        gap.filter(|&g| g > 0)
    })
}

/// The sampling step of a series with sample times `ts`: the middle of its [`gaps`], the one
/// definition behind the grid's, an archive's and an import's step. None when there are none.
#[must_use]
pub fn step_ms(ts: impl IntoIterator<Item = i64>) -> Option<i64> {
    crate::stats::middle_of(gaps(ts).collect())
}

/// `HH:MM` in UTC: the clock the report's prose and the rules' evidence use.
#[must_use]
pub fn clock(ms: i64) -> String {
    fmt_ms(ms, "%H:%M")
}

/// `HH:MM:SS` in UTC, where seconds matter (timelines, events a minute apart).
#[must_use]
pub fn clock_s(ms: i64) -> String {
    fmt_ms(ms, "%H:%M:%S")
}

/// A UTC instant in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i64);

impl Instant {
    /// Parses RFC 3339 (`2024-05-01T14:02:00Z`, `+02:00` offsets) or a naive datetime (UTC).
    pub fn parse(s: &str) -> Option<Instant> {
        let s = s.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(Instant(dt.timestamp_millis()));
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
                return Some(Instant(n.and_utc().timestamp_millis()));
            }
        }
        None
    }

    /// RFC 3339 with a `Z`, seconds precision unless there are milliseconds.
    #[must_use]
    pub fn rfc3339(self) -> String {
        match DateTime::<Utc>::from_timestamp_millis(self.0) {
            Some(d) if self.0 % 1000 == 0 => d.to_rfc3339_opts(SecondsFormat::Secs, true),
            Some(d) => d.to_rfc3339_opts(SecondsFormat::Millis, true),
            None => format!("{}ms", self.0),
        }
    }

    /// `HH:MM:SS` in UTC, for timelines.
    #[must_use]
    pub fn hms(self) -> String {
        clock_s(self.0)
    }
}

/// Formats epoch milliseconds with a chrono format string, in UTC.
#[must_use]
pub fn fmt_ms(ms: i64, fmt: &str) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map_or_else(|| format!("{ms}ms"), |d| d.format(fmt).to_string())
}

/// A duration in milliseconds as a short human string (`90 s`, `4 min`, `1 h 30 min`).
#[must_use]
pub fn human_duration(ms: i64) -> String {
    let s = ms / 1000;
    if s < 120 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", (s + 30) / 60)
    } else {
        let m = (s % 3600 + 30) / 60;
        if m == 0 {
            format!("{} h", s / 3600)
        } else {
            format!("{} h {m} min", s / 3600)
        }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A real TOML datetime (not a quoted string) so the file reads like the spec's example.
        match self.rfc3339().parse::<toml::value::Datetime>() {
            Ok(dt) => dt.serialize(s),
            Err(_) => s.serialize_str(&self.rfc3339()),
        }
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(InstantVisitor)
    }
}

/// A TOML datetime or an RFC 3339 string. Errors other than a wrong value (a missing
/// `fired_at`) pass through untouched, so they keep naming the key.
struct InstantVisitor;

impl<'de> Visitor<'de> for InstantVisitor {
    type Value = Instant;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a datetime such as 2024-05-01T14:02:00Z")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Instant, E> {
        Instant::parse(v).ok_or_else(|| {
            E::custom(format!(
                "`{v}` is not a datetime such as 2024-05-01T14:02:00Z"
            ))
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Instant, A::Error> {
        // toml hands a datetime over as a map that only its own `Datetime` decodes.
        let dt = toml::value::Datetime::deserialize(MapAccessDeserializer::new(map))?;
        if dt.date.is_none() || dt.time.is_none() {
            return Err(de::Error::custom(format!(
                "`{dt}` is a date or time alone; a full datetime is needed"
            )));
        }
        self.visit_str(&dt.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_and_naive_as_utc() {
        let z = Instant::parse("2024-05-01T14:02:00Z").unwrap();
        assert_eq!(Instant::parse("2024-05-01T16:02:00+02:00"), Some(z));
        assert_eq!(Instant::parse("2024-05-01T14:02:00"), Some(z));
        assert_eq!(z.rfc3339(), "2024-05-01T14:02:00Z");
        assert_eq!(Instant::parse("yesterday"), None);
    }

    #[derive(Debug, Deserialize)]
    struct At {
        at: Instant,
    }

    fn read(toml_text: &str) -> Result<Instant, String> {
        toml::from_str::<At>(toml_text)
            .map(|a| a.at)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_toml_datetimes_and_quoted_strings_alike() {
        let z = Instant::parse("2024-05-01T14:02:00Z").unwrap();
        assert_eq!(read("at = 2024-05-01T14:02:00Z"), Ok(z));
        assert_eq!(read("at = 2024-05-01T16:02:00+02:00"), Ok(z));
        assert_eq!(read("at = 2024-05-01T14:02:00"), Ok(z));
        assert_eq!(read("at = \"2024-05-01T14:02:00Z\""), Ok(z));
        assert_eq!(
            read("at = 2024-05-01T14:02:00.250Z"),
            Ok(Instant(z.0 + 250))
        );
    }

    #[test]
    fn a_missing_instant_is_named_as_missing() {
        assert!(read("").unwrap_err().contains("missing field `at`"));
    }

    #[test]
    fn refuses_a_date_or_time_alone_and_other_types() {
        assert!(
            read("at = 2024-05-01")
                .unwrap_err()
                .contains("date or time alone")
        );
        assert!(
            read("at = 14:02:00")
                .unwrap_err()
                .contains("date or time alone")
        );
        assert!(
            read("at = \"soon\"")
                .unwrap_err()
                .contains("`soon` is not a datetime")
        );
        assert!(read("at = 5").unwrap_err().contains("expected a datetime"));
    }

    #[test]
    fn buckets_round_a_partial_bucket_up() {
        assert_eq!(buckets(2 * MINUTE_MS, 60_000), 2);
        assert_eq!(buckets(2 * MINUTE_MS, 45_000), 3);
        assert_eq!(buckets(2 * MINUTE_MS, 300_000), 1);
        assert_eq!(buckets(0, 15_000), 0);
        assert_eq!(buckets(-5, 15_000), 0);
        let step = |ts: &[i64]| step_ms(ts.iter().copied());
        assert_eq!(step(&[0, 15, 15, 30, 60, 75]), Some(15));
        assert_eq!(step(&[0, 10, 40, 50]), Some(10));
        assert_eq!(step(&[0, 20, 30]), Some(20));
        assert_eq!(step(&[5]), None);
    }

    #[test]
    fn clocks_are_utc() {
        let t = Instant::parse("2024-05-01T16:02:07+02:00").unwrap().0;
        assert_eq!(
            (clock(t), clock_s(t)),
            ("14:02".to_string(), "14:02:07".to_string())
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(90_000), "90 s");
        assert_eq!(human_duration(240_000), "4 min");
        assert_eq!(human_duration(5_400_000), "1 h 30 min");
    }
}
