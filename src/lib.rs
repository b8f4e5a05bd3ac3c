//! keel: the composition root. Settings, the backtest driver, reports and the command line;
//! the trading domain lives in `keel-actors`, generic supervision in `keel-supervision`.

#![warn(missing_docs)]

pub mod backtest;
pub mod cli;
pub mod commands;
pub mod logging;
pub mod report;
pub mod runtime;
pub mod settings;
pub mod sim_exchange;
