//! The dates feeds use: RFC 822/2822 in RSS (`Tue, 16 Jan 2018 10:00:00 +0000`) and
//! RFC 3339 in Atom (`2018-01-16T10:00:00+02:00`). Pure.

use crate::model::Timestamp;

/// Parses an RFC 2822 date: optional weekday, day, month name, year (2 or 4 digits), time
/// with optional seconds, and a zone (`+hhmm`, `GMT`, `UT`, `Z`, or a US zone name).
pub fn parse_rfc2822(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let text = match text.split_once(',') {
        Some((_, rest)) => rest,
        None => text,
    };
    let mut parts = text.split_whitespace();
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let year: i64 = match parts.next()?.parse::<i64>().ok()? {
        y @ 0..=49 => 2000 + y,
        y @ 50..=99 => 1900 + y,
        y => y,
    };
    let time = parts.next()?;
    let zone = parts.next().unwrap_or("GMT");
    let mut hms = time.split(':');
    let (h, m) = (hms.next()?, hms.next()?);
    let s = hms.next().unwrap_or("00");
    let base = Timestamp::parse_utc(&format!("{year:04}-{month:02}-{day:02}T{h}:{m}:{s}"))?;
    Some(base.plus_ms(-zone_offset_ms(zone)?))
}

/// Parses an RFC 3339 date-time with `Z` or a numeric offset (or a plain date).
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    // A numeric offset after the time: a '+' or '-' past the date part (`+00:00` included).
    match text.rfind(['+', '-']).filter(|&i| i > 10) {
        Some(at) => {
            let (local, offset) = text.split_at(at);
            let base = Timestamp::parse_utc(local)?;
            Some(base.plus_ms(-zone_offset_ms(offset)?))
        }
        None => Timestamp::parse_utc(text),
    }
}

/// A feed date in either format.
pub fn parse_feed_date(text: &str) -> Option<Timestamp> {
    parse_rfc3339(text).or_else(|| parse_rfc2822(text))
}

fn month_number(name: &str) -> Option<u32> {
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let name = name.get(..3)?.to_ascii_lowercase();
    months.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// A zone's offset east of UTC in milliseconds.
fn zone_offset_ms(zone: &str) -> Option<i64> {
    let hours = |h: i64| Some(h * 3_600_000);
    match zone.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" => hours(0),
        "EST" => hours(-5),
        "EDT" => hours(-4),
        "CST" => hours(-6),
        "CDT" => hours(-5),
        "MST" => hours(-7),
        "MDT" => hours(-6),
        "PST" => hours(-8),
        "PDT" => hours(-7),
        numeric => {
            let sign = match numeric.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = numeric[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            Some(sign * (h * 60 + m) * 60_000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Option<Timestamp> {
        Timestamp::parse_utc(text)
    }

    #[test]
    fn rss_dates() {
        assert_eq!(
            parse_rfc2822("Tue, 16 Jan 2018 10:00:00 +0000"),
            utc("2018-01-16T10:00:00Z")
        );
        assert_eq!(
            parse_rfc2822("Tue, 16 Jan 2018 12:30:00 +0230"),
            utc("2018-01-16T10:00:00Z")
        );
        assert_eq!(
            parse_rfc2822("16 Jan 18 05:00 EST"),
            utc("2018-01-16T10:00:00Z")
        );
        assert_eq!(
            parse_rfc2822("Tue, 16 January 2018 10:00:00 GMT"),
            utc("2018-01-16T10:00:00Z")
        );
        assert_eq!(parse_rfc2822("yesterday"), None);
        assert_eq!(parse_rfc2822("Tue, 16 Foo 2018 10:00:00 GMT"), None);
    }

    #[test]
    fn atom_dates() {
        assert_eq!(
            parse_rfc3339("2018-01-16T10:00:00Z"),
            utc("2018-01-16T10:00:00Z")
        );
        assert_eq!(
            parse_rfc3339("2018-01-16T12:00:00.250+02:00"),
            utc("2018-01-16T10:00:00.250Z")
        );
        assert_eq!(
            parse_rfc3339("2018-01-16T05:00:00-05:00"),
            utc("2018-01-16T10:00:00Z")
        );
        assert_eq!(
            parse_feed_date("Tue, 16 Jan 2018 10:00:00 GMT"),
            utc("2018-01-16T10:00:00Z")
        );
        assert_eq!(parse_feed_date("2018-13-01T00:00:00Z"), None);
    }
}
