//! keel's trading domain: the model, the pure decision cores, and (with the actor runtime)
//! their thin actix shells.
//!
//! Every core here is a plain struct: no wall clock, no I/O, no spawning. Time comes from the
//! events themselves, so the backtest engine and the actor runtime drive the same code.

#![warn(missing_docs)]

pub mod audit;
pub mod binance;
pub mod config_check;
pub mod execution;
pub mod fusion;
pub mod graph;
pub mod journal;
pub mod market_data;
/// The domain model (crate `keel-model`).
pub use keel_model as model;
pub mod order_manager;
pub mod risk;
pub mod runtime;
pub mod sentiment;
pub mod strategy;
pub mod symbol;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
