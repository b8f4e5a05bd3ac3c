//! Rolling one symbol's candles up into a longer interval (1h into 4h, 1d, ...).

use super::{bar_start, DataError};
use crate::model::{Candle, Interval, Timestamp};

/// What to do with a bucket of the longer interval when some of its sub-bars are missing.
///
/// A missing sub-bar means either that nothing traded (an exchange outage: Binance's own 4h
/// bar is then exactly the roll-up of the 1h bars that exist, as in BTC/USDT on 2018-02-08)
/// or that the data is incomplete; the candles alone cannot tell which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncompleteBuckets {
    /// Leave the bucket out, so every bar produced covers its whole interval (the default).
    #[default]
    Skip,
    /// Roll up the sub-bars that exist, as the exchange does when nothing traded.
    Keep,
}

/// Candles rolled up into a longer interval.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resampled {
    /// The longer bars, increasing in open time.
    pub candles: Vec<Candle>,
    /// Open times of the buckets that lacked sub-bars (skipped or kept, as asked).
    pub incomplete: Vec<Timestamp>,
}

/// Rolls `candles` up into `to`, leaving out every bucket that lacks a sub-bar.
/// See [`resample_with`].
pub fn resample(candles: &[Candle], to: Interval) -> Result<Resampled, DataError> {
    resample_with(candles, to, IncompleteBuckets::Skip)
}

/// Rolls one symbol's candles (strictly increasing, one interval, aligned to it) up into the
/// interval `to`, a whole multiple of theirs. Each bar takes the first open, the last close,
/// the extreme high and low and the summed volume of its sub-bars; buckets are aligned as
/// [`bar_start`](super::bar_start) says. Buckets missing sub-bars are handled as `incomplete` says
/// and always listed in [`Resampled::incomplete`].
pub fn resample_with(
    candles: &[Candle],
    to: Interval,
    incomplete: IncompleteBuckets,
) -> Result<Resampled, DataError> {
    let Some(first) = candles.first() else {
        return Ok(Resampled::default());
    };
    let from = first.interval;
    if to.millis() < from.millis() || to.millis() % from.millis() != 0 {
        return Err(DataError::NotAMultiple { from, to });
    }
    let per_bucket = to.millis() / from.millis();
    let mut out = Resampled {
        candles: Vec::with_capacity(candles.len() / per_bucket as usize + 1),
        incomplete: Vec::new(),
    };
    let mut current: Option<(Candle, i64)> = None;
    let mut previous: Option<Timestamp> = None;
    for candle in candles {
        check_member(candle, first, previous)?;
        previous = Some(candle.open_time);
        let bucket = bar_start(to, candle.open_time);
        match &mut current {
            Some((bar, count)) if bar.open_time == bucket => {
                bar.high = bar.high.max(candle.high);
                bar.low = bar.low.min(candle.low);
                bar.close = candle.close;
                bar.volume += candle.volume;
                *count += 1;
            }
            _ => {
                let started = Candle {
                    open_time: bucket,
                    interval: to,
                    ..candle.clone()
                };
                if let Some(done) = current.replace((started, 1)) {
                    finish(done, per_bucket, incomplete, &mut out);
                }
            }
        }
    }
    if let Some(done) = current {
        finish(done, per_bucket, incomplete, &mut out);
    }
    Ok(out)
}

/// Checks that `candle` continues the series that `first` starts, after `previous`.
fn check_member(
    candle: &Candle,
    first: &Candle,
    previous: Option<Timestamp>,
) -> Result<(), DataError> {
    let at = candle.open_time;
    let problem = if candle.symbol != first.symbol {
        format!(
            "the candle at {at} is {}, not {}: resample one symbol at a time",
            candle.symbol, first.symbol
        )
    } else if candle.interval != first.interval {
        format!(
            "the candle at {at} is {}, not {}",
            candle.interval, first.interval
        )
    } else if previous.is_some_and(|previous| at <= previous) {
        format!(
            "candles must be strictly increasing in open time; {at} comes after {}",
            previous.unwrap_or(at)
        )
    } else if bar_start(candle.interval, at) != at {
        format!(
            "the candle at {at} is not aligned to its {} interval",
            candle.interval
        )
    } else {
        return Ok(());
    };
    Err(DataError::InvalidSeries { message: problem })
}

fn finish(
    (bar, count): (Candle, i64),
    per_bucket: i64,
    incomplete: IncompleteBuckets,
    out: &mut Resampled,
) {
    if count < per_bucket {
        out.incomplete.push(bar.open_time);
        if incomplete == IncompleteBuckets::Skip {
            return;
        }
    }
    out.candles.push(bar);
}
