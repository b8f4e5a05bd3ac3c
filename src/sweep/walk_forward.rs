//! Walk-forward optimisation: on each training window pick the best cell of the grid, run
//! it on the test window that follows, roll forward by the test length; then stitch the
//! test windows' equity curves into one out-of-sample curve and set its metrics beside the
//! in-sample ones. The gap between them is how much the optimiser fitted noise.

use keel_model::{Decimal, EquityPoint, Timestamp};
use rayon::prelude::*;
use serde_json::{Map, Value};
use toml::Value as TomlValue;

use super::cell::CellConfig;
use super::grid::Cell;
use super::plan::{Plan, Refused};
use super::ranking::number;
use super::run::metrics_of;
use super::store::CellRecord;
use crate::backtest::BacktestResult;

const MS_PER_HOUR: i64 = 3_600_000;

/// `train=180d,test=30d`: the lengths of the windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Training window, ms.
    pub train_ms: i64,
    /// Test window (and the step between windows), ms.
    pub test_ms: i64,
}

impl WindowSpec {
    /// Parses `train=DUR,test=DUR` with durations such as `180d`, `12h`, `8w`.
    pub fn parse(text: &str) -> Result<Self, Refused> {
        let refuse = |why: &str| {
            Refused(format!(
                "--walk-forward {text}: {why} (expected e.g. train=180d,test=30d)"
            ))
        };
        let (mut train, mut test) = (None, None);
        for part in text.split(',') {
            let (name, value) = part.split_once('=').ok_or_else(|| refuse("no `=`"))?;
            let ms = duration_ms(value.trim()).ok_or_else(|| refuse("not a duration"))?;
            match name.trim() {
                "train" => train = Some(ms),
                "test" => test = Some(ms),
                _ => return Err(refuse("only `train` and `test`")),
            }
        }
        match (train, test) {
            (Some(train_ms), Some(test_ms)) => Ok(Self { train_ms, test_ms }),
            _ => Err(refuse("both train and test are needed")),
        }
    }
}

fn duration_ms(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let hours = match unit {
        'h' => 1,
        'd' => 24,
        'w' => 24 * 7,
        _ => return None,
    };
    let n: i64 = text[..text.len() - 1].parse().ok()?;
    (n > 0 && n < 100_000).then_some(n * hours * MS_PER_HOUR)
}

/// One step of the walk: `[start, end)` of training, then of testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Training range.
    pub train: (Timestamp, Timestamp),
    /// Test range, right after it.
    pub test: (Timestamp, Timestamp),
}

/// The walk over a plan.
#[derive(Debug)]
pub struct WalkForward<'a> {
    plan: &'a Plan,
    /// The windows, in time order.
    pub windows: Vec<Window>,
}

/// What one window chose and scored.
#[derive(Debug, Clone)]
pub struct WindowResult {
    /// The window.
    pub window: Window,
    /// The chosen cell (the grid's values, without the window's dates).
    pub chosen: Cell,
    /// Its metrics on the training window.
    pub in_sample: Map<String, Value>,
    /// Its run on the test window.
    pub out_of_sample: BacktestResult,
}

impl<'a> WalkForward<'a> {
    /// The windows over the base config's range (its `data.start`/`data.end`, else the
    /// data's span); refuses a grid that sweeps the dates itself.
    pub fn new(plan: &'a Plan, spec: WindowSpec) -> Result<Self, Refused> {
        if let Some(axis) = plan
            .grid
            .axes
            .iter()
            .find(|a| a.key == "data.start" || a.key == "data.end")
        {
            return Err(Refused(format!(
                "--walk-forward sets data.start and data.end itself; remove `{}` from the grid",
                axis.key
            )));
        }
        let base = plan
            .sweep
            .base
            .settings()
            .map_err(|e| Refused(e.to_string()))?;
        let (start, end) = base.range().map_err(|e| Refused(e.to_string()))?;
        let (first, last) = plan
            .sweep
            .data
            .span()
            .ok_or_else(|| Refused("the base config's candle files hold no candles".into()))?;
        let (from, to) = (start.unwrap_or(first), end.unwrap_or(last));
        let mut windows = Vec::new();
        let mut t = from;
        while t.plus_ms(spec.train_ms + spec.test_ms) <= to {
            let split = t.plus_ms(spec.train_ms);
            windows.push(Window {
                train: (t, split),
                test: (split, split.plus_ms(spec.test_ms)),
            });
            t = t.plus_ms(spec.test_ms);
        }
        if windows.is_empty() {
            return Err(Refused(format!(
                "--walk-forward: {from} .. {to} is shorter than one training window plus one test window"
            )));
        }
        Ok(Self { plan, windows })
    }

    /// Every training cell of every window, with its id: the grid's values plus the window's
    /// dates. They are ordinary cells: stored, resumable, run in parallel.
    pub fn training_cells(&self) -> Vec<(Cell, String)> {
        // Unique across windows even when the plan's cells are a sample (only a grid too
        // large to count saturates; an index then only orders the cells of its window).
        let total = self.plan.grid.cell_count().unwrap_or(u64::MAX / 2);
        let mut cells = Vec::with_capacity(self.windows.len() * self.plan.cells.len());
        for (w, window) in self.windows.iter().enumerate() {
            for (cell, _) in &self.plan.cells {
                let dated = Cell {
                    index: total.saturating_mul(w as u64).saturating_add(cell.index),
                    values: dated(&cell.values, window.train),
                };
                let id = self.plan.sweep.id(&dated);
                cells.push((dated, id));
            }
        }
        cells
    }

    /// Picks each window's best training cell from `records` (by id) and runs it on the test
    /// window, windows in parallel. A window whose training cells all failed to rank is left
    /// out, with a warning.
    pub fn test(
        &self,
        records: &std::collections::HashMap<String, CellRecord>,
    ) -> anyhow::Result<Vec<WindowResult>> {
        let ranking = &self.plan.ranking;
        let per_window = self.plan.cells.len();
        let training = self.training_cells();
        let chosen: Vec<(usize, Cell, Map<String, Value>)> = training
            .chunks(per_window.max(1))
            .enumerate()
            .filter_map(|(w, chunk)| {
                // A window's training cells are the plan's cells, in order, dated.
                let ranked = chunk
                    .iter()
                    .zip(&self.plan.cells)
                    .filter_map(|((_, id), (plain, _))| Some((plain, records.get(id)?)));
                let (record, _) = ranking.best(ranked.clone().map(|(_, r)| r))?;
                let (plain, _) = ranked.clone().find(|(_, r)| r.id == record.id)?;
                let metrics = match &record.outcome {
                    super::store::Outcome::Ran { metrics } => metrics.clone(),
                    super::store::Outcome::Skipped { .. } => return None,
                };
                Some((w, plain.clone(), metrics))
            })
            .collect();
        if chosen.len() < self.windows.len() {
            tracing::warn!(
                windows = self.windows.len(),
                ranked = chosen.len(),
                "some training windows had no cell with a defined {}",
                ranking.metric
            );
        }
        chosen
            .into_par_iter()
            .map(|(w, cell, in_sample)| {
                let window = self.windows[w];
                let values = dated(&cell.values, window.test);
                let settings = match self.plan.sweep.base.cell(&values) {
                    CellConfig::Ready(settings) => settings,
                    CellConfig::Skipped(reason) => {
                        anyhow::bail!("test window {w}: {reason}")
                    }
                };
                let out_of_sample = self
                    .plan
                    .sweep
                    .backtest(&settings)
                    .map_err(|e| anyhow::anyhow!("test window {w}: {e}"))?;
                Ok(WindowResult {
                    window,
                    chosen: cell,
                    in_sample,
                    out_of_sample,
                })
            })
            .collect()
    }
}

/// `values` with the window's dates set.
fn dated(
    values: &[(String, TomlValue)],
    (start, end): (Timestamp, Timestamp),
) -> Vec<(String, TomlValue)> {
    let mut values = values.to_vec();
    values.push(("data.start".into(), TomlValue::String(start.to_string())));
    values.push(("data.end".into(), TomlValue::String(end.to_string())));
    values
}

/// The test windows' curves chained into one: each window's curve scaled so that it starts
/// where the previous one ended. A position open at a window's end counts at its mark.
pub fn stitch(results: &[WindowResult]) -> Vec<EquityPoint> {
    let mut curve: Vec<EquityPoint> = Vec::new();
    let mut carried: Option<Decimal> = None;
    for result in results {
        let run = &result.out_of_sample;
        let scale = match carried {
            Some(equity) if !run.initial_capital.is_zero() => equity / run.initial_capital,
            _ => Decimal::ONE,
        };
        for &point in &run.equity_curve {
            let mut point = point;
            point.equity *= scale;
            point.exposure *= scale;
            curve.push(point);
        }
        carried = curve.last().map(|p| p.equity);
    }
    curve
}

/// The out-of-sample run as one backtest result: the stitched curve and every test
/// window's trades (each in its window's own money).
pub fn stitched_result(results: &[WindowResult]) -> Option<BacktestResult> {
    let first = &results.first()?.out_of_sample;
    let mut all = first.clone();
    all.equity_curve = stitch(results);
    all.trades = results
        .iter()
        .flat_map(|r| r.out_of_sample.trades.iter().cloned())
        .collect();
    all.open_positions = results
        .last()
        .map(|r| r.out_of_sample.open_positions.clone())
        .unwrap_or_default();
    all.fees_paid = results.iter().map(|r| r.out_of_sample.fees_paid).sum();
    all.candles = results.iter().map(|r| r.out_of_sample.candles).sum();
    all.orders_submitted = results
        .iter()
        .map(|r| r.out_of_sample.orders_submitted)
        .sum();
    Some(all)
}

/// The mean over windows of one metric, `None` when no window defines it.
pub fn mean_of(metrics: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let values: Vec<f64> = metrics.flatten().collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The metrics of a window's test run.
pub fn test_metrics(result: &WindowResult) -> Map<String, Value> {
    metrics_of(&result.out_of_sample)
}

/// A metric of a map as a number.
pub fn metric(map: &Map<String, Value>, name: &str) -> Option<f64> {
    map.get(name).and_then(number)
}
