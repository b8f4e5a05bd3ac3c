//! The technical setup scanner: a MACD-histogram zero cross, confirmed by several indicators.
//!
//! A bar is a setup candidate when the MACD histogram changes sign against the previous bar
//! (the trigger): up through zero for a long, down through zero for a short. The candidate is
//! then checked against five independent confirmations, each in the trade's direction:
//!
//! | name | long | short |
//! |---|---|---|
//! | `trend_long_sma` | close > long SMA | close < long SMA |
//! | `ema_over_sma` | EMA > SMA | EMA < SMA |
//! | `rsi_momentum` | RSI > 50 | RSI < 50 |
//! | `bollinger_side` | close > middle band | close < middle band |
//! | `macd_side_of_zero` | MACD line > 0 | MACD line < 0 |
//!
//! A long is never taken with the RSI at or above `rsi_overbought` (exhausted), a short never
//! at or below `rsi_oversold`, and none without a positive ATR (no stop could be sized). The
//! setup fires with at least `min_confirmations`, scored as the share of confirmations met.
//!
//! A candlestick pattern can confirm a setup too (`pattern_confirmation`, off by default): one
//! of `confirming_patterns` on the setup's bar or the `pattern_window - 1` bars before it, in
//! the setup's direction (a positive value for a long, negative for a short), either raises the
//! score by `pattern_weight` (`weight`) or is required (`require`); the symbol core applies it
//! (see [`PatternConfirmation`]).

use serde::{Deserialize, Serialize};

use super::IndicatorValues;
use crate::config_check::{in_range, key, ConfigError};
use crate::model::{Candle, Direction, Symbol, TechnicalSetup};

/// How many confirmations the scanner checks.
const CONFIRMATIONS: usize = 5;

/// The RSI's midline, between bullish and bearish momentum.
const RSI_MIDLINE: f64 = 50.0;

/// Thresholds of the setup scanner (`[setup]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SetupConfig {
    /// Confirmations (of 5) needed for a setup.
    pub min_confirmations: usize,
    /// No long at or above this RSI.
    pub rsi_overbought: f64,
    /// No short at or below this RSI.
    pub rsi_oversold: f64,
    /// Whether a candlestick pattern confirms setups.
    pub pattern_confirmation: PatternConfirmation,
    /// The patterns that may confirm a setup (names as in `keel data indicators`, without
    /// `cdl_`).
    pub confirming_patterns: Vec<String>,
    /// Bars, the setup's included, in which a confirming pattern counts.
    pub pattern_window: usize,
    /// Score a confirming pattern adds in `weight` mode (the score stays at most 1).
    pub pattern_weight: f64,
}

/// How candlestick patterns bear on setups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternConfirmation {
    /// Patterns are not computed; setups are as without them.
    #[default]
    Off,
    /// A confirming pattern raises a setup's score by `pattern_weight`.
    Weight,
    /// A setup without a confirming pattern is dropped.
    Require,
}

/// The directional patterns: each says long or short by its sign.
pub const DIRECTIONAL_PATTERNS: [&str; 13] = [
    "hammer",
    "invertedhammer",
    "shootingstar",
    "hangingman",
    "engulfing",
    "harami",
    "morningstar",
    "eveningstar",
    "3whitesoldiers",
    "3blackcrows",
    "piercing",
    "darkcloudcover",
    "marubozu",
];

impl Default for SetupConfig {
    fn default() -> Self {
        Self {
            min_confirmations: 3,
            rsi_overbought: 70.0,
            rsi_oversold: 30.0,
            pattern_confirmation: PatternConfirmation::Off,
            confirming_patterns: DIRECTIONAL_PATTERNS.iter().map(|s| s.to_string()).collect(),
            pattern_window: 2,
            pattern_weight: 0.2,
        }
    }
}

impl SetupConfig {
    /// Checks `min_confirmations` in 1..=5, `rsi_overbought` in 50..=100 and `rsi_oversold` in
    /// 0..=50, and that oversold is below overbought.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(
            section,
            "min_confirmations",
            self.min_confirmations,
            1,
            CONFIRMATIONS,
        )?;
        in_range(
            section,
            "rsi_overbought",
            self.rsi_overbought,
            RSI_MIDLINE,
            100.0,
        )?;
        in_range(section, "rsi_oversold", self.rsi_oversold, 0.0, RSI_MIDLINE)?;
        in_range(section, "pattern_window", self.pattern_window, 1, 10)?;
        in_range(section, "pattern_weight", self.pattern_weight, 0.0, 1.0)?;
        if let Some(unknown) = self
            .confirming_patterns
            .iter()
            .find(|name| !super::patterns::PATTERN_NAMES.contains(&name.as_str()))
        {
            return Err(ConfigError::new(
                key(section, "confirming_patterns"),
                format!(
                    "{unknown:?} is not a pattern; one of {}",
                    super::patterns::PATTERN_NAMES.join(", ")
                ),
            ));
        }
        if self.rsi_oversold >= self.rsi_overbought {
            return Err(ConfigError::between(
                key(section, "rsi_oversold"),
                key(section, "rsi_overbought"),
                format!(
                    "{} must be below rsi_overbought ({})",
                    self.rsi_oversold, self.rsi_overbought
                ),
            ));
        }
        Ok(())
    }
}

/// The indicator values a setup needs, all past their warm-up.
struct Ready {
    close: f64,
    sma: f64,
    ema: f64,
    rsi: f64,
    macd: f64,
    hist: f64,
    atr: f64,
    bb_middle: f64,
    sma_long: f64,
}

impl Ready {
    fn from(close: f64, v: &IndicatorValues) -> Option<Self> {
        Some(Self {
            close,
            sma: v.sma?,
            ema: v.ema?,
            rsi: v.rsi?,
            macd: v.macd?,
            hist: v.macd_hist?,
            atr: v.atr?,
            bb_middle: v.bb_middle?,
            sma_long: v.sma_long?,
        })
    }

    /// Each confirmation's name and whether it holds in `direction`.
    fn confirmations(&self, direction: Direction) -> [(&'static str, bool); CONFIRMATIONS] {
        // `above(a, b)` in the trade's direction: a > b for longs, a < b for shorts.
        let above = |a: f64, b: f64| match direction {
            Direction::Long => a > b,
            Direction::Short => a < b,
        };
        [
            ("trend_long_sma", above(self.close, self.sma_long)),
            ("ema_over_sma", above(self.ema, self.sma)),
            ("rsi_momentum", above(self.rsi, RSI_MIDLINE)),
            ("bollinger_side", above(self.close, self.bb_middle)),
            ("macd_side_of_zero", above(self.macd, 0.0)),
        ]
    }
}

/// Scans one symbol's closed bars for setups. Keeps only the previous histogram value.
#[derive(Debug, Clone)]
pub struct SetupScanner {
    cfg: SetupConfig,
    prev_hist: Option<f64>,
}

impl SetupScanner {
    /// A scanner with no history. Expects a validated config.
    pub fn new(cfg: &SetupConfig) -> Self {
        Self {
            cfg: cfg.clone(),
            prev_hist: None,
        }
    }

    /// Checks one closed bar (`close` is `candle.close` as f64, `v` its indicator values).
    /// Returns a setup only on a confirmed trigger; nothing while any indicator warms up.
    /// Allocates only when it returns a setup.
    pub fn scan(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        close: f64,
        v: &IndicatorValues,
    ) -> Option<TechnicalSetup> {
        let prev = std::mem::replace(&mut self.prev_hist, v.macd_hist);
        let ready = Ready::from(close, v)?;
        let prev = prev?;
        let direction = if prev <= 0.0 && ready.hist > 0.0 {
            Direction::Long
        } else if prev >= 0.0 && ready.hist < 0.0 {
            Direction::Short
        } else {
            return None;
        };
        let exhausted = match direction {
            Direction::Long => ready.rsi >= self.cfg.rsi_overbought,
            Direction::Short => ready.rsi <= self.cfg.rsi_oversold,
        };
        // A setup without a usable ATR could not size a stop.
        if exhausted || !(ready.atr.is_finite() && ready.atr > 0.0) {
            return None;
        }
        let checks = ready.confirmations(direction);
        let met = checks.iter().filter(|(_, ok)| *ok).count();
        if met < self.cfg.min_confirmations {
            return None;
        }
        Some(TechnicalSetup {
            symbol: symbol.clone(),
            ts: candle.close_time(),
            direction,
            score: met as f64 / CONFIRMATIONS as f64,
            price: candle.close,
            atr: ready.atr,
            reasons: checks
                .iter()
                .filter(|(_, ok)| *ok)
                .map(|(name, _)| *name)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

    use super::*;
    use crate::model::{Decimal, Interval, Timestamp};
    use crate::symbol::testdata::reference_rows;
    use crate::symbol::{IndicatorConfig, IndicatorSet};

    fn btc() -> Symbol {
        Symbol::parse("BTCUSDT").unwrap()
    }

    fn candle(i: i64, close: f64) -> Candle {
        let d = |x: f64| Decimal::from_f64(x).unwrap().round_dp(8);
        Candle {
            symbol: btc(),
            open_time: Timestamp(i * 3_600_000),
            interval: Interval::HOUR,
            open: d(close),
            high: d(close + 1.0),
            low: d(close - 1.0),
            close: d(close),
            volume: Decimal::ONE,
        }
    }

    /// Bullish in every respect, with the histogram at `hist`.
    fn bullish(hist: f64) -> IndicatorValues {
        IndicatorValues {
            sma: Some(104.0),
            ema: Some(105.0),
            rsi: Some(60.0),
            macd: Some(2.0),
            macd_signal: Some(2.0 - hist),
            macd_hist: Some(hist),
            atr: Some(1.5),
            bb_upper: Some(112.0),
            bb_middle: Some(105.0),
            bb_lower: Some(98.0),
            sma_long: Some(100.0),
        }
    }

    #[test]
    fn histogram_cross_up_with_all_confirmations_is_a_full_score_long() {
        let mut scanner = SetupScanner::new(&SetupConfig::default());
        let c = candle(7, 110.0);
        assert_eq!(scanner.scan(&btc(), &c, 110.0, &bullish(-0.5)), None);
        let setup = scanner.scan(&btc(), &c, 110.0, &bullish(0.5)).unwrap();
        assert_eq!(setup.direction, Direction::Long);
        assert_eq!(setup.score, 1.0);
        assert_eq!(setup.reasons.len(), 5);
        assert_eq!(setup.atr, 1.5);
        assert_eq!(setup.price, c.close);
        assert_eq!(
            setup.ts,
            Timestamp(8 * 3_600_000),
            "the candle's close time"
        );
        // No second trigger while the histogram stays positive.
        assert_eq!(scanner.scan(&btc(), &c, 110.0, &bullish(0.7)), None);
    }

    #[test]
    fn too_few_confirmations_or_an_overbought_rsi_is_no_setup() {
        let cfg = SetupConfig::default();
        let c = candle(1, 110.0);
        // Only MACD > 0 and RSI > 50 agree: 2 of 5.
        let weak = IndicatorValues {
            sma_long: Some(120.0),
            ema: Some(103.0),
            bb_middle: Some(111.0),
            ..bullish(0.5)
        };
        let mut scanner = SetupScanner::new(&cfg);
        scanner.scan(&btc(), &c, 110.0, &bullish(-0.5));
        assert_eq!(scanner.scan(&btc(), &c, 110.0, &weak), None);
        // Exactly 3 of 5 is enough, scored 0.6.
        let three = IndicatorValues {
            sma_long: Some(120.0),
            ema: Some(103.0),
            ..bullish(0.5)
        };
        let mut scanner = SetupScanner::new(&cfg);
        scanner.scan(&btc(), &c, 110.0, &bullish(-0.5));
        let setup = scanner.scan(&btc(), &c, 110.0, &three).unwrap();
        assert_eq!(setup.score, 0.6);
        assert_eq!(
            setup.reasons,
            vec!["rsi_momentum", "bollinger_side", "macd_side_of_zero"]
        );
        // Overbought: vetoed although everything else agrees.
        let hot = IndicatorValues {
            rsi: Some(75.0),
            ..bullish(0.5)
        };
        let mut scanner = SetupScanner::new(&cfg);
        scanner.scan(&btc(), &c, 110.0, &bullish(-0.5));
        assert_eq!(scanner.scan(&btc(), &c, 110.0, &hot), None);
    }

    #[test]
    fn nothing_fires_while_any_indicator_warms_up() {
        let mut scanner = SetupScanner::new(&SetupConfig::default());
        let c = candle(1, 110.0);
        scanner.scan(&btc(), &c, 110.0, &bullish(-0.5));
        let warming = IndicatorValues {
            sma_long: None,
            ..bullish(0.5)
        };
        assert_eq!(scanner.scan(&btc(), &c, 110.0, &warming), None);
    }

    /// Runs a price path through a small indicator set and the scanner.
    fn setups_on(path: impl Iterator<Item = f64>) -> Vec<TechnicalSetup> {
        let ind = IndicatorConfig {
            sma_long: 60,
            ..IndicatorConfig::default()
        };
        let mut set = IndicatorSet::new(&ind);
        let mut scanner = SetupScanner::new(&SetupConfig::default());
        path.enumerate()
            .filter_map(|(i, close)| {
                let c = candle(i as i64, close);
                let v = set.update(close + 1.0, close - 1.0, close);
                scanner.scan(&btc(), &c, close, &v)
            })
            .collect()
    }

    /// A trend of 0.3 per bar (`sign` +1 up, -1 down: exact mirror images) with a swing that
    /// turns the MACD histogram every 21 bars.
    fn trend_with_swings(sign: f64) -> impl Iterator<Item = f64> {
        (0..400).map(move |i| {
            let i = f64::from(i);
            1_000.0 + sign * (0.3 * i + 8.0 * (i * 0.3).sin())
        })
    }

    #[test]
    fn an_uptrend_gives_longs_on_the_histogram_crossing_up_and_no_shorts() {
        let setups = setups_on(trend_with_swings(1.0));
        // One per swing after the 60-bar warm-up of the long SMA.
        assert!(setups.len() >= 15, "{} longs", setups.len());
        assert!(setups.iter().all(|s| s.direction == Direction::Long));
        assert!(setups.iter().all(|s| s.reasons.contains(&"trend_long_sma")));
    }

    #[test]
    fn a_downtrend_gives_shorts_and_no_longs() {
        let setups = setups_on(trend_with_swings(-1.0));
        assert!(setups.len() >= 15, "{} shorts", setups.len());
        assert!(setups.iter().all(|s| s.direction == Direction::Short));
        assert!(setups.iter().all(|s| s.score >= 0.6));
    }

    #[test]
    fn setups_are_rare_on_real_btc_bars() {
        let rows = reference_rows();
        let mut set = IndicatorSet::new(&IndicatorConfig::default());
        let mut scanner = SetupScanner::new(&SetupConfig::default());
        let mut found = Vec::new();
        for row in &rows {
            let c = &row.candle;
            let f = |d: Decimal| d.to_f64().unwrap();
            let v = set.update(f(c.high), f(c.low), f(c.close));
            if let Some(s) = scanner.scan(&c.symbol, c, f(c.close), &v) {
                assert_eq!(s.atr, v.atr.unwrap());
                found.push(s);
            }
        }
        let share = found.len() as f64 / rows.len() as f64;
        assert!(
            (0.005..=0.10).contains(&share),
            "{} setups on {} bars",
            found.len(),
            rows.len()
        );
        let longs = found
            .iter()
            .filter(|s| s.direction == Direction::Long)
            .count();
        assert!(longs > 0 && longs < found.len(), "both directions occur");
        assert!(found.iter().all(|s| s.score >= 0.6 && s.score <= 1.0));
    }

    #[test]
    fn config_is_validated() {
        assert_eq!(SetupConfig::default().validate("setup"), Ok(()));
        let bad = SetupConfig {
            min_confirmations: 6,
            ..SetupConfig::default()
        };
        let err = bad.validate("setup").unwrap_err();
        assert_eq!(err.key, "setup.min_confirmations");
        assert!(err.message.contains("1..=5"), "{err}");
        let bad = SetupConfig {
            rsi_oversold: 50.0,
            rsi_overbought: 50.0,
            ..SetupConfig::default()
        };
        assert_eq!(bad.validate("setup").unwrap_err().key, "setup.rsi_oversold");
    }
}
