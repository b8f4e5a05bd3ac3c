//! Market data from files (crate `keel-data`): loading candles (freqtrade JSON, CSV, optionally gzipped) with a
//! quality report, merging several symbols into one time-ordered stream, building candles
//! from trades, and rolling candles up into longer intervals.
//!
//! Nothing here invents or repairs data: invalid rows are rejected with the file and row
//! named, duplicates and out-of-order rows are dropped and counted, and holes are reported
//! as gaps. Loaders do file I/O; everything else is pure.

#![warn(missing_docs)]

mod aggregate;
mod align;
mod error;
mod fields;
mod json_rows;
mod load;
mod merge;
mod quality;
mod source;
mod trades;

pub use aggregate::{resample, resample_with, IncompleteBuckets, Resampled};
pub use align::BarAligner;
pub use error::DataError;
pub use load::{guess_symbol_and_interval, load_candles, CandleSeries};
pub use merge::{merge, restrict};
pub use quality::{Gap, QualityReport, Reject};
pub use trades::{load_trades, trades_to_candles, Trade};

use keel_model as model;
use model::{Interval, Timestamp, MS_PER_DAY};

/// The open time of the bar of `interval` that contains `ts`.
///
/// Bars are aligned to the Unix epoch ([`Interval::floor`]), except intervals of whole weeks,
/// which start on Monday 00:00 UTC as Binance's do (the epoch fell on a Thursday).
pub fn bar_start(interval: Interval, ts: Timestamp) -> Timestamp {
    Timestamp(ts.0.saturating_sub(into_bar(interval, ts) as i64))
}

/// Whether `ts` is the open time of a bar of `interval` ([`bar_start`] of itself). A time in
/// the first, partial bar of time is not, though its bar start saturates to it.
pub(crate) fn is_bar_start(interval: Interval, ts: Timestamp) -> bool {
    into_bar(interval, ts) == 0
}

/// How far `ts` is into its bar of `interval`, in i128: a time near i64::MIN is no reason to
/// overflow.
fn into_bar(interval: Interval, ts: Timestamp) -> i128 {
    const WEEK: i64 = 7 * MS_PER_DAY;
    const FIRST_MONDAY: i64 = 4 * MS_PER_DAY;
    let step = interval.millis();
    let origin = if step % WEEK == 0 { FIRST_MONDAY } else { 0 };
    (i128::from(ts.0) - i128::from(origin)).rem_euclid(step.into())
}

#[cfg(test)]
mod load_props;
#[cfg(test)]
mod load_tests;
#[cfg(test)]
mod real_data_tests;
#[cfg(test)]
mod reshape_tests;

#[cfg(test)]
mod bar_start_tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_shorter_bars_on_the_epoch() {
        let monday = Timestamp::parse_utc("2018-02-05").unwrap();
        let week = Interval::parse("1w").unwrap();
        let later = Timestamp::parse_utc("2018-02-11T23:59:59Z").unwrap();
        assert_eq!(bar_start(week, later), monday);
        assert_eq!(bar_start(week, monday), monday);
        let four_hours = Interval::parse("4h").unwrap();
        let ts = Timestamp::parse_utc("2018-02-05T07:30:00Z").unwrap();
        assert_eq!(
            bar_start(four_hours, ts),
            Timestamp::parse_utc("2018-02-05T04:00:00Z").unwrap()
        );
    }

    /// Open times near i64::MIN in a candle file overflowed here (and in `Interval::floor`).
    #[test]
    fn times_at_the_ends_of_i64_have_a_bar_start_not_an_overflow() {
        let week = Interval::parse("1w").unwrap();
        assert_eq!(bar_start(week, Timestamp(i64::MIN)), Timestamp(i64::MIN));
        assert_eq!(
            bar_start(week, Timestamp(i64::MIN + 1)),
            Timestamp(i64::MIN)
        );
        let last = bar_start(week, Timestamp(i64::MAX));
        assert!(i64::MAX - last.0 < week.millis() && is_bar_start(week, last));
    }
}
