//! The stream's delivery decisions, free of sockets: per symbol, the open time of the last
//! bar delivered; each offered bar is delivered, dropped as a duplicate or as stale, or
//! reveals a gap to back-fill over REST first. Together with back-fill on every (re)connect
//! this gives every closed bar exactly once, in order.

use std::collections::HashMap;

use crate::model::{Candle, Interval, Symbol, Timestamp};

/// What to do with an offered bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The next bar (or the first one): deliver it.
    Deliver,
    /// The last delivered bar again: drop it.
    Duplicate,
    /// Older than the last delivered bar: drop it (and log).
    Stale,
    /// Bars `from..=to` (open times) are missing before this one: back-fill them first.
    Gap {
        /// Open time of the first missing bar.
        from: Timestamp,
        /// Open time of the last missing bar.
        to: Timestamp,
    },
    /// Not of the stream's interval, or not aligned to it: drop it (and log).
    Foreign,
}

/// Last delivered open time per symbol, for one interval.
#[derive(Debug, Clone)]
pub struct Sequencer {
    interval: Interval,
    last: HashMap<Symbol, Timestamp>,
}

impl Sequencer {
    /// Nothing delivered yet.
    pub fn new(interval: Interval) -> Self {
        Self {
            interval,
            last: HashMap::new(),
        }
    }

    /// The stream's interval.
    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// Declares bars of `symbol` up to the one opening at `open_time` as already delivered
    /// (a consumer resuming from its own history). Never moves backwards.
    pub fn resume_after(&mut self, symbol: Symbol, open_time: Timestamp) {
        let entry = self.last.entry(symbol).or_insert(open_time);
        *entry = (*entry).max(open_time);
    }

    /// The open time of the last bar delivered for `symbol`.
    pub fn last(&self, symbol: &Symbol) -> Option<Timestamp> {
        self.last.get(symbol).copied()
    }

    /// Where a back-fill of `symbol` starts: the bar after the last delivered.
    pub fn backfill_from(&self, symbol: &Symbol) -> Option<Timestamp> {
        self.last(symbol).map(|t| t.plus_ms(self.interval.millis()))
    }

    /// Judges `candle` without recording anything.
    pub fn check(&self, candle: &Candle) -> Verdict {
        let step = self.interval.millis();
        if candle.interval != self.interval || candle.open_time.0.rem_euclid(step) != 0 {
            return Verdict::Foreign;
        }
        let Some(last) = self.last(&candle.symbol) else {
            return Verdict::Deliver;
        };
        let open = candle.open_time;
        if open == last {
            Verdict::Duplicate
        } else if open < last {
            Verdict::Stale
        } else if open.0 == last.0 + step {
            Verdict::Deliver
        } else {
            Verdict::Gap {
                from: last.plus_ms(step),
                to: open.plus_ms(-step),
            }
        }
    }

    /// Records `candle` as delivered (after [`Verdict::Deliver`], or after a back-fill that
    /// could not close a gap because the venue has no such bars).
    pub fn commit(&mut self, candle: &Candle) {
        self.resume_after(candle.symbol.clone(), candle.open_time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn bar(symbol: &str, hour: i64) -> Candle {
        crate::testing::flat_hour(&Symbol::parse(symbol).unwrap(), hour)
    }

    /// Feeds bars through the sequencer as the stream does (gaps are back-filled from
    /// `history`) and returns the hours delivered per the verdicts.
    fn run(history: &[i64], live: &[i64]) -> Vec<i64> {
        let mut seq = Sequencer::new(Interval::HOUR);
        let mut out = Vec::new();
        for &h in live {
            let c = bar("BTCUSDT", h);
            match seq.check(&c) {
                Verdict::Deliver => {}
                Verdict::Gap { from, to } => {
                    for &b in history
                        .iter()
                        .filter(|&&b| b * H >= from.0 && b * H <= to.0)
                    {
                        let fill = bar("BTCUSDT", b);
                        // Deliver, or a gap the venue cannot fill (as the stream's back-fill).
                        assert_ne!(seq.check(&fill), Verdict::Duplicate);
                        seq.commit(&fill);
                        out.push(b);
                    }
                }
                Verdict::Duplicate | Verdict::Stale | Verdict::Foreign => continue,
            }
            seq.commit(&c);
            out.push(h);
        }
        out
    }

    #[test]
    fn in_order_bars_are_delivered_once_and_repeats_or_old_ones_dropped() {
        assert_eq!(run(&[], &[10, 11, 11, 12, 9, 12, 13]), vec![10, 11, 12, 13]);
    }

    #[test]
    fn a_gap_is_filled_from_history_before_the_bar_that_revealed_it() {
        let history: Vec<i64> = (0..100).collect();
        assert_eq!(run(&history, &[10, 14, 15]), vec![10, 11, 12, 13, 14, 15]);
        // The venue itself lacks bar 12: delivered anyway, still once and in order.
        let holes: Vec<i64> = history.iter().copied().filter(|&h| h != 12).collect();
        assert_eq!(run(&holes, &[10, 14]), vec![10, 11, 13, 14]);
    }

    #[test]
    fn symbols_are_sequenced_independently_and_foreign_bars_refused() {
        let mut seq = Sequencer::new(Interval::HOUR);
        seq.commit(&bar("BTCUSDT", 5));
        assert_eq!(seq.check(&bar("ETHUSDT", 2)), Verdict::Deliver);
        assert_eq!(seq.check(&bar("BTCUSDT", 6)), Verdict::Deliver);
        let mut minute = bar("BTCUSDT", 7);
        minute.interval = Interval::MINUTE;
        assert_eq!(seq.check(&minute), Verdict::Foreign);
        let mut misaligned = bar("BTCUSDT", 7);
        misaligned.open_time = Timestamp(7 * H + 1);
        assert_eq!(seq.check(&misaligned), Verdict::Foreign);
        assert_eq!(
            seq.backfill_from(&Symbol::parse("BTCUSDT").unwrap()),
            Some(Timestamp(6 * H))
        );
        seq.resume_after(Symbol::parse("BTCUSDT").unwrap(), Timestamp(H));
        assert_eq!(
            seq.last(&Symbol::parse("BTCUSDT").unwrap()),
            Some(Timestamp(5 * H))
        );
    }
}
