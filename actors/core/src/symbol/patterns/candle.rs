//! TA-Lib's candle vocabulary: a candle as f64 (as TA-Lib receives it), the candle settings
//! (`BodyLong`, `BodyDoji`, `ShadowLong`, `Near`, ... with TA-Lib 0.6's defaults), the recent
//! candles a pattern looks back on, and a setting's running total of ranges.
//!
//! The arithmetic is TA-Lib's, in its order, so that every comparison comes out the same to
//! the last bit: a range is `|close - open|`, `high - low` or the sum of the two shadows; an
//! average is `factor * (total / period) / (2 for shadows, else 1)`, or, for a setting whose
//! period is 0, `factor * ` the judged candle's own range.

use rust_decimal::Decimal;

/// One candle's prices as f64.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ohlc {
    /// Open.
    pub open: f64,
    /// High.
    pub high: f64,
    /// Low.
    pub low: f64,
    /// Close.
    pub close: f64,
}

/// Powers of ten that f64 holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The f64 nearest to `value`, as a float parser given its digits would produce (and as
/// TA-Lib's callers hand it prices). `Decimal::to_f64` is not always the nearest. With a
/// mantissa below 2^53 and at most 22 decimals (every price), mantissa and power of ten are
/// both exact in f64 and one division rounds correctly; otherwise the text is parsed.
pub fn exact_f64(value: Decimal) -> f64 {
    let (mantissa, scale) = (value.mantissa(), value.scale() as usize);
    if mantissa.unsigned_abs() < 1 << 53 && scale < POW10.len() {
        return mantissa as f64 / POW10[scale];
    }
    value.to_string().parse().unwrap_or(f64::NAN)
}

impl Ohlc {
    /// A candle from its prices.
    pub fn new(open: f64, high: f64, low: f64, close: f64) -> Self {
        Self {
            open,
            high,
            low,
            close,
        }
    }

    /// `|close - open|`.
    pub fn body(&self) -> f64 {
        (self.close - self.open).abs()
    }

    /// `high - max(open, close)`.
    pub fn upper_shadow(&self) -> f64 {
        self.high
            - if self.close >= self.open {
                self.close
            } else {
                self.open
            }
    }

    /// `min(open, close) - low`.
    pub fn lower_shadow(&self) -> f64 {
        (if self.close >= self.open {
            self.open
        } else {
            self.close
        }) - self.low
    }

    /// `high - low`.
    pub fn high_low(&self) -> f64 {
        self.high - self.low
    }

    /// 1 for a white candle (close at or above open), -1 for a black one.
    pub fn color(&self) -> i32 {
        if self.close >= self.open {
            1
        } else {
            -1
        }
    }

    /// `max(open, close)`.
    pub fn body_top(&self) -> f64 {
        self.open.max(self.close)
    }

    /// `min(open, close)`.
    pub fn body_bottom(&self) -> f64 {
        self.open.min(self.close)
    }
}

/// Whether `later`'s real body lies entirely above `earlier`'s (TA-Lib's `REALBODYGAPUP`).
pub fn body_gap_up(later: &Ohlc, earlier: &Ohlc) -> bool {
    later.body_bottom() > earlier.body_top()
}

/// Whether `later`'s real body lies entirely below `earlier`'s (`REALBODYGAPDOWN`).
pub fn body_gap_down(later: &Ohlc, earlier: &Ohlc) -> bool {
    later.body_top() < earlier.body_bottom()
}

/// What a setting measures of a candle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeType {
    /// `|close - open|`.
    RealBody,
    /// `high - low`.
    HighLow,
    /// Upper plus lower shadow (averages are halved: one side's shadow).
    Shadows,
}

/// TA-Lib's candle settings, with its default range type, period and factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// A long body: longer than the average body of the previous 10.
    BodyLong,
    /// A very long body: three times the average body.
    BodyVeryLong,
    /// A short body: at most the average body of the previous 10.
    BodyShort,
    /// A doji body: at most 10 % of the average high-low range of the previous 10.
    BodyDoji,
    /// A long shadow: longer than the candle's own body.
    ShadowLong,
    /// A very long shadow: twice the candle's own body.
    ShadowVeryLong,
    /// A short shadow: shorter than half the average shadows of the previous 10.
    ShadowShort,
    /// A very short shadow: under 10 % of the average high-low range of the previous 10.
    ShadowVeryShort,
    /// "Near": 20 % of the average high-low range of the previous 5.
    Near,
    /// "Far": 60 % of the average high-low range of the previous 5.
    Far,
    /// "Equal": 5 % of the average high-low range of the previous 5.
    Equal,
}

impl Setting {
    /// (range type, averaging period, factor): TA-Lib 0.6's defaults.
    pub const fn params(self) -> (RangeType, usize, f64) {
        use RangeType::*;
        match self {
            Setting::BodyLong => (RealBody, 10, 1.0),
            Setting::BodyVeryLong => (RealBody, 10, 3.0),
            Setting::BodyShort => (RealBody, 10, 1.0),
            Setting::BodyDoji => (HighLow, 10, 0.1),
            Setting::ShadowLong => (RealBody, 0, 1.0),
            Setting::ShadowVeryLong => (RealBody, 0, 2.0),
            Setting::ShadowShort => (Shadows, 10, 1.0),
            Setting::ShadowVeryShort => (HighLow, 10, 0.1),
            Setting::Near => (HighLow, 5, 0.2),
            Setting::Far => (HighLow, 5, 0.6),
            Setting::Equal => (HighLow, 5, 0.05),
        }
    }

    /// The averaging period.
    pub const fn period(self) -> usize {
        self.params().1
    }

    /// TA-Lib's `CANDLERANGE`: what this setting measures of `candle`.
    pub fn range(self, candle: &Ohlc) -> f64 {
        match self.params().0 {
            RangeType::RealBody => candle.body(),
            RangeType::HighLow => candle.high_low(),
            RangeType::Shadows => candle.upper_shadow() + candle.lower_shadow(),
        }
    }

    /// TA-Lib's `CANDLEAVERAGE`: the threshold from a running `total`, or from `candle`'s own
    /// range when the period is 0.
    pub fn average(self, total: f64, candle: &Ohlc) -> f64 {
        let (range_type, period, factor) = self.params();
        let base = if period != 0 {
            total / period as f64
        } else {
            self.range(candle)
        };
        let halve = if range_type == RangeType::Shadows {
            2.0
        } else {
            1.0
        };
        factor * base / halve
    }
}

/// How many candles back any pattern may look, the judged one included (the longest lookback,
/// 12, plus the longest period a running total reaches behind it).
pub const HISTORY: usize = 16;

/// The most recent candles, newest first.
#[derive(Debug, Clone)]
pub struct History {
    ring: [Ohlc; HISTORY],
    /// Candles seen so far.
    seen: usize,
}

impl Default for History {
    fn default() -> Self {
        Self {
            ring: [Ohlc::default(); HISTORY],
            seen: 0,
        }
    }
}

impl History {
    /// Appends the newest candle.
    pub fn push(&mut self, candle: Ohlc) {
        self.ring[self.seen % HISTORY] = candle;
        self.seen += 1;
    }

    /// The candle `back` bars before the newest (0 = the newest). `back` must be below
    /// [`HISTORY`] and below [`Self::seen`].
    pub fn at(&self, back: usize) -> &Ohlc {
        debug_assert!(back < HISTORY && back < self.seen);
        &self.ring[(self.seen - 1 - back) % HISTORY]
    }

    /// Candles seen so far; the newest is the candle of index `seen - 1` in TA-Lib's arrays.
    pub fn seen(&self) -> usize {
        self.seen
    }
}

/// One setting's running total of ranges for the candle `offset` bars before the judged one
/// (TA-Lib's `...PeriodTotal` with its trailing index), kept in TA-Lib's order: summed over the
/// `period` candles before the first judged index, then slid by one candle per judged candle.
#[derive(Debug, Clone, Copy)]
pub struct Total {
    setting: Setting,
    offset: usize,
    sum: f64,
}

impl Total {
    /// A total of `setting` for the candle `offset` bars before the judged one.
    pub fn new(setting: Setting, offset: usize) -> Self {
        Self {
            setting,
            offset,
            sum: 0.0,
        }
    }

    /// Before the pattern's first judged candle (`index < lookback`, the newest candle's index):
    /// adds the candle `offset` back when it lies in the first averaging window.
    pub fn warm(&mut self, history: &History, index: usize, lookback: usize) {
        if index + self.setting.period() >= lookback && index >= self.offset {
            self.sum += self.setting.range(history.at(self.offset));
        }
    }

    /// The threshold for the candle `offset` back (TA-Lib's `CANDLEAVERAGE(setting, total, i -
    /// offset)`).
    pub fn average(&self, history: &History) -> f64 {
        self.setting.average(self.sum, history.at(self.offset))
    }

    /// After judging a candle: the window moves one candle on.
    pub fn slide(&mut self, history: &History) {
        let period = self.setting.period();
        self.sum += self.setting.range(history.at(self.offset))
            - self.setting.range(history.at(self.offset + period));
    }
}

/// One candlestick pattern, judged incrementally. Patterns are plain data: cloning one
/// copies its running totals.
pub trait Pattern: PatternClone {
    /// TA-Lib's lookback: the first candle index it judges.
    fn lookback(&self) -> usize;

    /// Judges the newest candle of `history`: 100 bullish, -100 bearish (80/-80 for the
    /// weaker forms TA-Lib reports), 0 none. Called once per candle, in order.
    fn next(&mut self, history: &History) -> i32;
}

/// Cloning a boxed [`Pattern`] (implemented for every `Clone` pattern).
pub trait PatternClone {
    /// A copy of this pattern, state included.
    fn clone_box(&self) -> Box<dyn Pattern + Send>;
}

impl<T: Pattern + Clone + Send + 'static> PatternClone for T {
    fn clone_box(&self) -> Box<dyn Pattern + Send> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_f64_is_the_nearest_double_like_a_parser() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mantissa = (state >> 8) as i64 * if state & 1 == 0 { 1 } else { -1 };
            let value = Decimal::new(mantissa, (state % 19) as u32);
            let parsed: f64 = value.to_string().parse().unwrap();
            assert_eq!(exact_f64(value).to_bits(), parsed.to_bits(), "{value}");
        }
        // Past 2^53 the text is parsed.
        let big = Decimal::from_i128_with_scale(12_345_678_901_234_567_890_123, 4);
        assert_eq!(exact_f64(big), big.to_string().parse::<f64>().unwrap());
    }
}
