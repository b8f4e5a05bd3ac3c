//! `keel sweep`: many backtests of one base config over a grid of parameter values, on every
//! core, resumable, with the results, the best config and a heatmap; and walk-forward
//! optimisation over rolling windows. Each cell runs through the same engine as
//! `keel backtest` (docs/sweep.md).

mod cell;
mod data;
mod grid;
mod heatmap;
mod outputs;
mod plan;
mod ranking;
mod remote;
mod run;
mod store;
mod task;
mod walk_forward;
mod walk_report;

pub use cell::{cell_id, Base, CellConfig};
pub use data::{hash_file, SharedData};
pub use grid::{Axis, Cell, Grid, GridError, MAX_CELLS, SYMBOLS_KEY};
pub use heatmap::HeatmapAxes;
pub use outputs::{write_outputs, Written};
pub use plan::{Plan, PlanOptions, Refused};
pub use ranking::{metric_names, number, Ranking};
pub use remote::run_remote;
pub use run::{metrics_of, Sweep};
pub use store::{CellRecord, Outcome, Store};
pub use task::{objects_of, CellTask, TaskRunner};
pub use walk_forward::{WalkForward, Window, WindowResult, WindowSpec};
pub use walk_report::{write_walk_forward, WalkReport};
