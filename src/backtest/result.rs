//! What a backtest produces: the input of every report.

use std::collections::BTreeMap;

use keel_core::order_manager::RunRecord;
use keel_core::strategy::llm::LlmStats;
use keel_model::{ClosedTrade, Decimal, EquityPoint, Interval, Position, Symbol};
use serde::Serialize;

use crate::settings::Settings;

/// Everything a finished backtest knows.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestResult {
    /// Strategy name as configured (`fusion`, `sma_cross`, `buy_and_hold`, `llm`).
    pub strategy: String,
    /// Symbols traded.
    pub symbols: Vec<Symbol>,
    /// Bars per year of the candle interval (8760 for 1h): the annualisation factor.
    pub bars_per_year: f64,
    /// Starting cash in the quote asset.
    pub initial_capital: Decimal,
    /// The equity curve, one point per bar close, starting with the first bar.
    pub equity_curve: Vec<EquityPoint>,
    /// Completed round trips.
    pub trades: Vec<ClosedTrade>,
    /// Positions still open at the end (marked at the last close).
    pub open_positions: Vec<Position>,
    /// All fees paid, including those of positions still open.
    pub fees_paid: Decimal,
    /// Candles processed.
    pub candles: u64,
    /// Orders submitted to the venue.
    pub orders_submitted: u64,
    /// Signals refused by risk, by rule name.
    pub refusals: Vec<(String, u64)>,
    /// What the `llm` strategy did (none for the other strategies).
    pub llm: Option<LlmReport>,
}

/// What the `llm` strategy did in a run: its decision points and what answered them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LlmReport {
    /// Decision points, decisions, failures, missing answers and fallbacks.
    #[serde(flatten)]
    pub stats: LlmStats,
    /// Answers taken from the decision cache.
    pub cache_hits: u64,
    /// HTTP requests sent to the provider (retries included; 0 in a backtest).
    pub http_requests: u64,
    /// Tokens spent in this run.
    pub tokens: u64,
}

impl BacktestResult {
    /// The result of a run of `settings` over `symbols` at `interval`, from what its order
    /// manager recorded, the candles it processed and risk's refusals by rule. Both drivers
    /// build their result here.
    pub fn new(
        settings: &Settings,
        symbols: Vec<Symbol>,
        interval: Interval,
        record: RunRecord,
        candles: u64,
        refusals: &BTreeMap<&'static str, u64>,
    ) -> Self {
        Self {
            strategy: settings.strategy.kind.name().to_string(),
            symbols,
            bars_per_year: interval.bars_per_year(),
            initial_capital: settings.account.initial_capital,
            equity_curve: record.equity,
            trades: record.trades,
            open_positions: record.snapshot.positions,
            fees_paid: record.fees_paid,
            candles,
            orders_submitted: record.orders_submitted,
            refusals: refusals
                .iter()
                .map(|(rule, n)| (rule.to_string(), *n))
                .collect(),
            llm: None,
        }
    }

    /// The result with what the `llm` strategy did.
    pub fn with_llm(mut self, llm: Option<LlmReport>) -> Self {
        self.llm = llm;
        self
    }
}
