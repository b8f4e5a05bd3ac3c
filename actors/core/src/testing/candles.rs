//! Candles for tests: flat ones for tests that care about a candle's symbol and time, and
//! random valid prices for property tests.

use rust_decimal::Decimal;

use super::Rng;
use crate::model::{Candle, Interval, Symbol, Timestamp};

/// An hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// The hourly candle of `symbol` opening `hour` hours after the epoch, every price 1.
pub fn flat_hour(symbol: &Symbol, hour: i64) -> Candle {
    Candle {
        symbol: symbol.clone(),
        open_time: Timestamp(hour * HOUR_MS),
        interval: Interval::HOUR,
        open: Decimal::ONE,
        high: Decimal::ONE,
        low: Decimal::ONE,
        close: Decimal::ONE,
        volume: Decimal::ONE,
    }
}

/// A price a candle may hold (10^-8..=10^10, `MIN_CANDLE_PRICE`..=`MAX_CANDLE_PRICE`), with
/// up to 8 places and up to 13 significant digits.
pub fn candle_price(rng: &mut Rng) -> Decimal {
    let scale = rng.below(9) as u32;
    let digits = 10_000_000_000_000_u64.min(10_u64.pow(10 + scale));
    Decimal::new(1 + (rng.next() % digits) as i64, scale)
}

/// A consistent bar's `[open, high, low, close]` from four [`candle_price`]s: the highest is
/// the high, the lowest the low, the middle two the open and the close in either order.
pub fn candle_ohlc(rng: &mut Rng) -> [Decimal; 4] {
    let mut p: [Decimal; 4] = std::array::from_fn(|_| candle_price(rng));
    p.sort();
    let (open, close) = if rng.one_in(2) {
        (p[1], p[2])
    } else {
        (p[2], p[1])
    };
    [open, p[3], p[0], close]
}
