//! Event time and the injectable clock. Cores never read the wall clock themselves.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// Milliseconds in one UTC day.
pub const MS_PER_DAY: i64 = 86_400_000;

/// A point in time: milliseconds since the Unix epoch, UTC.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The UTC day number (days since the epoch) this instant falls in.
    pub const fn utc_day(self) -> i64 {
        self.0.div_euclid(MS_PER_DAY)
    }

    /// This instant plus `ms` milliseconds (saturating at the ends of the range).
    pub const fn plus_ms(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// Parses RFC 3339 / ISO 8601 UTC forms: `2018-01-18T09:45:28.965353Z`,
    /// `2018-01-18T09:45:28Z`, `2018-01-18 09:45:28`, or a plain date `2018-01-18`.
    pub fn parse_utc(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text
            .strip_suffix('Z')
            .or_else(|| text.strip_suffix("+00:00"))
            .unwrap_or(text);
        let (date, time) = match text.split_once(['T', ' ']) {
            Some((d, t)) => (d, Some(t)),
            None => (text, None),
        };
        let mut parts = date.split('-');
        let year: i32 = digits(parts.next()?, 4)?;
        let month: u8 = digits(parts.next()?, 2)?;
        let day: u8 = digits(parts.next()?, 2)?;
        if parts.next().is_some() {
            return None;
        }
        // A real calendar day (no 31 February) within `time`'s years (±9999): far inside i64
        // milliseconds, so nothing below can overflow.
        let date =
            time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
        let mut ms = (i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY) * MS_PER_DAY;
        if let Some(time) = time {
            let (hms, frac) = match time.split_once('.') {
                Some((hms, frac)) => (hms, Some(frac)),
                None => (time, None),
            };
            let mut hms = hms.split(':');
            let h: i64 = digits(hms.next()?, 2)?;
            let m: i64 = digits(hms.next()?, 2)?;
            let s: i64 = digits(hms.next().unwrap_or("0"), 2)?;
            if hms.next().is_some() || h > 23 || m > 59 || s > 60 {
                return None;
            }
            ms += ((h * 60 + m) * 60 + s) * 1000;
            if let Some(frac) = frac {
                // Any number of digits, of which the first three are the milliseconds.
                if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let millis = &frac[..frac.len().min(3)];
                let scale = 10i64.pow(3 - millis.len() as u32);
                ms += digits::<i64>(millis, 3)? * scale;
            }
        }
        Some(Timestamp(ms))
    }
}

/// `text` as a number when it is 1 to `max` ASCII digits: no sign, no space (which `parse`
/// alone would accept or trip over differently).
fn digits<T: std::str::FromStr>(text: &str, max: usize) -> Option<T> {
    if text.is_empty() || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

impl fmt::Display for Timestamp {
    /// Formats as `YYYY-MM-DDTHH:MM:SSZ` (UTC); an instant beyond the calendar's years
    /// (±9999) as its milliseconds, `<ms>ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let secs = self.0.rem_euclid(MS_PER_DAY) / 1000;
        let date = i32::try_from(days + UNIX_EPOCH_JULIAN_DAY)
            .ok()
            .and_then(|julian| time::Date::from_julian_day(julian).ok());
        let Some(date) = date else {
            return write!(f, "{}ms", self.0);
        };
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            date.year(),
            u8::from(date.month()),
            date.day(),
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    }
}

/// Event time as a monotonic [`std::time::Instant`], for `keel-supervision`'s state machines
/// (breakers measure their spans in instants): the first event seen is pinned to the moment
/// it is seen, later ones are placed at their event-time distance from it (never before it).
#[derive(Debug, Clone, Copy, Default)]
pub struct EventInstants(Option<(Timestamp, std::time::Instant)>);

impl EventInstants {
    /// `now` as an instant.
    pub fn at(&mut self, now: Timestamp) -> std::time::Instant {
        let (t0, i0) = *self.0.get_or_insert((now, std::time::Instant::now()));
        i0 + std::time::Duration::from_millis(now.millis().saturating_sub(t0.millis()).max(0) as u64)
    }
}

/// Where time comes from. Live code uses [`SystemClock`]; backtests and tests use
/// [`ManualClock`], advanced by event time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(since.as_millis() as i64)
    }
}

/// A clock that only moves when told to: by event time in replays, by the test in tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.0))
    }

    /// Moves the clock to `to` (never backwards).
    pub fn set(&self, to: Timestamp) {
        self.0.fetch_max(to.0, Ordering::SeqCst);
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms.max(0), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// The close of the newest bar the venue has closed, as the market feed learns it (`None`
/// before it learns any): the market's own clock, which a replaying venue keeps as faithfully
/// as a live one. Shared between the feed, which moves it, and the stages that judge how old
/// a bar is by it.
#[derive(Debug)]
pub struct MarketClock(AtomicI64);

impl Default for MarketClock {
    fn default() -> Self {
        Self(AtomicI64::new(i64::MIN))
    }
}

impl MarketClock {
    /// The venue has closed a bar at `close` (never moves the clock backwards).
    pub fn observe(&self, close: Timestamp) {
        self.0.fetch_max(close.0, Ordering::SeqCst);
    }

    /// The newest close observed.
    pub fn newest_close(&self) -> Option<Timestamp> {
        let ms = self.0.load(Ordering::SeqCst);
        (ms != i64::MIN).then_some(Timestamp(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_market_clock_knows_nothing_until_told_and_never_goes_back() {
        let clock = MarketClock::default();
        assert_eq!(clock.newest_close(), None);
        clock.observe(Timestamp(7_200_000));
        clock.observe(Timestamp(3_600_000));
        assert_eq!(clock.newest_close(), Some(Timestamp(7_200_000)));
    }

    #[test]
    fn parses_and_formats_utc() {
        let ts = Timestamp::parse_utc("2018-01-18T09:45:28.965353Z").unwrap();
        assert_eq!(ts.0, 1_516_268_728_965);
        assert_eq!(ts.to_string(), "2018-01-18T09:45:28Z");
        assert_eq!(
            Timestamp::parse_utc("2017-08-17").unwrap().0,
            1_502_928_000_000
        );
        assert_eq!(
            Timestamp(1_502_942_400_000).to_string(),
            "2017-08-17T04:00:00Z"
        );
        assert!(Timestamp::parse_utc("2018-13-01").is_none());
        assert!(Timestamp::parse_utc("yesterday").is_none());
    }

    #[test]
    fn signs_spaces_and_stray_parts_are_refused_not_read_as_numbers() {
        for bad in [
            "2018-01-01T-1:00:00Z",
            "2018-01-01T+5:00Z",
            "2018-+1-01",
            "2018-01-+1",
            "+2018-01-01",
            "2018-01-01T12:-0:00Z",
            "2018-01-01T12:00:00:99Z",
            "2018-01-01T12:00:00.Z",
            "2018-01-01T12:00:00.12xZ",
            "2018-01-01T12:00:00.-5Z",
            "2018-01-01T 1:00:00Z",
            "2018-001-01",
            "2018-01-01T123:00Z",
        ] {
            assert_eq!(Timestamp::parse_utc(bad), None, "{bad}");
        }
        assert_eq!(
            Timestamp::parse_utc("2018-01-01T12:00:00.123456789Z")
                .unwrap()
                .millis(),
            Timestamp::parse_utc("2018-01-01T12:00:00Z")
                .unwrap()
                .millis()
                + 123
        );
        assert_eq!(
            Timestamp::parse_utc("2018-1-2T3:4:5Z").unwrap().to_string(),
            "2018-01-02T03:04:05Z"
        );
    }

    #[test]
    fn impossible_days_and_absurd_years_are_refused_never_a_panic() {
        assert!(Timestamp::parse_utc("2018-02-31").is_none(), "31 February");
        assert!(
            Timestamp::parse_utc("2019-02-29").is_none(),
            "not a leap year"
        );
        assert_eq!(
            Timestamp::parse_utc("2020-02-29").unwrap().to_string(),
            "2020-02-29T00:00:00Z"
        );
        for absurd in [
            "99999999999-01-01",
            "-99999999999-01-01",
            "2147483647-12-31T23:59:59Z",
            "18446744073709551616-01-01",
        ] {
            assert!(Timestamp::parse_utc(absurd).is_none(), "{absurd}");
        }
        assert_eq!(
            Timestamp::parse_utc("1969-12-31T23:59:59Z").unwrap().0,
            -1_000
        );
        assert_eq!(Timestamp(i64::MAX).to_string(), format!("{}ms", i64::MAX));
        assert_eq!(Timestamp(i64::MIN).to_string(), format!("{}ms", i64::MIN));
        assert_eq!(Timestamp(i64::MAX).plus_ms(1), Timestamp(i64::MAX));
    }

    #[test]
    fn manual_clock_never_goes_backwards() {
        let clock = ManualClock::new(Timestamp(1000));
        clock.set(Timestamp(500));
        assert_eq!(clock.now(), Timestamp(1000));
        clock.advance(250);
        assert_eq!(clock.now(), Timestamp(1250));
    }
}
