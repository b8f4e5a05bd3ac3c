//! The indicator set of one symbol: SMA, EMA, RSI, MACD, ATR, Bollinger Bands and the long SMA
//! of the regime, all yielding TA-Lib's standard values and warm-up (see the module docs).

use serde::{Deserialize, Serialize};
use ta::indicators::{BollingerBands, SimpleMovingAverage};
use ta::Next;

use super::standard::{bollinger, sma, Atr, Macd, Rsi, SeededEma};
use crate::config_check::{in_range, key, positive, ConfigError};

/// Longest period accepted for any indicator.
const MAX_PERIOD: usize = 10_000;

/// Periods and widths of the indicator set (`[indicators]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndicatorConfig {
    /// SMA period.
    pub sma: usize,
    /// EMA period.
    pub ema: usize,
    /// RSI period (Wilder).
    pub rsi: usize,
    /// MACD fast EMA period.
    pub macd_fast: usize,
    /// MACD slow EMA period.
    pub macd_slow: usize,
    /// MACD signal EMA period.
    pub macd_signal: usize,
    /// ATR period (Wilder).
    pub atr: usize,
    /// Bollinger Bands period.
    pub bb_period: usize,
    /// Bollinger Bands width in (population) standard deviations.
    pub bb_k: f64,
    /// Long SMA period, used by the regime detector and the trend confirmation.
    pub sma_long: usize,
}

impl Default for IndicatorConfig {
    fn default() -> Self {
        Self {
            sma: 20,
            ema: 20,
            rsi: 14,
            macd_fast: 12,
            macd_slow: 26,
            macd_signal: 9,
            atr: 14,
            bb_period: 20,
            bb_k: 2.0,
            sma_long: 200,
        }
    }
}

impl IndicatorConfig {
    /// Checks every period (TA-Lib's minimums up to 10,000), `bb_k` in (0, 10] and
    /// `macd_fast < macd_slow`, naming the key as `section.field`.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        let periods = [
            ("sma", self.sma, 2),
            ("ema", self.ema, 2),
            ("rsi", self.rsi, 2),
            ("macd_fast", self.macd_fast, 2),
            ("macd_slow", self.macd_slow, 2),
            ("macd_signal", self.macd_signal, 1),
            ("atr", self.atr, 1),
            ("bb_period", self.bb_period, 2),
            ("sma_long", self.sma_long, 2),
        ];
        for (name, value, min) in periods {
            in_range(section, name, value, min, MAX_PERIOD)?;
        }
        positive(section, "bb_k", self.bb_k, 0.0)?;
        in_range(section, "bb_k", self.bb_k, 0.0, 10.0)?;
        if self.macd_fast >= self.macd_slow {
            return Err(ConfigError::between(
                key(section, "macd_fast"),
                key(section, "macd_slow"),
                format!(
                    "{} must be less than macd_slow ({})",
                    self.macd_fast, self.macd_slow
                ),
            ));
        }
        Ok(())
    }
}

/// The indicator values after one bar; `None` while that indicator is still warming up
/// (exactly where TA-Lib leaves its output empty).
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize)]
pub struct IndicatorValues {
    /// Simple moving average of the close.
    pub sma: Option<f64>,
    /// Exponential moving average of the close (SMA-seeded).
    pub ema: Option<f64>,
    /// Wilder's RSI in [0, 100].
    pub rsi: Option<f64>,
    /// MACD line: fast EMA − slow EMA.
    pub macd: Option<f64>,
    /// MACD signal line: EMA of the MACD line.
    pub macd_signal: Option<f64>,
    /// MACD histogram: line − signal.
    pub macd_hist: Option<f64>,
    /// Wilder's average true range.
    pub atr: Option<f64>,
    /// Upper Bollinger band.
    pub bb_upper: Option<f64>,
    /// Middle Bollinger band (the SMA of `bb_period`).
    pub bb_middle: Option<f64>,
    /// Lower Bollinger band.
    pub bb_lower: Option<f64>,
    /// Long SMA (200 by default), for the regime.
    pub sma_long: Option<f64>,
}

impl IndicatorValues {
    /// Every value passed through `f` (those still warming up stay `None`).
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Self {
        let m = |x: Option<f64>| x.map(&f);
        Self {
            sma: m(self.sma),
            ema: m(self.ema),
            rsi: m(self.rsi),
            macd: m(self.macd),
            macd_signal: m(self.macd_signal),
            macd_hist: m(self.macd_hist),
            atr: m(self.atr),
            bb_upper: m(self.bb_upper),
            bb_middle: m(self.bb_middle),
            bb_lower: m(self.bb_lower),
            sma_long: m(self.sma_long),
        }
    }
}

impl IndicatorValues {
    /// The values in column order: sma, ema, rsi, macd, macd_signal, macd_hist, atr,
    /// bb_upper, bb_middle, bb_lower, sma_long (as `keel data indicators` prints them).
    pub fn columns(&self) -> [Option<f64>; 11] {
        [
            self.sma,
            self.ema,
            self.rsi,
            self.macd,
            self.macd_signal,
            self.macd_hist,
            self.atr,
            self.bb_upper,
            self.bb_middle,
            self.bb_lower,
            self.sma_long,
        ]
    }
}

/// One symbol's running indicators. O(1) and allocation-free per bar.
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    bars: usize,
    sma_period: usize,
    sma: SimpleMovingAverage,
    ema: SeededEma,
    rsi: Rsi,
    macd: Macd,
    atr: Atr,
    bb_period: usize,
    bb: BollingerBands,
    sma_long_period: usize,
    sma_long: SimpleMovingAverage,
    last: IndicatorValues,
}

impl IndicatorSet {
    /// A fresh set. Expects a validated config; a period of 0 is treated as 1.
    pub fn new(cfg: &IndicatorConfig) -> Self {
        Self {
            bars: 0,
            sma_period: cfg.sma.max(1),
            sma: sma(cfg.sma),
            ema: SeededEma::standard(cfg.ema),
            rsi: Rsi::new(cfg.rsi),
            macd: Macd::new(cfg.macd_fast, cfg.macd_slow, cfg.macd_signal),
            atr: Atr::new(cfg.atr),
            bb_period: cfg.bb_period.max(1),
            bb: bollinger(cfg.bb_period, cfg.bb_k),
            sma_long_period: cfg.sma_long.max(1),
            sma_long: sma(cfg.sma_long),
            last: IndicatorValues::default(),
        }
    }

    /// Feeds one closed bar and returns every indicator's value after it.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> IndicatorValues {
        self.bars = self.bars.saturating_add(1);
        let warm = |period: usize, value: f64| (self.bars >= period).then_some(value);
        let bb = self.bb.next(close);
        let bb_warm = self.bars >= self.bb_period;
        let macd = self.macd.next(close);
        let values = IndicatorValues {
            sma: warm(self.sma_period, self.sma.next(close)),
            ema: self.ema.next(close),
            rsi: self.rsi.next(close),
            macd: macd.map(|m| m.macd),
            macd_signal: macd.map(|m| m.signal),
            macd_hist: macd.map(|m| m.hist),
            atr: self.atr.next(high, low, close),
            bb_upper: bb_warm.then_some(bb.upper),
            bb_middle: bb_warm.then_some(bb.average),
            bb_lower: bb_warm.then_some(bb.lower),
            sma_long: warm(self.sma_long_period, self.sma_long.next(close)),
        };
        self.last = values;
        values
    }

    /// The values after the last bar (all `None` before the first).
    pub fn last(&self) -> IndicatorValues {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::prelude::ToPrimitive;

    use super::*;
    use crate::symbol::testdata::{reference_rows, COLUMNS};

    /// Our values for every reference row, fed with the default config.
    fn ours() -> Vec<[Option<f64>; 11]> {
        let mut set = IndicatorSet::new(&IndicatorConfig::default());
        reference_rows()
            .iter()
            .map(|row| {
                let f = |d: rust_decimal::Decimal| d.to_f64().unwrap();
                let c = &row.candle;
                set.update(f(c.high), f(c.low), f(c.close)).columns()
            })
            .collect()
    }

    /// Asserts every reference cell from `first_row` on, naming column, row, ours and theirs.
    ///
    /// Tolerance: 1e-6 relative to `max(|theirs|, floor)`. Prices, bands, ATR and RSI never
    /// come near 0, so their floor is a mere 1e-9. MACD, its signal and its histogram are
    /// differences of two price-scale EMAs: their rounding error scales with the price, not with
    /// themselves, and they cross zero, where a purely relative test would compare rounding
    /// noise. Their floor is 1e-6 × the close (about 0.04 at BTC prices), i.e. an absolute
    /// tolerance of 1e-12 × the close near a zero crossing — still far below the reference's
    /// printed precision (12 significant digits).
    fn assert_parity_from(first_row: usize) {
        let rows = reference_rows();
        let ours = ours();
        assert_eq!(rows.len(), 5_000);
        for (i, (row, ours)) in rows.iter().zip(&ours).enumerate().skip(first_row) {
            let close = row.candle.close.to_f64().unwrap();
            for (col, name) in COLUMNS.iter().enumerate() {
                let (Some(a), Some(b)) = (ours[col], row.expected[col]) else {
                    continue;
                };
                let floor = if name.starts_with("macd") {
                    1e-6 * close
                } else {
                    1e-9
                };
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(floor),
                    "column {name}, row {i}: ours {a}, TA-Lib {b}"
                );
            }
        }
    }

    #[test]
    fn matches_talib_on_5000_btc_bars_from_row_300() {
        assert_parity_from(300);
    }

    #[test]
    fn matches_talib_from_the_first_value_thanks_to_standard_seeding() {
        assert_parity_from(0);
    }

    #[test]
    fn plain_ta_rsi_is_not_wilders_until_given_period_2n_minus_1() {
        let rows = reference_rows();
        let mut ta14 = ta::indicators::RelativeStrengthIndex::new(14).unwrap();
        let mut ta27 = ta::indicators::RelativeStrengthIndex::new(27).unwrap();
        let (mut worst14, mut worst27_late, mut worst27_early) = (0.0f64, 0.0f64, 0.0f64);
        for (i, row) in rows.iter().enumerate() {
            let close = row.candle.close.to_f64().unwrap();
            let (a, b) = (ta14.next(close), ta27.next(close));
            let Some(want) = row.expected[2] else {
                continue;
            };
            worst14 = worst14.max((a - want).abs());
            let err27 = (b - want).abs() / want;
            if i >= 300 {
                worst27_late = worst27_late.max(err27);
            } else {
                worst27_early = worst27_early.max(err27);
            }
        }
        assert!(
            worst14 > 1.0,
            "ta's RSI(14) is off by up to {worst14} RSI points"
        );
        assert!(
            worst27_late <= 1e-6,
            "Wilder's 14 is ta's 27: {worst27_late}"
        );
        assert!(
            worst27_early > 1e-3,
            "but ta's seeding differs: {worst27_early}"
        );
    }

    #[test]
    fn warm_up_is_exactly_talibs_empty_cells() {
        let rows = reference_rows();
        for (i, (row, ours)) in rows.iter().zip(ours()).enumerate() {
            for (col, name) in COLUMNS.iter().enumerate() {
                assert_eq!(
                    ours[col].is_some(),
                    row.expected[col].is_some(),
                    "column {name}, row {i}: ours {:?}, TA-Lib {:?}",
                    ours[col],
                    row.expected[col]
                );
            }
        }
    }

    #[test]
    fn warm_up_lengths_follow_the_periods() {
        let cfg = IndicatorConfig {
            sma: 3,
            ema: 4,
            rsi: 2,
            macd_fast: 2,
            macd_slow: 3,
            macd_signal: 2,
            atr: 2,
            bb_period: 5,
            bb_k: 2.0,
            sma_long: 6,
        };
        let mut set = IndicatorSet::new(&cfg);
        let firsts: Vec<[Option<f64>; 11]> = (0..8)
            .map(|i| {
                let x = 100.0 + f64::from(i % 3);
                set.update(x + 1.0, x - 1.0, x).columns()
            })
            .collect();
        let first_value = |col: usize| firsts.iter().position(|v| v[col].is_some());
        // sma n-1, ema n-1, rsi n, macd* slow+signal-2, atr n, bb n-1, sma_long n-1
        let expected = [2, 3, 2, 3, 3, 3, 2, 4, 4, 4, 5];
        for (col, want) in expected.iter().enumerate() {
            assert_eq!(first_value(col), Some(*want), "column {}", COLUMNS[col]);
        }
        assert_eq!(
            set.last().columns(),
            firsts[7],
            "last() is the latest update"
        );
    }

    #[test]
    fn config_errors_name_the_key() {
        assert_eq!(IndicatorConfig::default().validate("indicators"), Ok(()));
        let bad = IndicatorConfig {
            macd_fast: 26,
            ..IndicatorConfig::default()
        };
        let err = bad.validate("indicators").unwrap_err();
        assert_eq!(err.key, "indicators.macd_fast");
        assert!(err.message.contains("less than macd_slow (26)"), "{err}");
        let bad = IndicatorConfig {
            rsi: 1,
            ..IndicatorConfig::default()
        };
        assert_eq!(
            bad.validate("indicators").unwrap_err().key,
            "indicators.rsi"
        );
        let bad = IndicatorConfig {
            bb_k: 0.0,
            ..IndicatorConfig::default()
        };
        let err = bad.validate("x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid config `x.bb_k`: 0 must be greater than 0"
        );
    }

    #[test]
    fn config_rejects_unknown_keys() {
        let err = serde_json::from_str::<IndicatorConfig>(r#"{"sma": 10, "smaa": 3}"#);
        assert!(err.unwrap_err().to_string().contains("smaa"));
        let cfg: IndicatorConfig = serde_json::from_str(r#"{"sma": 10}"#).unwrap();
        assert_eq!(cfg.sma, 10);
        assert_eq!(cfg.sma_long, 200);
    }
}
