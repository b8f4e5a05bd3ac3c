//! Backtest reports: the performance metrics of DESIGN §8 (empyrical conventions), the
//! terminal table, and the files written into `--out DIR` (JSON, trades and equity CSV,
//! an SVG equity/drawdown chart).

mod chart;
mod files;
mod metrics;
pub mod returns;
mod table;
mod trade_stats;

#[cfg(test)]
mod fixture;

pub(crate) use chart::escape;
pub use chart::{render_svg, MAX_POINTS};
pub use files::{write_reports, ReportError, ReportFiles};
pub use metrics::{compute_metrics, Metrics};
pub use returns::simple_returns;
pub use table::render_table;
pub use trade_stats::TradeStats;
