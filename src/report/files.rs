//! The report files written into `--out DIR`: `report.json`, `trades.csv`, `equity.csv` and
//! `equity.svg`.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use keel_model::{Decimal, Position, Symbol};
use serde::Serialize;

use super::chart::render_svg;
use super::metrics::{to_f64, Metrics};
use super::returns::drawdown_series;
use super::trade_stats::MS_PER_HOUR;
use crate::backtest::{BacktestResult, LlmReport};

/// A report file that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The output directory could not be created.
    #[error("cannot create report directory `{path}`: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be created or written.
    #[error("cannot write report file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A CSV file could not be written.
    #[error("cannot write report file `{path}`: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// The JSON report could not be written.
    #[error("cannot write report file `{path}`: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

/// Paths of the files [`write_reports`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// `report.json`: run summary and every metric.
    pub json: PathBuf,
    /// `trades.csv`: one row per closed trade.
    pub trades_csv: PathBuf,
    /// `equity.csv`: time, equity, drawdown; one row per bar.
    pub equity_csv: PathBuf,
    /// `equity.svg`: equity and drawdown chart.
    pub chart: PathBuf,
}

/// Writes all report files into `dir`, creating it if missing.
pub fn write_reports(
    dir: &Path,
    result: &BacktestResult,
    m: &Metrics,
) -> Result<ReportFiles, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = ReportFiles {
        json: dir.join("report.json"),
        trades_csv: dir.join("trades.csv"),
        equity_csv: dir.join("equity.csv"),
        chart: dir.join("equity.svg"),
    };
    write_json(&files.json, result, m)?;
    write_trades(&files.trades_csv, result)?;
    write_equity(&files.equity_csv, result)?;
    let svg = render_svg(result);
    fs::write(&files.chart, svg).map_err(|source| ReportError::Io {
        path: files.chart.clone(),
        source,
    })?;
    Ok(files)
}

/// The content of `report.json`.
#[derive(Serialize)]
struct JsonReport<'a> {
    strategy: &'a str,
    symbols: &'a [Symbol],
    candles: u64,
    orders_submitted: u64,
    refusals: Vec<Refusal<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    llm: Option<&'a LlmReport>,
    open_positions: &'a [Position],
    metrics: &'a Metrics,
}

/// Signals refused by one risk rule.
#[derive(Serialize)]
struct Refusal<'a> {
    rule: &'a str,
    count: u64,
}

fn write_json(path: &Path, result: &BacktestResult, m: &Metrics) -> Result<(), ReportError> {
    let report = JsonReport {
        strategy: &result.strategy,
        symbols: &result.symbols,
        candles: result.candles,
        orders_submitted: result.orders_submitted,
        refusals: result
            .refusals
            .iter()
            .map(|(rule, count)| Refusal {
                rule,
                count: *count,
            })
            .collect(),
        llm: result.llm.as_ref(),
        open_positions: &result.open_positions,
        metrics: m,
    };
    let io_error = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::new(fs::File::create(path).map_err(io_error)?);
    serde_json::to_writer_pretty(&mut out, &report).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(io_error)
}

fn write_trades(path: &Path, result: &BacktestResult) -> Result<(), ReportError> {
    let csv_error = |source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut out = csv::Writer::from_path(path).map_err(csv_error)?;
    out.write_record([
        "symbol",
        "entry_time",
        "exit_time",
        "qty",
        "entry_price",
        "exit_price",
        "pnl",
        "return_pct",
        "fees",
        "exit_reason",
        "duration_hours",
    ])
    .map_err(csv_error)?;
    // Weighted averages can carry 28 digits; 8 decimals is below any venue's tick size.
    let money = |d: Decimal| d.round_dp(8).normalize().to_string();
    for t in &result.trades {
        let hours = (t.exit_time.millis() - t.entry_time.millis()) as f64 / MS_PER_HOUR;
        out.write_record([
            t.symbol.to_string(),
            t.entry_time.to_string(),
            t.exit_time.to_string(),
            t.qty.to_string(),
            money(t.entry_price),
            money(t.exit_price),
            money(t.pnl),
            t.return_pct().round_dp(4).normalize().to_string(),
            money(t.fees),
            t.exit_reason.to_string(),
            format!("{hours:.2}"),
        ])
        .map_err(csv_error)?;
    }
    out.flush().map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn write_equity(path: &Path, result: &BacktestResult) -> Result<(), ReportError> {
    let csv_error = |source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let equity: Vec<f64> = result
        .equity_curve
        .iter()
        .map(|p| to_f64(p.equity))
        .collect();
    let drawdown = drawdown_series(&equity);
    let mut out = csv::Writer::from_path(path).map_err(csv_error)?;
    out.write_record(["time", "equity", "drawdown"])
        .map_err(csv_error)?;
    for (point, dd) in result.equity_curve.iter().zip(drawdown) {
        out.write_record([
            point.ts.to_string(),
            point.equity.to_string(),
            format!("{dd:.6}"),
        ])
        .map_err(csv_error)?;
    }
    out.flush().map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample;
    use crate::report::metrics::compute_metrics;

    fn lines(path: &Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn writes_the_four_files_with_headers_and_one_row_per_item() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested/run");
        let result = sample();
        let files = write_reports(&out, &result, &compute_metrics(&result)).unwrap();

        let trades = lines(&files.trades_csv);
        assert_eq!(
            trades[0],
            "symbol,entry_time,exit_time,qty,entry_price,exit_price,pnl,return_pct,fees,exit_reason,duration_hours"
        );
        assert_eq!(trades.len(), 1 + 3);
        assert_eq!(
            trades[2],
            "BTCUSDT,2021-01-01T01:00:00Z,2021-01-01T03:00:00Z,1,500,462,-40,-8,2,signal,2.00"
        );

        let equity = lines(&files.equity_csv);
        assert_eq!(equity[0], "time,equity,drawdown");
        assert_eq!(equity.len(), 1 + 5);
        assert_eq!(equity[3], "2021-01-01T02:00:00Z,990,-0.100000");

        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&files.json).unwrap()).unwrap();
        assert_eq!(json["strategy"], "sma_cross");
        assert_eq!(json["symbols"][0], "BTC/USDT");
        assert_eq!(json["refusals"][0]["rule"], "max_positions");
        assert_eq!(json["refusals"][0]["count"], 2);
        assert_eq!(json["metrics"]["trade_count"], 3);
        assert_eq!(json["metrics"]["profit_factor"], 3.0);
        assert_eq!(json["metrics"]["fees_paid"], "6");
        assert!(json["open_positions"].as_array().unwrap().is_empty());

        let svg = fs::read_to_string(&files.chart).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("<polyline") && svg.contains("<path"));
        assert!(svg.contains("2021-01-01"), "date ticks are labelled");
    }

    #[test]
    fn an_unwritable_directory_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, "a file where the directory should be").unwrap();
        let out = blocker.join("report");
        let result = sample();
        let err = write_reports(&out, &result, &compute_metrics(&result)).unwrap_err();
        assert!(matches!(err, ReportError::CreateDir { .. }));
        assert!(
            err.to_string().contains(&out.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_cannot_be_created_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("report.json")).unwrap();
        let result = sample();
        let err = write_reports(dir.path(), &result, &compute_metrics(&result)).unwrap_err();
        assert!(err.to_string().contains("report.json"), "{err}");
    }
}
