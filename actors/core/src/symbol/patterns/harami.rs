//! Two-candle patterns where a long first body sets the stage: the harami (a small body held
//! inside it), the piercing line and the dark cloud cover (a long body answered by one that
//! gaps beyond its extreme and closes deep into it).

use super::candle::{History, Pattern, Setting, Total};
use super::Named;

/// How deep into the first body the dark cloud cover must close (TA-Lib's default
/// `optInPenetration`); the piercing line always asks for half.
const PENETRATION: f64 = 0.5;

/// The patterns of this file, by name.
pub(super) fn patterns() -> Vec<Named> {
    vec![
        ("harami", Box::<Harami>::default()),
        ("piercing", Box::<Piercing>::default()),
        ("darkcloudcover", Box::<DarkCloudCover>::default()),
    ]
}

/// `CDLHARAMI`: a long body, then a short one held inside it; +100 after a long black body,
/// -100 after a long white one, ±80 when the two bodies share one edge.
#[derive(Debug, Clone)]
pub struct Harami {
    /// Long body, for the first candle.
    body_long: Total,
    /// Short body, for the second candle.
    body_short: Total,
}

impl Default for Harami {
    fn default() -> Self {
        Self {
            body_long: Total::new(Setting::BodyLong, 1),
            body_short: Total::new(Setting::BodyShort, 0),
        }
    }
}

impl Pattern for Harami {
    fn lookback(&self) -> usize {
        Setting::BodyShort.period().max(Setting::BodyLong.period()) + 1
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            self.body_long.warm(history, index, lookback);
            self.body_short.warm(history, index, lookback);
            return 0;
        }
        let (first, second) = (history.at(1), history.at(0));
        let out = if first.body() > self.body_long.average(history)
            && second.body() <= self.body_short.average(history)
        {
            if second.body_top() < first.body_top() && second.body_bottom() > first.body_bottom() {
                -first.color() * 100
            } else if second.body_top() <= first.body_top()
                && second.body_bottom() >= first.body_bottom()
            {
                -first.color() * 80
            } else {
                0
            }
        } else {
            0
        };
        self.body_long.slide(history);
        self.body_short.slide(history);
        out
    }
}

/// `CDLPIERCING`: a long black candle, then a long white one opening below its low and closing
/// above the middle of its body but under its open; always +100.
#[derive(Debug, Clone)]
pub struct Piercing {
    /// Long body, for the first (black) candle.
    first_long: Total,
    /// Long body, for the second (white) candle.
    second_long: Total,
}

impl Default for Piercing {
    fn default() -> Self {
        Self {
            first_long: Total::new(Setting::BodyLong, 1),
            second_long: Total::new(Setting::BodyLong, 0),
        }
    }
}

impl Pattern for Piercing {
    fn lookback(&self) -> usize {
        Setting::BodyLong.period() + 1
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            self.first_long.warm(history, index, lookback);
            self.second_long.warm(history, index, lookback);
            return 0;
        }
        let (first, second) = (history.at(1), history.at(0));
        let out = if first.color() == -1
            && first.body() > self.first_long.average(history)
            && second.color() == 1
            && second.body() > self.second_long.average(history)
            && second.open < first.low
            && second.close < first.open
            && second.close > first.close + first.body() * 0.5
        {
            100
        } else {
            0
        };
        self.first_long.slide(history);
        self.second_long.slide(history);
        out
    }
}

/// `CDLDARKCLOUDCOVER`: a long white candle, then a black one opening above its high and
/// closing more than halfway down its body but above its open; always -100.
#[derive(Debug, Clone)]
pub struct DarkCloudCover {
    /// Long body, for the first (white) candle.
    body_long: Total,
}

impl Default for DarkCloudCover {
    fn default() -> Self {
        Self {
            body_long: Total::new(Setting::BodyLong, 1),
        }
    }
}

impl Pattern for DarkCloudCover {
    fn lookback(&self) -> usize {
        Setting::BodyLong.period() + 1
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            self.body_long.warm(history, index, lookback);
            return 0;
        }
        let (first, second) = (history.at(1), history.at(0));
        let out = if first.color() == 1
            && first.body() > self.body_long.average(history)
            && second.color() == -1
            && second.open > first.high
            && second.close > first.open
            && second.close < first.close - first.body() * PENETRATION
        {
            -100
        } else {
            0
        };
        self.body_long.slide(history);
        out
    }
}

// Every value below was derived by hand from the definition and then confirmed by running
// TA-Lib itself on the same candles (Python TA-Lib 0.8.2 from PyPI, not a dependency).
#[cfg(test)]
mod tests {
    use super::super::candle::Ohlc;
    use super::*;

    /// Ten ordinary white candles (body 1, range 2), then `pair`; the pattern's value on every
    /// candle.
    fn run(pattern: &mut dyn Pattern, pair: [Ohlc; 2]) -> Vec<i32> {
        let mut history = History::default();
        let ordinary = Ohlc::new(100.0, 101.5, 99.5, 101.0);
        std::iter::repeat_n(ordinary, 10)
            .chain(pair)
            .map(|candle| {
                history.push(candle);
                pattern.next(&history)
            })
            .collect()
    }

    /// Zeros for the first eleven candles, then `last`.
    fn expect(last: i32) -> Vec<i32> {
        let mut values = vec![0; 11];
        values.push(last);
        values
    }

    /// Long black body 110 -> 100 (10 against an average of 1), then a white body 98 -> 106
    /// (8 against (9 + 10) / 10 = 1.9) opening below the prior low 99, closing under the prior
    /// open 110 and above the midpoint 100 + 10 * 0.5 = 105: 100.
    #[test]
    fn piercing_fixture() {
        let pair = [
            Ohlc::new(110.0, 111.0, 99.0, 100.0),
            Ohlc::new(98.0, 106.5, 97.5, 106.0),
        ];
        assert_eq!(run(&mut Piercing::default(), pair), expect(100));
    }

    /// As above but the white candle closes exactly at the midpoint 105, not above it: 0.
    #[test]
    fn piercing_near_miss() {
        let pair = [
            Ohlc::new(110.0, 111.0, 99.0, 100.0),
            Ohlc::new(98.0, 105.5, 97.5, 105.0),
        ];
        assert_eq!(run(&mut Piercing::default(), pair), expect(0));
    }

    /// Long white body 100 -> 110 (10 against an average of 1), then a black body 112 -> 104
    /// opening above the prior high 111, closing above the prior open 100 and below
    /// 110 - 10 * 0.5 = 105: -100.
    #[test]
    fn dark_cloud_cover_fixture() {
        let pair = [
            Ohlc::new(100.0, 111.0, 99.0, 110.0),
            Ohlc::new(112.0, 112.5, 103.5, 104.0),
        ];
        assert_eq!(run(&mut DarkCloudCover::default(), pair), expect(-100));
    }

    /// As above but the black candle opens at the prior high 111, not above it: 0.
    #[test]
    fn dark_cloud_cover_near_miss() {
        let pair = [
            Ohlc::new(100.0, 111.0, 99.0, 110.0),
            Ohlc::new(111.0, 111.5, 103.5, 104.0),
        ];
        assert_eq!(run(&mut DarkCloudCover::default(), pair), expect(0));
    }

    /// Long black body 110 -> 100, then a white body 100 -> 101 (1, at most the average
    /// (9 + 10) / 10 = 1.9) inside it but sharing its bottom edge 100: 80.
    #[test]
    fn harami_sharing_an_edge_gives_80() {
        let pair = [
            Ohlc::new(110.0, 111.0, 99.0, 100.0),
            Ohlc::new(100.0, 101.5, 99.5, 101.0),
        ];
        assert_eq!(run(&mut Harami::default(), pair), expect(80));
    }
}
