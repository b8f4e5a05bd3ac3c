//! Several symbols' candles as one time-ordered stream, and cutting a stream to a range.

use std::borrow::Borrow;

use super::CandleSeries;
use crate::model::{Candle, Timestamp};

/// All candles of `series` in one stream ordered by open time. Candles with the same open time
/// come in the order of `series`, so the result is the same on every run.
pub fn merge<S: Borrow<CandleSeries>>(series: &[S]) -> Vec<Candle> {
    let total = series.iter().map(|s| s.borrow().candles.len()).sum();
    let mut merged: Vec<Candle> = Vec::with_capacity(total);
    for one in series {
        merged.extend(one.borrow().candles.iter().cloned());
    }
    // A stable sort keeps the order of `series` among equal open times; it also finds the
    // already sorted runs, so merging k series costs about n log k.
    merged.sort_by_key(|candle| candle.open_time);
    merged
}

/// The candles of a stream sorted by open time whose open time is in `[start, end)`;
/// `None` leaves that side open.
pub fn restrict(candles: &[Candle], start: Option<Timestamp>, end: Option<Timestamp>) -> &[Candle] {
    let from = start.map_or(0, |start| candles.partition_point(|c| c.open_time < start));
    let to = end.map_or(candles.len(), |end| {
        candles.partition_point(|c| c.open_time < end)
    });
    &candles[from..to.max(from)]
}
