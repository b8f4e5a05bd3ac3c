//! The market regime: bull, bear or range, from BTC against its long SMA and that SMA's slope.

use serde::{Deserialize, Serialize};

use crate::config_check::{in_range, key, ConfigError};
use crate::model::{Regime, Symbol, SymbolError};

/// Which symbol sets the regime and how far back its SMA's slope is measured (`[regime]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegimeConfig {
    /// The symbol whose close and long SMA drive the regime.
    pub symbol: String,
    /// The SMA is rising when it is above its value this many bars ago.
    pub slope_lookback: usize,
}

impl Default for RegimeConfig {
    fn default() -> Self {
        Self {
            symbol: "BTCUSDT".to_string(),
            slope_lookback: 24,
        }
    }
}

impl RegimeConfig {
    /// The regime symbol, parsed.
    pub fn parsed_symbol(&self) -> Result<Symbol, SymbolError> {
        Symbol::parse(&self.symbol)
    }

    /// Checks that `symbol` is a pair and `slope_lookback` is in 1..=10000.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        self.parsed_symbol()
            .map_err(|e| ConfigError::new(key(section, "symbol"), e.to_string()))?;
        in_range(section, "slope_lookback", self.slope_lookback, 1, 10_000)
    }
}

/// Classifies each bar of the regime symbol. O(1) per bar: a ring buffer holds the last
/// `slope_lookback` SMA values.
#[derive(Debug, Clone)]
pub struct RegimeDetector {
    history: Box<[f64]>,
    next: usize,
    filled: usize,
    regime: Regime,
}

impl RegimeDetector {
    /// A detector in the `Range` regime with no history. Expects a validated config.
    pub fn new(cfg: &RegimeConfig) -> Self {
        Self {
            history: vec![0.0; cfg.slope_lookback.max(1)].into_boxed_slice(),
            next: 0,
            filled: 0,
            regime: Regime::Range,
        }
    }

    /// Feeds one bar's close and long SMA: `Bull` above a rising SMA, `Bear` below a falling
    /// one, `Range` otherwise and until the SMA has `slope_lookback` bars of history.
    pub fn on_values(&mut self, close: f64, sma_long: Option<f64>) -> Regime {
        let Some(sma) = sma_long else {
            self.regime = Regime::Range;
            return self.regime;
        };
        let lookback = self.history.len();
        let then = (self.filled == lookback).then(|| self.history[self.next]);
        self.history[self.next] = sma;
        self.next = (self.next + 1) % lookback;
        self.filled = (self.filled + 1).min(lookback);
        self.regime = match then {
            Some(then) if close > sma && sma > then => Regime::Bull,
            Some(then) if close < sma && sma < then => Regime::Bear,
            _ => Regime::Range,
        };
        self.regime
    }

    /// The regime after the last bar.
    pub fn regime(&self) -> Regime {
        self.regime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(lookback: usize) -> RegimeDetector {
        RegimeDetector::new(&RegimeConfig {
            slope_lookback: lookback,
            ..RegimeConfig::default()
        })
    }

    #[test]
    fn above_a_rising_sma_is_bull_once_the_slope_is_known() {
        let mut d = detector(3);
        let regimes: Vec<Regime> = (0..6)
            .map(|i| {
                let sma = 100.0 + f64::from(i);
                d.on_values(sma + 5.0, Some(sma))
            })
            .collect();
        use Regime::*;
        assert_eq!(regimes, vec![Range, Range, Range, Bull, Bull, Bull]);
        assert_eq!(d.regime(), Bull);
    }

    #[test]
    fn below_a_falling_sma_is_bear() {
        let mut d = detector(2);
        let last = (0..10)
            .map(|i| {
                let sma = 100.0 - f64::from(i);
                d.on_values(sma - 1.0, Some(sma))
            })
            .last();
        assert_eq!(last, Some(Regime::Bear));
    }

    #[test]
    fn disagreement_between_price_and_slope_is_range() {
        // Price above a falling SMA (a bounce in a downtrend): range, not bull.
        let mut d = detector(2);
        for i in 0..5 {
            let sma = 100.0 - f64::from(i);
            assert_eq!(d.on_values(sma + 10.0, Some(sma)), Regime::Range);
        }
        // Price below a rising SMA: range, not bear.
        let mut d = detector(2);
        for i in 0..5 {
            let sma = 100.0 + f64::from(i);
            assert_eq!(d.on_values(sma - 10.0, Some(sma)), Regime::Range);
        }
    }

    #[test]
    fn the_slope_compares_with_exactly_lookback_bars_ago() {
        let mut d = detector(3);
        // SMA path: 10, 20, 30, 15, 16, 17 - at the last bar it is above 15 three bars back
        // (rising) although it fell from 30 over the window.
        let path = [10.0, 20.0, 30.0, 15.0, 16.0, 17.0];
        let out: Vec<Regime> = path
            .iter()
            .map(|s| d.on_values(s + 1.0, Some(*s)))
            .collect();
        assert_eq!(out[3], Regime::Bull, "15 > 10 three bars back");
        assert_eq!(out[4], Regime::Range, "16 < 20 three bars back");
        assert_eq!(out[5], Regime::Range, "17 < 30 three bars back");
    }

    #[test]
    fn warm_up_is_range() {
        let mut d = detector(1);
        assert_eq!(d.on_values(50_000.0, None), Regime::Range);
        assert_eq!(d.on_values(50_000.0, Some(40_000.0)), Regime::Range);
        assert_eq!(d.on_values(50_000.0, Some(41_000.0)), Regime::Bull);
    }

    #[test]
    fn config_is_validated() {
        assert_eq!(RegimeConfig::default().validate("regime"), Ok(()));
        let bad = RegimeConfig {
            symbol: "BTC USDT!".into(),
            ..RegimeConfig::default()
        };
        assert_eq!(bad.validate("regime").unwrap_err().key, "regime.symbol");
        let bad = RegimeConfig {
            slope_lookback: 0,
            ..RegimeConfig::default()
        };
        let err = bad.validate("regime").unwrap_err();
        assert_eq!(err.key, "regime.slope_lookback");
    }
}
