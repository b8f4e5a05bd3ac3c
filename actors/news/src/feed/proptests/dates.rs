//! Feed dates: every form feeds write, generated from an instant whose milliseconds are
//! computed here by the civil-calendar formula (not by the `time` crate), absurd components,
//! and random text.

use proptest::prelude::*;

use crate::feed::{parse_feed_date, parse_iso8601_utc, parse_rfc2822, parse_rfc3339};
use crate::model::Timestamp;
use crate::testing::props::config;
use keel_core::testing::Rng;

/// A civil date-time and the offset it was written in (minutes east of UTC).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Civil {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Sub-second digits as written (RFC 3339 only), e.g. "250".
    pub fraction: u32,
    pub fraction_digits: u32,
    pub offset: i32,
}

fn leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(super) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Civil {
    /// The instant in milliseconds (fraction truncated to milliseconds).
    pub fn millis(&self) -> i64 {
        let seconds = days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
            - i64::from(self.offset) * 60;
        let ms = if self.fraction_digits == 0 {
            0
        } else {
            let scaled = u64::from(self.fraction) * 1000 / 10u64.pow(self.fraction_digits);
            scaled as i64
        };
        seconds * 1000 + ms
    }

    /// Weekday name (1970-01-01 was a Thursday).
    fn weekday(&self) -> &'static str {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        DAYS[days_from_civil(self.year, self.month, self.day).rem_euclid(7) as usize]
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(super) fn civil(years: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = Civil> {
    (
        years,
        1u32..=12,
        1u32..=31,
        0u32..24,
        0u32..60,
        0u32..60,
        (0u32..=9).prop_flat_map(|digits| (Just(digits), 0..10u32.pow(digits))),
        prop_oneof![Just(0), -1439i32..=1439, (-12i32..=14).prop_map(|h| h * 60)],
    )
        .prop_map(
            |(year, month, day, hour, minute, second, (fraction_digits, fraction), offset)| Civil {
                year,
                month,
                day: 1 + (day - 1) % days_in_month(year, month),
                hour,
                minute,
                second,
                fraction,
                fraction_digits,
                offset,
            },
        )
}

fn offset_text(offset: i32, colon: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 60, offset.abs() % 60);
    if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// Some RFC 2822 form of `c` (years 1900 on), and the instant it denotes.
pub(super) fn rfc2822(mut c: Civil, seed: u64) -> (String, i64) {
    let mut rng = Rng::new(seed);
    c.fraction_digits = 0;
    let sp = |rng: &mut Rng| if rng.one_in(5) { "  " } else { " " };
    let mut text = String::new();
    match rng.below(4) {
        0 => {}
        1 => text.push_str(&format!("{},{}", c.weekday().to_uppercase(), sp(&mut rng))),
        2 => {
            let full = match c.weekday() {
                "Thu" => "Thursday",
                "Fri" => "Friday",
                "Sat" => "Saturday",
                "Sun" => "Sunday",
                "Mon" => "Monday",
                "Tue" => "Tuesday",
                _ => "Wednesday",
            };
            text.push_str(&format!("{full},{}", sp(&mut rng)));
        }
        _ => text.push_str(&format!("{},{}", c.weekday(), sp(&mut rng))),
    }
    if rng.one_in(2) {
        text.push_str(&format!("{:02}", c.day));
    } else {
        text.push_str(&c.day.to_string());
    }
    text.push_str(sp(&mut rng));
    let month = MONTHS[c.month as usize - 1];
    text.push_str(&match rng.below(4) {
        0 => month.to_string(),
        1 => month[..3].to_lowercase(),
        2 => month[..3].to_uppercase(),
        _ => month[..3].to_string(),
    });
    text.push_str(sp(&mut rng));
    if (1950..=2049).contains(&c.year) && rng.one_in(3) {
        text.push_str(&format!("{:02}", c.year % 100));
    } else {
        text.push_str(&c.year.to_string());
    }
    text.push_str(sp(&mut rng));
    if c.hour < 10 && rng.one_in(4) {
        text.push_str(&c.hour.to_string());
    } else {
        text.push_str(&format!("{:02}", c.hour));
    }
    text.push_str(&format!(":{:02}", c.minute));
    if c.second != 0 || rng.one_in(2) {
        text.push_str(&format!(":{:02}", c.second));
    }
    const NAMED: [(&str, i32); 8] = [
        ("EST", -300),
        ("EDT", -240),
        ("CST", -360),
        ("CDT", -300),
        ("MST", -420),
        ("MDT", -360),
        ("PST", -480),
        ("PDT", -420),
    ];
    let named: Vec<&str> = NAMED
        .iter()
        .filter(|n| n.1 == c.offset)
        .map(|n| n.0)
        .collect();
    let zone = match rng.below(4) {
        0 if c.offset == 0 => {
            (*rng.pick(&["GMT", "UT", "UTC", "Z", "gmt", "+0000", "-0000", ""])).to_string()
        }
        1 if !named.is_empty() => (*rng.pick(&named)).to_string(),
        2 => offset_text(c.offset, true),
        _ => offset_text(c.offset, false),
    };
    if !zone.is_empty() {
        text.push_str(sp(&mut rng));
        text.push_str(&zone);
    }
    (text, c.millis())
}

/// Some RFC 3339 / W3C form of `c` (years 0000–9999), and the instant it denotes.
pub(super) fn rfc3339(mut c: Civil, seed: u64) -> (String, i64) {
    let mut rng = Rng::new(seed);
    let form = rng.below(6);
    if form == 0 {
        // A date alone: midnight UTC.
        (c.hour, c.minute, c.second, c.fraction_digits, c.offset) = (0, 0, 0, 0, 0);
        return (
            format!("{:04}-{:02}-{:02}", c.year, c.month, c.day),
            c.millis(),
        );
    }
    let mut text = format!("{:04}-{:02}-{:02}", c.year, c.month, c.day);
    text.push(*rng.pick(&['T', 'T', 't', ' ']));
    text.push_str(&format!("{:02}:{:02}", c.hour, c.minute));
    if form == 1 {
        (c.second, c.fraction_digits) = (0, 0);
    } else {
        text.push_str(&format!(":{:02}", c.second));
        if c.fraction_digits > 0 {
            let width = c.fraction_digits as usize;
            text.push_str(&format!(".{:0width$}", c.fraction));
        }
    }
    match rng.below(4) {
        0 => c.offset = 0,
        1 if c.offset == 0 => text.push(*rng.pick(&['Z', 'z'])),
        2 => text.push_str(&offset_text(c.offset, false)),
        _ => text.push_str(&offset_text(c.offset, true)),
    }
    (text, c.millis())
}

/// A date made impossible by one component, in either format.
fn absurd(c: Civil, which: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let (mut text, _) = if which.is_multiple_of(2) {
        rfc2822(Civil { offset: 0, ..c }, seed)
    } else {
        rfc3339(Civil { offset: 0, ..c }, seed)
    };
    let iso = which % 2 == 1;
    let dim = days_in_month(c.year, c.month);
    let bad_day = *rng.pick(&[0, dim + 1, 32, 99]);
    match which / 2 % 6 {
        0 if iso => {
            text = format!("{:04}-{:02}-{:02}T10:00:00Z", c.year, c.month, bad_day);
        }
        0 => {
            let month = &MONTHS[c.month as usize - 1][..3];
            text = format!("{bad_day} {month} {} 10:00:00 GMT", c.year);
        }
        1 if iso => {
            let month = *rng.pick(&[0, 13, 99]);
            text = format!("{:04}-{month:02}-01T10:00:00Z", c.year);
        }
        1 => {
            let year = *rng.pick(&[99999, 10000, 1899, 0, 123]);
            text = format!("01 Jan {year} 10:00:00 GMT");
        }
        2 => {
            let (h, m, s) = *rng.pick(&[
                (24, 0, 0),
                (99, 0, 0),
                (10, 60, 0),
                (10, 0, 61),
                (10, 99, 99),
            ]);
            text = if iso {
                format!("2018-01-16T{h:02}:{m:02}:{s:02}Z")
            } else {
                format!("16 Jan 2018 {h:02}:{m:02}:{s:02} GMT")
            };
        }
        3 => {
            let zone = *rng.pick(&[
                "+99:99", "+2400", "-2500", "+9999", "+0060", "-12:60", "+24:00",
            ]);
            text = if iso {
                format!("2018-01-16T10:00:00{zone}")
            } else {
                format!("16 Jan 2018 10:00:00 {zone}")
            };
        }
        4 => {
            // 29 February of a common year.
            let year = *rng.pick(&[1900, 2018, 2100, 2023]);
            text = if iso {
                format!("{year}-02-29T10:00:00Z")
            } else {
                format!("29 Feb {year} 10:00:00 GMT")
            };
        }
        _ => {
            let junk = *rng.pick(&["junk", "+", "Z Z", ".", "T"]);
            text.push_str(junk);
        }
    }
    text
}

/// Milliseconds of 0000-01-01 and of 9999-12-31T23:59:59.999, a day's slack each way.
const EARLIEST: i64 = -62_167_219_200_000 - 86_400_000;
const LATEST: i64 = 253_402_300_799_999 + 86_400_000;

fn sane(result: &Result<Timestamp, crate::feed::DateError>) -> bool {
    match result {
        Ok(t) => (EARLIEST..=LATEST).contains(&t.millis()) && !t.to_string().is_empty(),
        Err(e) => !e.reason.is_empty() && e.text.chars().count() <= 65,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every RFC 2822 form reads as the instant written.
    #[test]
    fn rss_dates_read_exactly(c in civil(1900..=2099), seed in any::<u64>()) {
        let (text, millis) = rfc2822(c, seed);
        prop_assert_eq!(parse_rfc2822(&text), Ok(Timestamp(millis)), "{}", text);
        prop_assert_eq!(parse_feed_date(&text), Ok(Timestamp(millis)), "{}", text);
    }

    /// Every RFC 3339 / W3C form reads as the instant written; the UTC ones also as a
    /// headline file's time.
    #[test]
    fn atom_dates_read_exactly(c in civil(0..=9999), seed in any::<u64>()) {
        let (text, millis) = rfc3339(c, seed);
        prop_assert_eq!(parse_rfc3339(&text), Ok(Timestamp(millis)), "{}", text);
        prop_assert_eq!(parse_feed_date(&text), Ok(Timestamp(millis)), "{}", text);
        let utc = !text.contains(['+']) && text.get(10..).is_none_or(|t| !t.contains('-'));
        if utc {
            prop_assert_eq!(parse_iso8601_utc(&text), Ok(Timestamp(millis)), "{}", text);
        }
    }

    /// An impossible component is refused, never read as another date.
    #[test]
    fn absurd_dates_are_refused(c in civil(1900..=2099), which in 0usize..12, seed in any::<u64>()) {
        let text = absurd(c, which, seed);
        let got = parse_feed_date(&text);
        prop_assert!(got.is_err(), "{} read as {:?}", text, got);
        prop_assert!(sane(&got));
    }

    /// Damaged dates and random text never panic; what reads is within the calendar.
    #[test]
    fn damaged_dates_never_panic(c in civil(0..=9999), seed in any::<u64>(), noise in ".{0,40}") {
        let mut rng = Rng::new(seed);
        let (text, _) = if rng.one_in(2) { rfc2822(Civil { year: c.year.max(1900), ..c }, seed) } else { rfc3339(c, seed) };
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(chars.len() + 1);
            let c = *rng.pick(&['0', '9', ':', '+', '-', ' ', ',', 'T', 'Z', '.', 'é', 'x', '\u{0}']);
            match rng.below(3) {
                0 if at < chars.len() => chars[at] = c,
                1 if at < chars.len() => { chars.remove(at); }
                _ => chars.insert(at, c),
            }
        }
        let damaged: String = chars.into_iter().collect();
        for text in [damaged.as_str(), noise.as_str()] {
            prop_assert!(sane(&parse_feed_date(text)));
            prop_assert!(sane(&parse_rfc2822(text)));
            prop_assert!(sane(&parse_rfc3339(text)));
            prop_assert!(sane(&parse_iso8601_utc(text)));
        }
    }
}
