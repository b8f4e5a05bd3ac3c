//! The backtest driver: the pure cores in a plain loop over historical candles.

mod result;

pub use result::{BacktestResult, EquityPoint};
