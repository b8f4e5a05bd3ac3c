//! Two-candle patterns.

use super::candle::{History, Pattern};

/// `CDLENGULFING`: the second body engulfs the first, of the opposite colour; ±100, or ±80
/// when a body edge of one equals the other's (open against close).
#[derive(Debug, Default, Clone)]
pub struct Engulfing;

impl Pattern for Engulfing {
    fn lookback(&self) -> usize {
        2
    }

    fn next(&mut self, history: &History) -> i32 {
        if history.seen() <= self.lookback() {
            return 0;
        }
        let (first, second) = (history.at(1), history.at(0));
        let bullish = second.color() == 1
            && first.color() == -1
            && ((second.close >= first.open && second.open < first.close)
                || (second.close > first.open && second.open <= first.close));
        let bearish = second.color() == -1
            && first.color() == 1
            && ((second.open >= first.close && second.close < first.open)
                || (second.open > first.close && second.close <= first.open));
        if !(bullish || bearish) {
            return 0;
        }
        let strength = if second.open != first.close && second.close != first.open {
            100
        } else {
            80
        };
        second.color() * strength
    }
}
