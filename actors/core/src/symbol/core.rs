//! One symbol's technical state: its indicators and setup scanner, fed closed candles.

use rust_decimal::prelude::ToPrimitive;

use super::confirm::PatternWatch;
use super::{IndicatorConfig, IndicatorSet, IndicatorValues, SetupConfig, SetupScanner};
use crate::model::{Candle, Symbol, TechnicalSetup, Timestamp};

/// What one accepted candle produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolUpdate {
    /// The indicators after the candle.
    pub values: IndicatorValues,
    /// The candle's close as f64.
    pub close: f64,
    /// A setup found on it, if any.
    pub setup: Option<TechnicalSetup>,
}

/// One symbol's pure core: indicators plus setup scanner, dropping stale candles.
#[derive(Debug, Clone)]
pub struct SymbolCore {
    symbol: Symbol,
    indicators: IndicatorSet,
    scanner: SetupScanner,
    /// Candlestick patterns, when they confirm setups (`[setup] pattern_confirmation`).
    patterns: Option<PatternWatch>,
    last_open: Option<Timestamp>,
    stale: u64,
}

impl SymbolCore {
    /// A fresh core. Expects validated configs.
    pub fn new(symbol: Symbol, ind: &IndicatorConfig, setup: &SetupConfig) -> Self {
        Self {
            symbol,
            indicators: IndicatorSet::new(ind),
            scanner: SetupScanner::new(setup),
            patterns: PatternWatch::new(setup),
            last_open: None,
            stale: 0,
        }
    }

    /// The symbol this core follows.
    pub fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// Feeds one closed candle. A candle that does not open after the last one accepted
    /// (a duplicate or out-of-order bar from a live feed) is dropped, counted, and yields
    /// `None`. Allocates only when a setup is found.
    pub fn on_candle(&mut self, candle: &Candle) -> Option<SymbolUpdate> {
        if self.last_open.is_some_and(|last| candle.open_time <= last) {
            self.stale += 1;
            return None;
        }
        // Decimal → f64 never fails (`to_f64` is always `Some` for `Decimal`); should it ever,
        // the bar is dropped rather than poisoning every average with a NaN.
        let (Some(high), Some(low), Some(close)) = (
            candle.high.to_f64(),
            candle.low.to_f64(),
            candle.close.to_f64(),
        ) else {
            self.stale += 1;
            return None;
        };
        self.last_open = Some(candle.open_time);
        let values = self.indicators.update(high, low, close);
        let mut setup = self.scanner.scan(&self.symbol, candle, close, &values);
        if let Some(watch) = &mut self.patterns {
            setup = watch.confirm(candle, setup);
        }
        Some(SymbolUpdate {
            values,
            close,
            setup,
        })
    }

    /// How many candles were dropped as duplicates or out of order.
    pub fn stale_candles(&self) -> u64 {
        self.stale
    }

    /// The indicators after the last accepted candle (e.g. the ATR for stop distances).
    pub fn last_values(&self) -> IndicatorValues {
        self.indicators.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::testdata::reference_rows;

    fn core() -> SymbolCore {
        SymbolCore::new(
            Symbol::parse("BTCUSDT").unwrap(),
            &IndicatorConfig::default(),
            &SetupConfig::default(),
        )
    }

    #[test]
    fn duplicate_and_out_of_order_candles_are_dropped_and_counted() {
        let rows = reference_rows();
        let mut core = core();
        let first = core.on_candle(&rows[0].candle).unwrap();
        assert_eq!(first.close, 41014.71);
        assert!(core.on_candle(&rows[1].candle).is_some());
        let before = core.last_values();
        assert_eq!(core.on_candle(&rows[1].candle), None, "duplicate");
        assert_eq!(core.on_candle(&rows[0].candle), None, "out of order");
        assert_eq!(core.stale_candles(), 2);
        assert_eq!(
            core.last_values(),
            before,
            "dropped bars leave the indicators alone"
        );
        assert!(core.on_candle(&rows[2].candle).is_some());
        assert_eq!(core.stale_candles(), 2);
    }

    #[test]
    fn a_replay_with_a_duplicate_gives_the_same_values_and_setups_as_a_clean_one() {
        let rows = reference_rows();
        let mut clean = core();
        let mut noisy = core();
        let mut setups = 0;
        for (i, row) in rows.iter().enumerate() {
            let want = clean.on_candle(&row.candle).unwrap();
            let got = noisy.on_candle(&row.candle).unwrap();
            assert_eq!(got, want, "row {i}");
            if i % 100 == 0 {
                assert_eq!(noisy.on_candle(&row.candle), None, "row {i} repeated");
            }
            setups += usize::from(want.setup.is_some());
            assert_eq!(want.values.atr, clean.last_values().atr);
        }
        assert_eq!(noisy.stale_candles(), 50);
        assert!(setups > 0);
        let last = clean.last_values();
        assert!(last.atr.is_some() && last.sma_long.is_some());
    }
}
