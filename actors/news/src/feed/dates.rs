//! The dates feeds use: RFC 822/2822 in RSS (`Tue, 16 Jan 2018 10:00:00 +0000`), RFC 3339
//! and its W3C profile in Atom and `dc:date` (`2018-01-16T10:00:00+02:00`, `2018-01-16`).
//! Pure.
//!
//! The `time` crate reads them, so a date is a real calendar day (no 31 February), a real
//! clock time and a real offset (at most ±23:59 here), in years 1900 on for RFC 2822 (or two
//! digits: 1950–2049) and 0000–9999 for RFC 3339. Forms feeds write that the RFCs do not
//! allow are rewritten first and nothing else is guessed: any weekday text before the comma,
//! full month names (`January`, `Sept`), a `UTC` zone, an offset with a colon (`+05:30`), a
//! one-digit hour, and no zone at all (read as UTC, as RSS readers do).

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::parsing::Parsed;
use time::{OffsetDateTime, UtcOffset};

use crate::model::Timestamp;

/// A text that is not a date of the expected form, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a date: {reason}")]
pub struct DateError {
    /// The text (its first 64 characters).
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl DateError {
    fn new(text: &str, reason: impl ToString) -> Self {
        // A hostile feed's "date" may be a megabyte long: keep its start.
        let mut shown: String = text.chars().take(64).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        Self {
            text: shown,
            reason: reason.to_string(),
        }
    }
}

/// An RFC 2822 date: optional weekday, day, month, year (4 digits, or 2), time with optional
/// seconds, and a zone (`+hhmm`, `GMT`, `UT`, `Z`, a US zone name, a military letter), with
/// the rewrites of the module documentation.
pub fn parse_rfc2822(text: &str) -> Result<Timestamp, DateError> {
    let text = text.trim();
    let parsed = read_rfc2822(text)
        .or_else(|strict| read_rfc2822(&rfc2822_rewritten(text)).map_err(|_| strict));
    parsed
        .and_then(timestamp)
        .map_err(|reason| DateError::new(text, reason))
}

/// `time`'s RFC 2822 reader, but for a zone of less than an hour west of UTC: time 0.3
/// puts the zone's sign on its hours only, so it reads `-0030` as +00:30. Such a zone is
/// read as `+0000` here and its minutes added.
fn read_rfc2822(text: &str) -> Result<OffsetDateTime, String> {
    let (head, zone) = text.rsplit_once(' ').unwrap_or(("", text));
    if let [b'-', b'0', b'0', m1 @ b'0'..=b'5', m2 @ b'0'..=b'9'] = zone.as_bytes() {
        let minutes = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
        let utc =
            OffsetDateTime::parse(&format!("{head} +0000"), &Rfc2822).map_err(|e| e.to_string())?;
        // The local time plus the zone's minutes west: UTC. Cannot leave time's years, whose
        // bounds are far from the RFC's.
        return utc
            .checked_add(time::Duration::minutes(minutes))
            .ok_or_else(|| "beyond the representable range".to_string());
    }
    OffsetDateTime::parse(text, &Rfc2822).map_err(|e| e.to_string())
}

/// An RFC 3339 date-time (`2018-01-16T10:00:00.250+02:00`), or one of the W3C profile's
/// shorter forms: a date alone, no seconds, no offset (UTC), a `+hhmm` offset.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, DateError> {
    let text = text.trim();
    read_rfc3339(text).and_then(|at| timestamp(at).map_err(|reason| DateError::new(text, reason)))
}

/// An ISO 8601 UTC time as written in headline files: the forms of [`parse_rfc3339`] with
/// `Z`, `+00:00` or no offset (`2018-01-18T09:45:28.965353Z`, `2018-01-18 09:45:28`,
/// `2018-01-18`). Another offset is an error: the files are UTC.
pub fn parse_iso8601_utc(text: &str) -> Result<Timestamp, DateError> {
    let text = text.trim();
    let at = read_rfc3339(text)?;
    if at.offset() != UtcOffset::UTC {
        return Err(DateError::new(text, "the offset is not UTC (Z or +00:00)"));
    }
    timestamp(at).map_err(|reason| DateError::new(text, reason))
}

/// A feed date in either format: RFC 3339 when it starts with a four-digit year and a dash,
/// RFC 2822 otherwise.
pub fn parse_feed_date(text: &str) -> Result<Timestamp, DateError> {
    let text = text.trim();
    if starts_with_year(text) {
        parse_rfc3339(text)
    } else {
        parse_rfc2822(text)
    }
}

/// The W3C profile of ISO 8601 beyond RFC 3339: optional time, seconds, fraction and offset.
const W3C: &[BorrowedFormatItem<'_>] = format_description!(
    version = 2,
    "[year]-[month]-[day][optional [[first [T] [t] [ ]][hour]:[minute][optional [:[second][optional [.[subsecond]]]]][first [Z] [z] [[offset_hour sign:mandatory]:[offset_minute]] [[offset_hour sign:mandatory][offset_minute]] []]]]"
);

fn read_rfc3339(text: &str) -> Result<OffsetDateTime, DateError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|strict| read_w3c(text).ok_or_else(|| DateError::new(text, strict)))
}

/// The W3C forms; a missing time is midnight, a missing offset UTC.
fn read_w3c(text: &str) -> Option<OffsetDateTime> {
    // `[year]` would take a sign and more digits: the profile has exactly four.
    if !starts_with_year(text) {
        return None;
    }
    let mut parsed = Parsed::new();
    let rest = parsed.parse_items(text.as_bytes(), W3C).ok()?;
    if !rest.is_empty() {
        return None;
    }
    if parsed.hour_24().is_none() {
        parsed.set_hour_24(0)?;
    }
    if parsed.offset_hour().is_none() {
        parsed.set_offset_hour(0)?;
    }
    OffsetDateTime::try_from(parsed).ok()
}

/// Whether `text` starts with four digits and a dash.
fn starts_with_year(text: &str) -> bool {
    matches!(text.as_bytes(), [y0, y1, y2, y3, b'-', ..] if [y0, y1, y2, y3].iter().all(|b| b.is_ascii_digit()))
}

/// The instant, in milliseconds (truncated), of a date.
fn timestamp(at: OffsetDateTime) -> Result<Timestamp, String> {
    // `time` allows ±25:59:59; no zone is more than a day away from UTC.
    if at.offset().whole_hours().unsigned_abs() > 23 {
        return Err("the zone offset is beyond ±23:59".into());
    }
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000))
        .map(Timestamp)
        .map_err(|_| "beyond the representable range".into())
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `text` with the module documentation's rewrites, for a second try at RFC 2822.
fn rfc2822_rewritten(text: &str) -> String {
    // Any weekday text (`Tuesday,`) goes; time's parser ignores the weekday anyway.
    let text = text.split_once(',').map_or(text, |(_, rest)| rest);
    let mut tokens: Vec<String> = text.split_whitespace().map(rewrite_token).collect();
    // No zone after the time: UTC.
    if tokens.last().is_some_and(|t| t.contains(':')) {
        tokens.push("+0000".into());
    }
    tokens.join(" ")
}

fn rewrite_token(token: &str) -> String {
    let lower = token.to_ascii_lowercase();
    if lower.len() > 3 && lower.bytes().all(|b| b.is_ascii_alphabetic()) {
        if let Some(month) = MONTHS.iter().find(|m| m.starts_with(&lower)) {
            // The three-letter abbreviation; ASCII, so the slice is on a char boundary.
            return month.get(..3).unwrap_or(month).to_string();
        }
    }
    if lower == "utc" {
        return "+0000".into();
    }
    let bytes = token.as_bytes();
    // `+05:30` → `+0530`.
    if let [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] = bytes {
        if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) {
            return String::from_utf8_lossy(&[*sign, *h1, *h2, *m1, *m2]).into_owned();
        }
    }
    // `5:00:00` → `05:00:00`.
    if matches!(bytes, [digit, b':', ..] if digit.is_ascii_digit()) {
        return format!("0{token}");
    }
    token.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Result<Timestamp, DateError> {
        Timestamp::parse_utc(text).ok_or_else(|| DateError::new(text, "test"))
    }

    #[test]
    fn rss_dates() {
        for (text, want) in [
            ("Tue, 16 Jan 2018 10:00:00 +0000", "2018-01-16T10:00:00Z"),
            ("Mon, 02 Jan 2006 15:04:05 GMT", "2006-01-02T15:04:05Z"),
            ("Tue, 16 Jan 2018 12:30:00 +0230", "2018-01-16T10:00:00Z"),
            ("Tue, 16 Jan 2018 03:00:00 -0700", "2018-01-16T10:00:00Z"),
            ("16 Jan 18 05:00 EST", "2018-01-16T10:00:00Z"),
            ("Tue, 16 Jan 2018 02:00:00 PST", "2018-01-16T10:00:00Z"),
            ("Tue, 16 January 2018 10:00:00 GMT", "2018-01-16T10:00:00Z"),
            ("Sun, 16 Sept 2018 10:00:00 UT", "2018-09-16T10:00:00Z"),
            ("Tuesday, 16 Jan 2018 10:00:00 UTC", "2018-01-16T10:00:00Z"),
            ("Tue, 16 Jan 2018 15:30:00 +05:30", "2018-01-16T10:00:00Z"),
            ("Tue, 16 Jan 2018 5:00:00 -0500", "2018-01-16T10:00:00Z"),
            ("Tue, 16 Jan 2018 10:00:00", "2018-01-16T10:00:00Z"),
            ("  tue, 16 jan 2018 10:00:00 gmt ", "2018-01-16T10:00:00Z"),
            // time 0.3 alone reads these as +00:30 (found by the property tests).
            ("Tue, 16 Jan 2018 09:30:00 -0030", "2018-01-16T10:00:00Z"),
            ("Tue, 16 Jan 2018 09:30:00 -00:30", "2018-01-16T10:00:00Z"),
        ] {
            assert_eq!(parse_rfc2822(text), utc(want), "{text}");
            assert_eq!(parse_feed_date(text), utc(want), "{text}");
        }
    }

    #[test]
    fn atom_dates() {
        for (text, want) in [
            ("2018-01-16T10:00:00Z", "2018-01-16T10:00:00Z"),
            ("2018-01-16T12:00:00.250+02:00", "2018-01-16T10:00:00.250Z"),
            ("2018-01-16T05:00:00-05:00", "2018-01-16T10:00:00Z"),
            ("2018-01-16T10:00Z", "2018-01-16T10:00:00Z"),
            ("2018-01-16 10:00:00", "2018-01-16T10:00:00Z"),
            ("2018-01-16T15:30:00+0530", "2018-01-16T10:00:00Z"),
            ("2018-01-16T09:30:00-00:30", "2018-01-16T10:00:00Z"),
            ("2018-01-16T09:30:00-0030", "2018-01-16T10:00:00Z"),
            ("2018-01-16T09:30-0030", "2018-01-16T10:00:00Z"),
            ("2018-01-16", "2018-01-16T00:00:00Z"),
            ("1969-12-31T23:59:59.9999Z", "1969-12-31T23:59:59.999Z"),
            ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(parse_rfc3339(text), utc(want), "{text}");
            assert_eq!(parse_feed_date(text), utc(want), "{text}");
        }
    }

    #[test]
    fn absurd_dates_are_refused_with_a_reason() {
        for text in [
            "Tue, 31 Feb 2018 10:00:00 GMT",
            "Thu, 29 Feb 2018 10:00:00 GMT",
            "Mon, 01 Jan 99999 10:00:00 GMT",
            "Mon, 01 Jan 1899 10:00:00 GMT",
            "Tue, 16 Jan 2018 10:00:00 +99:99",
            "Tue, 16 Jan 2018 10:00:00 +9999",
            "Tue, 16 Jan 2018 10:00:00 +2400",
            "Tue, 16 Jan 2018 24:00:00 GMT",
            "Tue, 16 Jan 2018 10:60:00 GMT",
            "Tue, 16 Jan 2018 10:00:61 GMT",
            "Tue, 16 Foo 2018 10:00:00 GMT",
            "Tue, 16 Jan 2018 10:00:00 CET",
            "2018-02-31T10:00:00Z",
            "2018-13-01T00:00:00Z",
            "99999-01-01T00:00:00Z",
            "+2018-01-16T10:00:00Z",
            "2018-01-16T10:00:00+99:99",
            "2018-01-16T10:00:00+24:00",
            "2018-01-16T10:00:00-25:00",
            "2018-01-16T24:00:00Z",
            "2018-01-16T-1:00:00Z",
            "2018-01-16T10:00:60Z",
            "2018-01-16T10:00:00Zjunk",
            "yesterday",
            "",
        ] {
            let err = parse_feed_date(text).unwrap_err();
            assert!(!err.reason.is_empty(), "{text}: {err}");
        }
        let err = parse_feed_date("Tue, 31 Feb 2018 10:00:00 GMT").unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with("\"Tue, 31 Feb 2018 10:00:00 GMT\" is not a date: day"),
            "{shown}"
        );
        let long = "9".repeat(10_000);
        assert_eq!(parse_feed_date(&long).unwrap_err().text.chars().count(), 65);
    }

    #[test]
    fn headline_files_are_utc() {
        assert_eq!(
            parse_iso8601_utc("2018-01-18T09:45:28.965353Z"),
            Ok(Timestamp(1_516_268_728_965))
        );
        assert_eq!(
            parse_iso8601_utc("2018-01-18 09:45:28+00:00"),
            utc("2018-01-18T09:45:28Z")
        );
        assert_eq!(
            parse_iso8601_utc("2017-08-17"),
            Ok(Timestamp(1_502_928_000_000))
        );
        let err = parse_iso8601_utc("2018-01-18T09:45:28+02:00").unwrap_err();
        assert!(err.reason.contains("not UTC"), "{err}");
    }
}
