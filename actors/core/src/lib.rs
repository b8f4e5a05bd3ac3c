//! keel's decision cores (crate `keel-core`): indicators and setups per symbol, fusion and the
//! baseline strategies, risk, the order manager, the simulated venue and its fill model,
//! reconciliation, and the graph that says in which order one candle reaches them.
//!
//! Every core here is a plain struct: no wall clock, no I/O, no actor, no spawning. Time comes
//! from the events themselves, so the backtest loop and the actor runtime (`keel-actors`)
//! drive the same code, and Cargo keeps it that way: this crate depends on nothing that runs.

#![warn(missing_docs)]

pub mod audit;
pub mod config_check;
pub mod execution;
pub mod fusion;
pub mod graph;
pub mod llm_api;
pub mod order_manager;
pub mod risk;
pub mod strategy;
pub mod symbol;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

use keel_model as model;
