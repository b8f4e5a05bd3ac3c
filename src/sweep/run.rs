//! Running cells: each one a full backtest through the same engine as `keel backtest`, on
//! every core (`rayon`), with the candles shared. A cell's result depends on its config and
//! data only, so the results are the same whatever the thread count.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use anyhow::Context;
use rayon::prelude::*;
use serde_json::{Map, Value};

use super::cell::{cell_id, Base, CellConfig};
use super::data::SharedData;
use super::grid::Cell;
use super::store::{CellRecord, Outcome};
use crate::backtest::{run_backtest_on, BacktestResult};
use crate::report::compute_metrics;
use crate::settings::Settings;

/// What every cell of a sweep shares: the base config, the loaded data and their
/// fingerprint.
#[derive(Debug)]
pub struct Sweep {
    /// The base config.
    pub base: Base,
    /// The candle files, loaded once.
    pub data: SharedData,
    /// Hash of the base config and the data ([`SharedData::fingerprint`]).
    pub fingerprint: String,
}

impl Sweep {
    /// Loads the base config's data.
    pub fn new(base: Base) -> anyhow::Result<Self> {
        let data = SharedData::load(&base)?;
        let fingerprint = data.fingerprint(&base);
        Ok(Self {
            base,
            data,
            fingerprint,
        })
    }

    /// The id of `cell` in this sweep.
    pub fn id(&self, cell: &Cell) -> String {
        cell_id(&self.fingerprint, &cell.values)
    }

    /// Runs one cell to its record; a panic inside the backtest is reported as a skipped
    /// cell naming it (the other cells go on).
    pub fn run_cell(&self, cell: &Cell) -> CellRecord {
        let outcome = match self.base.cell(&cell.values) {
            CellConfig::Skipped(reason) => Outcome::Skipped { reason },
            CellConfig::Ready(settings) => {
                match catch_unwind(AssertUnwindSafe(|| self.backtest(&settings))) {
                    Ok(Ok(result)) => Outcome::Ran {
                        metrics: metrics_of(&result),
                    },
                    Ok(Err(reason)) => Outcome::Skipped { reason },
                    Err(panic) => {
                        let reason = format!("the backtest panicked: {}", panic_text(&panic));
                        tracing::error!(cell = cell.index, %reason, "cell failed");
                        Outcome::Skipped { reason }
                    }
                }
            }
        };
        CellRecord {
            index: cell.index,
            id: self.id(cell),
            outcome,
        }
    }

    /// The backtest of `settings` on the shared data.
    pub fn backtest(&self, settings: &Settings) -> Result<BacktestResult, String> {
        let inputs = self.data.inputs(settings).map_err(|e| e.to_string())?;
        Ok(run_backtest_on(settings, &inputs, &mut |_| {}))
    }

    /// Runs `cells` on `threads` threads, handing each record to `done` on the calling thread
    /// as it finishes (in completion order). Stops at the first error of `done`.
    pub fn run_cells(
        &self,
        cells: &[&Cell],
        threads: usize,
        done: &mut dyn FnMut(CellRecord) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("sweep-{i}"))
            .build()
            .context("starting the sweep's threads")?;
        let (tx, rx) = mpsc::channel();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                pool.install(|| {
                    cells.par_iter().for_each_with(tx, |tx, cell| {
                        if !stop.load(Ordering::Relaxed) {
                            // The receiver only goes away after an error.
                            let _ = tx.send(self.run_cell(cell));
                        }
                    })
                })
            });
            for record in rx {
                if let Err(error) = done(record) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(error);
                }
            }
            Ok(())
        })
    }
}

/// Every metric of `result`'s report, plus the positions still open at the end.
pub fn metrics_of(result: &BacktestResult) -> Map<String, Value> {
    let mut metrics = match serde_json::to_value(compute_metrics(result)) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    metrics.insert(
        "open_positions".into(),
        Value::from(result.open_positions.len()),
    );
    metrics
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}
