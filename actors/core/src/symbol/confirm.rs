//! Candlestick patterns as setup confirmation (`[setup] pattern_confirmation`): the symbol's
//! patterns over its last few bars, and what they make of a setup.

use std::collections::VecDeque;

use super::patterns::candle::{exact_f64, Ohlc};
use super::patterns::{PatternSet, PATTERN_COLUMNS, PATTERN_NAMES};
use super::setup::{PatternConfirmation, SetupConfig};
use tracing::info;

use crate::model::{Candle, Direction, TechnicalSetup};

/// One symbol's patterns over the last `pattern_window` bars.
#[derive(Clone)]
pub struct PatternWatch {
    mode: PatternConfirmation,
    patterns: PatternSet,
    /// Indices (into [`PATTERN_NAMES`]) of the confirming patterns, in the configured order.
    confirming: Vec<usize>,
    recent: VecDeque<[i32; PATTERN_NAMES.len()]>,
    window: usize,
    weight: f64,
}

impl std::fmt::Debug for PatternWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternWatch")
            .field("mode", &self.mode)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl PatternWatch {
    /// A watch for `cfg`, or `None` when patterns do not confirm setups (nothing is computed
    /// then). Expects a validated config.
    pub fn new(cfg: &SetupConfig) -> Option<Self> {
        if cfg.pattern_confirmation == PatternConfirmation::Off {
            return None;
        }
        let confirming = cfg
            .confirming_patterns
            .iter()
            .filter_map(|name| PATTERN_NAMES.iter().position(|n| n == name))
            .collect();
        Some(Self {
            mode: cfg.pattern_confirmation,
            patterns: PatternSet::new(),
            confirming,
            recent: VecDeque::with_capacity(cfg.pattern_window),
            window: cfg.pattern_window.max(1),
            weight: cfg.pattern_weight,
        })
    }

    /// Takes the next accepted candle (every one, setup or not).
    fn update(&mut self, candle: &Candle) {
        let ohlc = Ohlc::new(
            exact_f64(candle.open),
            exact_f64(candle.high),
            exact_f64(candle.low),
            exact_f64(candle.close),
        );
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(self.patterns.update(ohlc));
    }

    /// The first confirming pattern (in the configured order) seen in the window in
    /// `direction`, as its column name.
    pub fn confirming(&self, direction: Direction) -> Option<&'static str> {
        let agrees = |value: i32| match direction {
            Direction::Long => value > 0,
            Direction::Short => value < 0,
        };
        self.confirming
            .iter()
            .find(|&&p| self.recent.iter().any(|bar| agrees(bar[p])))
            .map(|&p| PATTERN_COLUMNS[p])
    }

    /// Takes the next accepted candle and applies the configured rule to the `setup` found on
    /// it, if any: kept (its reasons naming the pattern, its score raised in `weight` mode),
    /// or dropped for want of a confirming pattern (`require`). Both are logged. Kept out of
    /// line: the symbol core's hot path only pays for the call when patterns are on.
    #[inline(never)]
    pub fn confirm(
        &mut self,
        candle: &Candle,
        setup: Option<TechnicalSetup>,
    ) -> Option<TechnicalSetup> {
        self.update(candle);
        let mut setup = setup?;
        match self.confirming(setup.direction) {
            Some(pattern) => {
                if self.mode == PatternConfirmation::Weight {
                    setup.score = (setup.score + self.weight).min(1.0);
                }
                setup.reasons.push(pattern);
                info!(symbol = %setup.symbol, ts = %setup.ts, direction = ?setup.direction, score = setup.score, %pattern, "setup confirmed by a candlestick pattern");
                Some(setup)
            }
            None if self.mode == PatternConfirmation::Require => {
                info!(symbol = %setup.symbol, ts = %setup.ts, direction = ?setup.direction, "setup dropped: no confirming candlestick pattern");
                None
            }
            None => Some(setup),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Symbol;
    use crate::symbol::testdata::reference_rows;
    use crate::symbol::{IndicatorConfig, SymbolCore};

    fn setups(cfg: &SetupConfig) -> Vec<TechnicalSetup> {
        let mut core = SymbolCore::new(
            Symbol::parse("BTCUSDT").unwrap(),
            &IndicatorConfig::default(),
            cfg,
        );
        reference_rows()
            .iter()
            .filter_map(|row| core.on_candle(&row.candle)?.setup)
            .collect()
    }

    fn with(mode: PatternConfirmation) -> SetupConfig {
        SetupConfig {
            pattern_confirmation: mode,
            ..SetupConfig::default()
        }
    }

    #[test]
    fn off_computes_nothing() {
        assert!(PatternWatch::new(&SetupConfig::default()).is_none());
    }

    #[test]
    fn require_keeps_only_the_setups_a_pattern_confirms_and_names_it() {
        let all = setups(&with(PatternConfirmation::Off));
        let kept = setups(&with(PatternConfirmation::Require));
        assert!(!kept.is_empty(), "5,000 real bars give confirmed setups");
        assert!(kept.len() < all.len(), "and some that are not");
        for setup in &kept {
            let plain = all
                .iter()
                .find(|s| s.ts == setup.ts)
                .expect("a confirmed setup is a setup");
            assert_eq!(plain.direction, setup.direction);
            assert_eq!(plain.score, setup.score, "require leaves the score alone");
            let pattern = setup.reasons.last().unwrap();
            assert!(pattern.starts_with("cdl_"), "{:?}", setup.reasons);
            assert_eq!(
                &setup.reasons[..setup.reasons.len() - 1],
                &plain.reasons[..]
            );
        }
    }

    #[test]
    fn weight_raises_the_score_of_confirmed_setups_and_keeps_the_others() {
        let all = setups(&with(PatternConfirmation::Off));
        let weighted = setups(&with(PatternConfirmation::Weight));
        assert_eq!(weighted.len(), all.len(), "no setup is dropped");
        let mut raised = 0;
        for (w, plain) in weighted.iter().zip(&all) {
            assert_eq!((w.ts, w.direction), (plain.ts, plain.direction));
            if w.reasons.len() > plain.reasons.len() {
                raised += 1;
                assert_eq!(w.score, (plain.score + 0.2).min(1.0));
            } else {
                assert_eq!(w.score, plain.score);
            }
        }
        assert!(raised > 0);
    }

    #[test]
    fn a_pattern_against_the_setup_does_not_confirm_it() {
        let cfg = SetupConfig {
            pattern_confirmation: PatternConfirmation::Require,
            confirming_patterns: vec!["engulfing".into()],
            pattern_window: 1,
            ..SetupConfig::default()
        };
        let mut watch = PatternWatch::new(&cfg).unwrap();
        // A black candle, then a white one engulfing it: bullish engulfing (+100).
        let rows = reference_rows();
        let mut black = rows[0].candle.clone();
        (black.open, black.high, black.low, black.close) = (
            "110".parse().unwrap(),
            "111".parse().unwrap(),
            "99".parse().unwrap(),
            "100".parse().unwrap(),
        );
        let mut white = black.clone();
        (white.open, white.high, white.low, white.close) = (
            "99".parse().unwrap(),
            "113".parse().unwrap(),
            "98".parse().unwrap(),
            "112".parse().unwrap(),
        );
        watch.update(&black);
        watch.update(&black);
        watch.update(&white);
        assert_eq!(watch.confirming(Direction::Long), Some("cdl_engulfing"));
        assert_eq!(watch.confirming(Direction::Short), None);
    }
}
