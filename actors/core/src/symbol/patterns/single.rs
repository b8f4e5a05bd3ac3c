//! One-candle patterns.

use super::candle::{History, Pattern, Setting, Total};

/// `CDLDOJI`: a body no longer than a tenth of the recent average high-low range; always 100
/// (a doji alone is neither bullish nor bearish).
#[derive(Debug, Clone)]
pub struct Doji {
    body_doji: Total,
}

impl Default for Doji {
    fn default() -> Self {
        Self {
            body_doji: Total::new(Setting::BodyDoji, 0),
        }
    }
}

impl Pattern for Doji {
    fn lookback(&self) -> usize {
        Setting::BodyDoji.period()
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        if index < self.lookback() {
            self.body_doji.warm(history, index, self.lookback());
            return 0;
        }
        let candle = history.at(0);
        let out = if candle.body() <= self.body_doji.average(history) {
            100
        } else {
            0
        };
        self.body_doji.slide(history);
        out
    }
}
