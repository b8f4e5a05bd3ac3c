//! The backtest driver: the pure cores in a plain loop over historical candles.

mod analyst;
mod decisions;
mod inputs;
mod pipeline;
mod result;
mod run;
mod symbol_stage;

pub use analyst::{log_replay, replay_analyst};
pub use decisions::{decision_replay, log_llm_report};
pub use inputs::{checked, live_inputs, load_inputs, load_inputs_with, InputError, RunInputs};
pub use keel_model::EquityPoint;
pub use pipeline::{Mode, Pipeline, PipelineStats};
pub use result::{BacktestResult, LlmReport};
pub use run::{backtest_pipeline, run_backtest, run_backtest_on};
pub use symbol_stage::{SharedSymbolUpdates, SymbolSeries, SymbolStage};
