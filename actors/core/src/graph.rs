//! The order of work, declared once (DESIGN §3). Both executors walk this schedule: the
//! backtest loop calls each stage in turn, and the actor runtime's feed sends one message per
//! step and waits for the pipeline to drain before the next. They agree by construction;
//! `tests/parity.rs` holds them to it, and shows that it catches an executor that breaks the
//! order.
//!
//! For each closed candle, in timestamp order:
//!
//! 1. **mark** — when the candle opens a new bar close, the account is first marked at the
//!    previous one (risk's daily loss and drawdown; an equity point);
//! 2. **venue** — the venue fills what rested on the bar (traded bars only: warm-up and
//!    recovered bars have nothing to fill, or were filled before a restart);
//! 3. **news** — headlines published up to the candle's close reach fusion (with the first
//!    candle of each close only: the others of that close would release nothing more, and a
//!    step that does nothing still costs the actor runtime a message and a drain per candle);
//! 4. **decide** — symbol core → fusion → risk → order manager → venue.
//!
//! After the last candle the last traded bar is marked.

use crate::model::{Candle, Timestamp};

/// How the pipeline treats a candle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Before the configured start: indicators and news advance, nothing is decided, and
    /// neither the venue nor risk nor the order manager sees the candle.
    Warmup,
    /// Already processed before a restart: every decision stage advances exactly as it did,
    /// but venue, risk and order manager are skipped (their state comes from the journal).
    Recovery,
    /// Decisions are made and orders sent.
    Trading,
}

impl Mode {
    /// Whether the candle goes past fusion (to risk, the order manager and the venue).
    pub fn trades(self) -> bool {
        self == Mode::Trading
    }
}

/// One step of a candle's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The bar closed at the venue: it fills what rested on it.
    Venue,
    /// Headlines published up to the candle's close reach fusion.
    News,
    /// The candle goes through its symbol core, fusion, risk and the order manager.
    Decide,
}

const TRADED: &[Step] = &[Step::Venue, Step::News, Step::Decide];
const TRADED_SAME_CLOSE: &[Step] = &[Step::Venue, Step::Decide];
const UNTRADED: &[Step] = &[Step::News, Step::Decide];
const UNTRADED_SAME_CLOSE: &[Step] = &[Step::Decide];

/// What one candle calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandleWork {
    /// Mark the account at this close first (the previous bar is complete).
    pub mark: Option<Timestamp>,
    /// The candle opens a new bar close: the place where a run may stop or pause, after the
    /// mark.
    pub new_bar: bool,
    /// How the candle is treated.
    pub mode: Mode,
    /// Its steps, in order.
    pub steps: &'static [Step],
}

/// The schedule of a run: give it the candles in timestamp order.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    start: Option<Timestamp>,
    recovered: u64,
    taken: u64,
    last_close: Option<Timestamp>,
    pending_mark: Option<Timestamp>,
}

impl Schedule {
    /// Bars opening before `start` only warm up; the first `recovered` candles were fully
    /// processed before a restart and are replayed in recovery mode.
    pub fn new(start: Option<Timestamp>, recovered: u64) -> Self {
        Self {
            start,
            recovered,
            ..Self::default()
        }
    }

    /// The work for the next candle.
    pub fn next(&mut self, candle: &Candle) -> CandleWork {
        let close = candle.close_time();
        let first_of_close = self.last_close != Some(close);
        let new_bar = first_of_close && self.last_close.is_some();
        let mark = if new_bar {
            self.pending_mark.take()
        } else {
            None
        };
        self.last_close = Some(close);
        let mode = if self.start.is_some_and(|s| candle.open_time < s) {
            Mode::Warmup
        } else if self.taken < self.recovered {
            Mode::Recovery
        } else {
            Mode::Trading
        };
        self.taken += 1;
        if mode.trades() {
            self.pending_mark = Some(close);
        }
        CandleWork {
            mark,
            new_bar,
            mode,
            steps: match (mode.trades(), first_of_close) {
                (true, true) => TRADED,
                (true, false) => TRADED_SAME_CLOSE,
                (false, true) => UNTRADED,
                (false, false) => UNTRADED_SAME_CLOSE,
            },
        }
    }

    /// The mark still due when the candles end (or a run stops between bars).
    pub fn finish(&mut self) -> Option<Timestamp> {
        self.pending_mark.take()
    }

    /// Candles taken so far.
    pub fn taken(&self) -> u64 {
        self.taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Symbol;
    use crate::testing::{flat_hour, HOUR_MS as H};

    fn candle(symbol: &str, hour: i64) -> Candle {
        flat_hour(&Symbol::parse(symbol).unwrap(), hour)
    }

    #[test]
    fn a_bar_is_marked_once_all_its_candles_are_done_and_only_when_traded() {
        let mut schedule = Schedule::new(Some(Timestamp(H)), 0);
        let warm = schedule.next(&candle("BTCUSDT", 0));
        assert_eq!(
            (warm.mode, warm.steps, warm.mark),
            (Mode::Warmup, UNTRADED, None)
        );
        schedule.next(&candle("ETHUSDT", 0));
        let first = schedule.next(&candle("BTCUSDT", 1));
        assert!(first.new_bar);
        assert_eq!(first.mark, None, "warm-up bars are not marked");
        assert_eq!(first.steps, TRADED);
        let second = schedule.next(&candle("ETHUSDT", 1));
        assert!(!second.new_bar && second.mark.is_none());
        assert_eq!(second.steps, TRADED_SAME_CLOSE, "news once per close");
        let next_bar = schedule.next(&candle("BTCUSDT", 2));
        assert_eq!(next_bar.mark, Some(Timestamp(2 * H)));
        assert_eq!(schedule.finish(), Some(Timestamp(3 * H)));
        assert_eq!(schedule.finish(), None);
    }

    #[test]
    fn recovered_candles_replay_without_the_venue_and_are_marked_only_from_trading_on() {
        let mut schedule = Schedule::new(None, 2);
        let replayed = schedule.next(&candle("BTCUSDT", 0));
        assert_eq!((replayed.mode, replayed.steps), (Mode::Recovery, UNTRADED));
        schedule.next(&candle("BTCUSDT", 1));
        let live = schedule.next(&candle("BTCUSDT", 2));
        assert_eq!((live.mode, live.mark), (Mode::Trading, None));
        assert_eq!(schedule.taken(), 3);
    }

    #[test]
    fn news_reaches_fusion_with_the_first_candle_of_each_close_only() {
        let mut schedule = Schedule::new(Some(Timestamp(H)), 0);
        let steps: Vec<_> = [
            ("BTCUSDT", 0),
            ("ETHUSDT", 0),
            ("BTCUSDT", 1),
            ("ETHUSDT", 1),
        ]
        .iter()
        .map(|&(symbol, hour)| schedule.next(&candle(symbol, hour)).steps)
        .collect();
        assert_eq!(
            steps,
            [UNTRADED, UNTRADED_SAME_CLOSE, TRADED, TRADED_SAME_CLOSE]
        );
    }
}
