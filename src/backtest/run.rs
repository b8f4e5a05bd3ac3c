//! The backtest loop: every candle through the pipeline on the schedule of
//! [`keel_core::graph`], one equity point per traded bar close.

use keel_core::graph::Schedule;
use keel_core::order_manager::RunRecord;

use super::{
    decision_replay, log_llm_report, log_replay, replay_analyst, BacktestResult, EquityPoint,
    Pipeline, RunInputs,
};
use crate::settings::Settings;

/// Runs the configured strategy over `inputs`. `progress` is called with the number of
/// candles done, every few thousand candles and at the end.
pub fn run_backtest(
    settings: &Settings,
    inputs: RunInputs,
    progress: &mut dyn FnMut(u64),
) -> BacktestResult {
    backtest_pipeline(settings, inputs, progress).0
}

/// [`run_backtest`] over inputs it only reads (`keel sweep` runs many cells on one copy).
pub fn run_backtest_on(
    settings: &Settings,
    inputs: &RunInputs,
    progress: &mut dyn FnMut(u64),
) -> BacktestResult {
    backtest_pipeline_on(settings, inputs, progress).0
}

/// [`run_backtest`], also returning the finished pipeline (every order, the venue, risk state).
pub fn backtest_pipeline(
    settings: &Settings,
    inputs: RunInputs,
    progress: &mut dyn FnMut(u64),
) -> (BacktestResult, Pipeline) {
    backtest_pipeline_on(settings, &inputs, progress)
}

fn backtest_pipeline_on(
    settings: &Settings,
    inputs: &RunInputs,
    progress: &mut dyn FnMut(u64),
) -> (BacktestResult, Pipeline) {
    let RunInputs {
        symbols,
        interval,
        candles,
        start,
        headlines,
        analyses,
        decisions,
        symbol_updates,
        ..
    } = inputs;
    let (interval, start) = (*interval, *start);
    let analyst = replay_analyst(settings, analyses.as_ref());
    let mut pipeline = Pipeline::sharing(
        settings,
        symbols.clone(),
        headlines.clone(),
        analyst,
        symbol_updates,
    )
    .with_decisions(decision_replay(settings, decisions.as_ref()));
    let mut curve: Vec<EquityPoint> = Vec::new();
    let mut schedule = Schedule::new(start, 0);
    for (n, candle) in candles.iter().enumerate() {
        let work = schedule.next(candle);
        if let Some(close) = work.mark {
            curve.push(pipeline.mark(close));
        }
        pipeline.on_candle(candle, &work);
        if n % 4096 == 0 {
            progress(n as u64);
        }
    }
    if let Some(last) = schedule.finish() {
        curve.push(pipeline.mark(last));
    }
    progress(candles.len() as u64);
    log_replay(
        pipeline.sentiment().analyst(),
        pipeline.sentiment().failures(),
    );
    let llm = pipeline.llm_report();
    if let Some(report) = &llm {
        log_llm_report(report);
    }

    let stats = pipeline.stats();
    let record = RunRecord::of(pipeline.orders(), curve, stats.orders_submitted);
    let result = BacktestResult::new(
        settings,
        symbols.clone(),
        interval,
        record,
        stats.candles,
        pipeline.refusals(),
    )
    .with_llm(llm);
    (result, pipeline)
}
