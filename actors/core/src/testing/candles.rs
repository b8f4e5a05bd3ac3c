//! Candles for tests that care about a candle's symbol and time, not its prices.

use rust_decimal::Decimal;

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
