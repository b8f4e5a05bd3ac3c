//! The symbol stage of the pipeline: each symbol's indicators and setup scanner, computed
//! candle by candle, or replayed from updates computed once and shared by many runs over the
//! same candles with the same indicator and setup settings (`keel sweep`'s cells). The
//! stage is causal, so a run that stops earlier replays a prefix of the same updates.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use keel_core::symbol::{IndicatorConfig, SetupConfig, SymbolCore, SymbolUpdate};
use keel_model::{Candle, Symbol, Timestamp};

/// One symbol's updates over its candles, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolSeries {
    open_times: Vec<Timestamp>,
    updates: Vec<Option<SymbolUpdate>>,
}

/// Symbol series a run replays instead of computing, by symbol.
pub type SharedSymbolUpdates = HashMap<Symbol, Arc<SymbolSeries>>;

impl SymbolSeries {
    /// Runs `candles` (one symbol's, in order) through a fresh symbol core.
    pub fn compute(
        symbol: &Symbol,
        candles: &[Candle],
        indicators: &IndicatorConfig,
        setup: &SetupConfig,
    ) -> Self {
        let mut core = SymbolCore::new(symbol.clone(), indicators, setup);
        Self {
            open_times: candles.iter().map(|c| c.open_time).collect(),
            updates: candles.iter().map(|c| core.on_candle(c)).collect(),
        }
    }
}

/// Where one symbol's updates come from during a run.
#[derive(Debug, Clone)]
pub enum SymbolStage {
    /// Computed candle by candle.
    Computed(Box<SymbolCore>),
    /// Replayed: `next` is the position of the next candle in `series`.
    Replayed {
        /// The shared updates.
        series: Arc<SymbolSeries>,
        /// The next one to hand out.
        next: usize,
    },
}

impl SymbolStage {
    /// The stage of `symbol`: replaying `shared`'s series when it has one.
    pub fn new(
        symbol: &Symbol,
        indicators: &IndicatorConfig,
        setup: &SetupConfig,
        shared: &SharedSymbolUpdates,
    ) -> Self {
        match shared.get(symbol) {
            Some(series) => Self::Replayed {
                series: series.clone(),
                next: 0,
            },
            None => Self::Computed(Box::new(SymbolCore::new(symbol.clone(), indicators, setup))),
        }
    }

    /// The update of the symbol's next candle (borrowed from the series when replaying: a
    /// copy per candle would cost more than the replay saves).
    ///
    /// # Panics
    /// When replaying, if `candle` is not the series' next candle: the run's candles are not
    /// those the series was computed from, which is a bug of the caller, never a data error.
    pub fn on_candle(&mut self, candle: &Candle) -> Option<Cow<'_, SymbolUpdate>> {
        match self {
            Self::Computed(core) => core.on_candle(candle).map(Cow::Owned),
            Self::Replayed { series, next } => {
                let expected = series.open_times.get(*next);
                assert_eq!(
                    expected,
                    Some(&candle.open_time),
                    "replayed symbol updates out of step with the candles of {}",
                    candle.symbol
                );
                *next += 1;
                series.updates[*next - 1].as_ref().map(Cow::Borrowed)
            }
        }
    }
}
