//! TA-Lib's standard smoothing, seeding and warm-up, built from the `ta` crate's pieces.
//!
//! `ta` 0.5 seeds every EMA with the first input and smooths RSI and ATR with an ordinary EMA of
//! the given period. TA-Lib (the standard) seeds each EMA with the simple mean of its first
//! `period` inputs, and smooths RSI and ATR the Wilder way (`k = 1/n`). Wilder's `n` is an
//! ordinary EMA of period `2n - 1` (`2 / (2n - 1 + 1) = 1/n`), so [`SeededEma::wilder`] drives
//! `ta`'s EMA with that period. An EMA is seeded by handing the mean of its first inputs to a
//! fresh `ta` EMA as its first value: `ta` then starts exactly where TA-Lib starts.

use ta::indicators::{BollingerBands, ExponentialMovingAverage, SimpleMovingAverage, TrueRange};
use ta::Next;

/// `ta`'s SMA; a period of 0 (rejected by config validation) is treated as 1.
pub(crate) fn sma(period: usize) -> SimpleMovingAverage {
    SimpleMovingAverage::new(period.max(1)).unwrap_or_default()
}

/// `ta`'s EMA; a period of 0 (rejected by config validation) is treated as 1.
pub(crate) fn ema(period: usize) -> ExponentialMovingAverage {
    ExponentialMovingAverage::new(period.max(1)).unwrap_or_default()
}

/// `ta`'s Bollinger Bands (population standard deviation, as TA-Lib's).
pub(crate) fn bollinger(period: usize, k: f64) -> BollingerBands {
    BollingerBands::new(period.max(1), k).unwrap_or_default()
}

/// An EMA seeded with the mean of its first `seed_len` inputs: `None` for the first
/// `seed_len - 1` inputs, then the TA-Lib value.
#[derive(Debug, Clone)]
pub(crate) struct SeededEma {
    seed_len: usize,
    seen: usize,
    seed: SimpleMovingAverage,
    ema: ExponentialMovingAverage,
}

impl SeededEma {
    /// TA-Lib's EMA of `period` (`k = 2 / (period + 1)`).
    pub(crate) fn standard(period: usize) -> Self {
        Self::new(period, period)
    }

    /// Wilder's smoothing of `period` (`k = 1 / period`), as in TA-Lib's RSI and ATR.
    pub(crate) fn wilder(period: usize) -> Self {
        let period = period.max(1);
        Self::new(period, 2 * period - 1)
    }

    fn new(seed_len: usize, ema_period: usize) -> Self {
        let seed_len = seed_len.max(1);
        Self {
            seed_len,
            seen: 0,
            seed: sma(seed_len),
            ema: ema(ema_period),
        }
    }

    /// Feeds one input.
    pub(crate) fn next(&mut self, input: f64) -> Option<f64> {
        if self.seen >= self.seed_len {
            return Some(self.ema.next(input));
        }
        self.seen += 1;
        let mean = self.seed.next(input);
        (self.seen == self.seed_len).then(|| self.ema.next(mean))
    }
}

/// TA-Lib's RSI: Wilder-smoothed gains and losses, first value after `period` changes.
#[derive(Debug, Clone)]
pub(crate) struct Rsi {
    prev_close: Option<f64>,
    gains: SeededEma,
    losses: SeededEma,
}

impl Rsi {
    pub(crate) fn new(period: usize) -> Self {
        Self {
            prev_close: None,
            gains: SeededEma::wilder(period),
            losses: SeededEma::wilder(period),
        }
    }

    pub(crate) fn next(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev_close.replace(close)?;
        let change = close - prev;
        let gain = self.gains.next(change.max(0.0));
        let loss = self.losses.next((-change).max(0.0));
        let (gain, loss) = (gain?, loss?);
        let total = gain + loss;
        // TA-Lib prints 0 when nothing moved over the whole smoothing (no gains, no losses).
        Some(if total > 0.0 {
            100.0 * (gain / total)
        } else {
            0.0
        })
    }
}

/// High, low and close of one bar, for `ta`'s true range.
struct Hlc(f64, f64, f64);

impl ta::High for Hlc {
    fn high(&self) -> f64 {
        self.0
    }
}
impl ta::Low for Hlc {
    fn low(&self) -> f64 {
        self.1
    }
}
impl ta::Close for Hlc {
    fn close(&self) -> f64 {
        self.2
    }
}

/// TA-Lib's ATR: Wilder-smoothed true range. TA-Lib has no true range for the first bar (no
/// previous close), so `ta`'s first value (high − low) is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Atr {
    started: bool,
    true_range: TrueRange,
    smooth: SeededEma,
}

impl Atr {
    pub(crate) fn new(period: usize) -> Self {
        Self {
            started: false,
            true_range: TrueRange::new(),
            smooth: SeededEma::wilder(period),
        }
    }

    pub(crate) fn next(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let range = self.true_range.next(&Hlc(high, low, close));
        if !self.started {
            self.started = true;
            return None;
        }
        self.smooth.next(range)
    }
}

/// One MACD output: line, signal, histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MacdOutput {
    pub(crate) macd: f64,
    pub(crate) signal: f64,
    pub(crate) hist: f64,
}

/// TA-Lib's MACD. Both lines start on the slow EMA's first bar (`slow - 1`); the fast EMA is
/// seeded there with the mean of the last `fast` closes (a TA-Lib quirk that decays within a
/// few dozen bars). The signal line is a seeded EMA of the MACD line, and TA-Lib reports all
/// three outputs only once the signal exists (bar `slow + signal - 2`).
#[derive(Debug, Clone)]
pub(crate) struct Macd {
    fast_seed: SimpleMovingAverage,
    fast: ExponentialMovingAverage,
    fast_started: bool,
    slow: SeededEma,
    signal: SeededEma,
}

impl Macd {
    pub(crate) fn new(fast: usize, slow: usize, signal: usize) -> Self {
        Self {
            fast_seed: sma(fast),
            fast: ema(fast),
            fast_started: false,
            slow: SeededEma::standard(slow),
            signal: SeededEma::standard(signal),
        }
    }

    pub(crate) fn next(&mut self, close: f64) -> Option<MacdOutput> {
        let slow = self.slow.next(close);
        let fast = if self.fast_started {
            self.fast.next(close)
        } else {
            let mean = self.fast_seed.next(close);
            // The fast line starts on the slow line's first bar, from the last `fast` closes.
            slow?;
            self.fast_started = true;
            self.fast.next(mean)
        };
        let macd = fast - slow?;
        let signal = self.signal.next(macd)?;
        Some(MacdOutput {
            macd,
            signal,
            hist: macd - signal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ema_starts_at_the_mean_of_its_first_inputs() {
        let mut e = SeededEma::standard(3);
        assert_eq!(e.next(1.0), None);
        assert_eq!(e.next(2.0), None);
        assert_eq!(e.next(6.0), Some(3.0));
        // k = 2 / 4 = 0.5
        assert_eq!(e.next(5.0), Some(4.0));
    }

    #[test]
    fn wilder_smoothing_uses_one_over_n() {
        let mut w = SeededEma::wilder(4);
        for x in [4.0, 4.0, 4.0] {
            assert_eq!(w.next(x), None);
        }
        assert_eq!(w.next(4.0), Some(4.0));
        // (4 * 3 + 8) / 4 = 5
        let next = w.next(8.0).unwrap();
        assert!((next - 5.0).abs() < 1e-12, "{next}");
    }

    #[test]
    fn rsi_of_a_rising_series_is_100_and_of_a_flat_one_is_0() {
        let mut up = Rsi::new(3);
        let outs: Vec<_> = (0..5).map(|i| up.next(f64::from(i))).collect();
        assert_eq!(outs, vec![None, None, None, Some(100.0), Some(100.0)]);
        let mut flat = Rsi::new(3);
        let last = (0..5).map(|_| flat.next(7.0)).last().flatten();
        assert_eq!(last, Some(0.0));
    }

    #[test]
    fn atr_skips_the_first_bar_and_counts_gaps() {
        let mut atr = Atr::new(2);
        assert_eq!(atr.next(10.0, 9.0, 9.5), None);
        assert_eq!(atr.next(10.0, 9.0, 9.5), None);
        // gap up: high 12 - previous close 9.5 = 2.5; seed = (1 + 2.5) / 2
        assert_eq!(atr.next(12.0, 11.0, 11.5), Some(1.75));
    }
}
