//! OHLCV candles and their intervals.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Symbol, Timestamp};

/// A candle interval, such as `1m`, `1h` or `1d`, held as milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval(i64);

impl Interval {
    /// One minute.
    pub const MINUTE: Interval = Interval(60_000);
    /// One hour.
    pub const HOUR: Interval = Interval(3_600_000);
    /// One day.
    pub const DAY: Interval = Interval(86_400_000);

    /// An interval of `ms` milliseconds (must be positive).
    pub fn from_millis(ms: i64) -> Option<Self> {
        (ms > 0).then_some(Interval(ms))
    }

    /// Parses Binance's notation: `1s`, `1m`, `15m`, `1h`, `4h`, `1d`, `1w`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = text.split_at(split);
        let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
        let unit_ms = match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            _ => return None,
        };
        // Checked: a hostile count (`99999999999999999w`) is no interval, not an overflow.
        n.checked_mul(unit_ms).map(Interval)
    }

    /// Length in milliseconds.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// How many bars of this interval make a 365-day year (8760 for `1h`).
    pub fn bars_per_year(self) -> f64 {
        365.0 * 86_400_000.0 / self.0 as f64
    }

    /// The start of the bucket of this interval that contains `ts`; `i64::MIN` for a `ts` in
    /// the first, partial bucket of time (whose start is before `i64::MIN`).
    pub fn floor(self, ts: Timestamp) -> Timestamp {
        Timestamp(ts.0.saturating_sub(ts.0.rem_euclid(self.0)))
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(i64, &str); 5] = [
            (7 * 86_400_000, "w"),
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1_000, "s"),
        ];
        for (unit_ms, suffix) in UNITS {
            if self.0 % unit_ms == 0 {
                return write!(f, "{}{suffix}", self.0 / unit_ms);
            }
        }
        write!(f, "{}ms", self.0)
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Interval::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid interval `{text}`: expected e.g. 1m, 15m, 1h, 4h, 1d"
            ))
        })
    }
}

/// One closed OHLCV bar of one symbol. Prices are in the quote asset, volume in the base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candle {
    /// The pair this bar belongs to.
    pub symbol: Symbol,
    /// Start of the bar.
    pub open_time: Timestamp,
    /// Length of the bar.
    pub interval: Interval,
    /// First traded price.
    pub open: Decimal,
    /// Highest traded price.
    pub high: Decimal,
    /// Lowest traded price.
    pub low: Decimal,
    /// Last traded price.
    pub close: Decimal,
    /// Traded volume in the base asset.
    pub volume: Decimal,
}

impl Candle {
    /// The instant the bar closes: decisions made on this bar carry this event time.
    pub fn close_time(&self) -> Timestamp {
        self.open_time.plus_ms(self.interval.millis())
    }
}

/// The smallest price a bar may carry: Binance's smallest tick (8 decimals).
pub const MIN_CANDLE_PRICE: Decimal = Decimal::from_parts(1, 0, 0, false, 8);
/// The largest price a bar may carry (10^10; Binance's `maxPrice` is 10^6 for most pairs).
pub const MAX_CANDLE_PRICE: Decimal = Decimal::from_parts(1_410_065_408, 2, 0, false, 0);
/// The largest volume a bar may carry (10^18). With the price bounds this keeps every
/// product of a price, a volume or a quantity bought with a sane account far inside
/// `Decimal`'s range (about 7.9 × 10^28), so that no bar can make the decision code's
/// arithmetic overflow.
pub const MAX_CANDLE_VOLUME: Decimal = Decimal::from_parts(2_808_348_672, 232_830_643, 0, false, 0);

/// Checks a bar's open, high, low, close and volume: prices within
/// [[`MIN_CANDLE_PRICE`], [`MAX_CANDLE_PRICE`]], a volume within [0, [`MAX_CANDLE_VOLUME`]],
/// and open and close within `[low, high]`. Shared by the file loaders and the venue feeds.
pub fn check_ohlcv(values: [Decimal; 5]) -> Result<(), String> {
    let [open, high, low, close, volume] = values;
    // The same bounds in fewer comparisons: with `low <= open, close <= high`, the low alone
    // is checked against the smallest price and the high alone against the largest. Only a
    // bar that fails this looks again, field by field, to name what is wrong.
    let sane = low >= MIN_CANDLE_PRICE
        && high <= MAX_CANDLE_PRICE
        && low <= open
        && open <= high
        && low <= close
        && close <= high
        && !volume.is_sign_negative()
        && volume <= MAX_CANDLE_VOLUME;
    if sane {
        return Ok(());
    }
    explain_ohlcv(open, high, low, close, volume)
}

/// Why [`check_ohlcv`] refuses a bar, naming the first field that breaks a rule.
fn explain_ohlcv(
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
) -> Result<(), String> {
    for (name, price) in [
        ("open", open),
        ("high", high),
        ("low", low),
        ("close", close),
    ] {
        if price <= Decimal::ZERO {
            return Err(format!("{name}: price must be positive, found {price}"));
        }
        if price < MIN_CANDLE_PRICE || price > MAX_CANDLE_PRICE {
            return Err(format!(
                "{name}: price {price} is outside [{MIN_CANDLE_PRICE}, {MAX_CANDLE_PRICE}], the \
                 prices keel trades"
            ));
        }
    }
    if volume < Decimal::ZERO {
        return Err(format!("volume must not be negative, found {volume}"));
    }
    if volume > MAX_CANDLE_VOLUME {
        return Err(format!(
            "volume {volume} is above {MAX_CANDLE_VOLUME}, the largest keel accepts"
        ));
    }
    if high < low {
        return Err(format!("high {high} is below low {low}"));
    }
    for (name, price) in [("open", open), ("close", close)] {
        if price < low || price > high {
            return Err(format!(
                "{name} {price} is outside [low {low}, high {high}]"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_and_print() {
        for text in ["1s", "1m", "15m", "1h", "4h", "1d", "1w"] {
            assert_eq!(Interval::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Interval::parse("1h").unwrap().bars_per_year(), 8760.0);
        assert!(Interval::parse("0h").is_none());
        assert!(Interval::parse("h").is_none());
        assert!(Interval::parse("1y").is_none());
        assert!(Interval::parse("99999999999999999w").is_none());
    }

    #[test]
    fn bars_outside_the_prices_and_volumes_keel_trades_are_refused_naming_the_field() {
        assert_eq!(MIN_CANDLE_PRICE.to_string(), "0.00000001");
        assert_eq!(MAX_CANDLE_PRICE.to_string(), "10000000000");
        assert_eq!(MAX_CANDLE_VOLUME.to_string(), "1000000000000000000");
        let bar = |high: Decimal, low: Decimal, volume: Decimal| {
            check_ohlcv([low, high, low, high, volume])
        };
        let one = Decimal::ONE;
        assert_eq!(
            bar(MAX_CANDLE_PRICE, MIN_CANDLE_PRICE, MAX_CANDLE_VOLUME),
            Ok(())
        );
        let err = bar(MAX_CANDLE_PRICE + one, one, one).unwrap_err();
        assert!(
            err.starts_with("high: price 10000000001 is outside"),
            "{err}"
        );
        let err = bar(one, MIN_CANDLE_PRICE / Decimal::TEN, one).unwrap_err();
        assert!(
            err.starts_with("open: price 0.0000000010 is outside"),
            "{err}"
        );
        let err = bar(one, one, MAX_CANDLE_VOLUME + one).unwrap_err();
        assert!(
            err.starts_with("volume 1000000000000000001 is above"),
            "{err}"
        );
        assert_eq!(
            Interval::HOUR.floor(Timestamp(3_600_000 * 5 + 1234)),
            Timestamp(3_600_000 * 5)
        );
    }

    /// The quick acceptance never accepts what the field-by-field rules refuse, and never
    /// changes their message: every combination of values at and around each bound.
    #[test]
    fn the_quick_check_agrees_with_the_field_by_field_rules_at_every_bound() {
        let ten = Decimal::TEN;
        let prices = [
            -Decimal::ONE,
            Decimal::NEGATIVE_ONE * Decimal::ZERO,
            Decimal::ZERO,
            MIN_CANDLE_PRICE / ten,
            MIN_CANDLE_PRICE,
            Decimal::ONE,
            Decimal::new(20, 1),
            MAX_CANDLE_PRICE,
            Decimal::new(1_000_000_000_000, 2),
            MAX_CANDLE_PRICE + MIN_CANDLE_PRICE,
            MAX_CANDLE_PRICE + Decimal::ONE,
        ];
        let volumes = [
            -Decimal::ONE,
            Decimal::NEGATIVE_ONE * Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ONE,
            MAX_CANDLE_VOLUME,
            MAX_CANDLE_VOLUME + MIN_CANDLE_PRICE,
            MAX_CANDLE_VOLUME + Decimal::ONE,
        ];
        let mut accepted = 0;
        for open in prices {
            for high in prices {
                for low in prices {
                    for close in prices {
                        for volume in volumes {
                            let quick = check_ohlcv([open, high, low, close, volume]);
                            let rules = explain_ohlcv(open, high, low, close, volume);
                            assert_eq!(quick, rules, "{open} {high} {low} {close} {volume}");
                            accepted += usize::from(quick.is_ok());
                        }
                    }
                }
            }
        }
        assert!(accepted > 0, "some bars are sane");
    }

    /// A candle file's open time of -9223372036854775808 panicked here (subtract with
    /// overflow) while the loader checked its alignment.
    #[test]
    fn the_first_partial_bucket_of_time_floors_to_i64_min() {
        assert_eq!(
            Interval::MINUTE.floor(Timestamp(i64::MIN)),
            Timestamp(i64::MIN)
        );
        assert_eq!(
            Interval::HOUR.floor(Timestamp(i64::MIN + 1)),
            Timestamp(i64::MIN)
        );
        assert_eq!(
            Interval::MINUTE.floor(Timestamp(i64::MAX)),
            Timestamp(i64::MAX - i64::MAX % 60_000)
        );
    }
}
