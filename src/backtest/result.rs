//! What a backtest produces: the input of every report.

use keel_actors::model::{ClosedTrade, Decimal, EquityPoint, Position, Symbol};
use serde::Serialize;

/// Everything a finished backtest knows.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestResult {
    /// Strategy name as configured (`fusion`, `sma_cross`, `buy_and_hold`).
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
}
