//! Live candles of several symbols as one stream in the order [`merge`](super::merge) gives
//! history: by open time, and within one open time in the symbols' configured order.
//!
//! Each symbol's candles arrive in order (the market stream guarantees it) but the symbols
//! interleave as the network pleases. A bar is released once every symbol has delivered it
//! or a later bar (a symbol with no trade in a bar has no candle for it), so a restart that
//! fetches the same history again sees exactly the same sequence.

use std::collections::VecDeque;

use crate::model::{Candle, Symbol, Timestamp};

/// Aligns per-symbol candle streams into one deterministic stream.
#[derive(Debug, Clone)]
pub struct BarAligner {
    symbols: Vec<Symbol>,
    queues: Vec<VecDeque<Candle>>,
    /// The open time of the last bar each symbol delivered.
    reached: Vec<Option<Timestamp>>,
}

impl BarAligner {
    /// An aligner for `symbols`, in the order ties are released.
    pub fn new(symbols: Vec<Symbol>) -> Self {
        let n = symbols.len();
        Self {
            symbols,
            queues: vec![VecDeque::new(); n],
            reached: vec![None; n],
        }
    }

    /// Takes one symbol's next candle; returns the candles now complete, in order. A candle
    /// of another symbol, or not after that symbol's last one, is returned as `Err` untouched.
    pub fn push(&mut self, candle: Candle) -> Result<Vec<Candle>, Candle> {
        let Some(i) = self.symbols.iter().position(|s| *s == candle.symbol) else {
            return Err(candle);
        };
        if self.reached[i].is_some_and(|last| candle.open_time <= last) {
            return Err(candle);
        }
        self.reached[i] = Some(candle.open_time);
        self.queues[i].push_back(candle);
        Ok(self.release())
    }

    /// Every queued bar that all symbols have reached, in (open time, symbol order).
    fn release(&mut self) -> Vec<Candle> {
        let mut out = Vec::new();
        // Nothing is complete until every symbol has a bar (and an aligner of no symbol never
        // gets one).
        let reached: Option<Vec<_>> = self.reached.iter().copied().collect();
        let Some(horizon) = reached.and_then(|times| times.into_iter().min()) else {
            return out;
        };
        loop {
            let next = self
                .queues
                .iter()
                .filter_map(|q| q.front().map(|c| c.open_time))
                .filter(|t| *t <= horizon)
                .min();
            let Some(t) = next else { break };
            for queue in &mut self.queues {
                if queue.front().is_some_and(|c| c.open_time == t) {
                    out.extend(queue.pop_front());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(symbol: &Symbol, hour: i64) -> Candle {
        keel_core::testing::flat_hour(symbol, hour)
    }

    fn names(candles: &[Candle]) -> Vec<String> {
        candles
            .iter()
            .map(|c| format!("{}@{}", c.symbol, c.open_time.0 / 3_600_000))
            .collect()
    }

    #[test]
    fn any_interleaving_gives_the_order_of_merged_history() {
        let (btc, eth) = (
            Symbol::parse("BTCUSDT").unwrap(),
            Symbol::parse("ETHUSDT").unwrap(),
        );
        let mut aligner = BarAligner::new(vec![btc.clone(), eth.clone()]);
        let mut out = Vec::new();
        // ETH runs ahead, BTC catches up in a burst (a back-fill), ETH skips hour 2.
        for candle in [bar(&eth, 0), bar(&eth, 1), bar(&eth, 3), bar(&btc, 0)] {
            out.extend(aligner.push(candle).unwrap());
        }
        assert_eq!(names(&out), ["BTCUSDT@0", "ETHUSDT@0"]);
        for candle in [bar(&btc, 1), bar(&btc, 2), bar(&btc, 3)] {
            out.extend(aligner.push(candle).unwrap());
        }
        assert_eq!(
            names(&out),
            [
                "BTCUSDT@0",
                "ETHUSDT@0",
                "BTCUSDT@1",
                "ETHUSDT@1",
                "BTCUSDT@2",
                "BTCUSDT@3",
                "ETHUSDT@3"
            ]
        );
    }

    #[test]
    fn a_repeated_or_foreign_candle_is_handed_back() {
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let mut aligner = BarAligner::new(vec![btc.clone()]);
        assert_eq!(aligner.push(bar(&btc, 5)).unwrap().len(), 1);
        assert!(aligner.push(bar(&btc, 5)).is_err());
        assert!(aligner.push(bar(&btc, 4)).is_err());
        assert!(aligner
            .push(bar(&Symbol::parse("ETHUSDT").unwrap(), 6))
            .is_err());
    }
}
