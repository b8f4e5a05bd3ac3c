//! keel: the composition root. Settings, the backtest driver, reports and the command line;
//! the domain lives in the crates under `actors/` (model, data, core, news, binance, the actor
//! runtime, the sim-exchange server), generic supervision in `keel-supervision`.

#![warn(missing_docs)]

pub mod alerts;
pub mod backtest;
pub mod child;
pub mod cli;
pub mod commands;
pub mod control;
/// The distributed transport of `keel sweep`: cells, results and input files over NATS
/// JetStream, as opaque bytes.
pub mod distributed;
pub mod logging;
pub mod report;
pub mod runtime;
pub mod settings;
pub mod sweep;
