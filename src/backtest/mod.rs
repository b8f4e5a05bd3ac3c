//! The backtest driver: the pure cores in a plain loop over historical candles.

mod analyst;
mod inputs;
mod pipeline;
mod result;
mod run;

pub use analyst::{log_replay, replay_analyst};
pub use inputs::{live_inputs, load_inputs, InputError, RunInputs};
pub use keel_model::EquityPoint;
pub use pipeline::{Mode, Pipeline, PipelineStats};
pub use result::BacktestResult;
pub use run::{backtest_pipeline, run_backtest};
