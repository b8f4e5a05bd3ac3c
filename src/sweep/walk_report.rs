//! The files of a walk-forward: `walk_forward.csv` (per window: the dates, the chosen
//! values, the ranking metric in and out of sample), `walk_forward_equity.csv` (the
//! stitched out-of-sample curve) and `walk_forward.json` (in-sample against out-of-sample
//! metrics), and the table printed at the end.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::cell::display;
use super::ranking::Ranking;
use super::run::metrics_of;
use super::store::write_atomically;
use super::walk_forward::{mean_of, metric, stitched_result, test_metrics, WindowResult};

/// The metrics set side by side (and the ranking metric, when it is another one).
const COMPARED: [&str; 5] = [
    "sharpe",
    "total_return",
    "annual_return",
    "max_drawdown",
    "trade_count",
];

/// The files written and the table to print.
#[derive(Debug)]
pub struct WalkReport {
    /// The files, in the order written.
    pub files: Vec<PathBuf>,
    /// In-sample against out-of-sample, as text.
    pub table: String,
}

/// Writes the walk-forward's files into `dir`.
pub fn write_walk_forward(
    dir: &Path,
    keys: &[String],
    ranking: &Ranking,
    results: &[WindowResult],
) -> anyhow::Result<WalkReport> {
    let mut windows = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "window",
        "train_start",
        "train_end",
        "test_start",
        "test_end",
    ]
    .map(String::from)
    .to_vec();
    header.extend(keys.iter().cloned());
    header.push(format!("in_sample_{}", ranking.metric));
    header.push(format!("out_of_sample_{}", ranking.metric));
    windows.write_record(&header)?;
    let tests: Vec<Map<String, Value>> = results.iter().map(test_metrics).collect();
    for (n, (result, test)) in results.iter().zip(&tests).enumerate() {
        let w = &result.window;
        let mut row = vec![
            n.to_string(),
            w.train.0.to_string(),
            w.train.1.to_string(),
            w.test.0.to_string(),
            w.test.1.to_string(),
        ];
        row.extend(result.chosen.values.iter().map(|(_, v)| display(v)));
        for map in [&result.in_sample, test] {
            row.push(metric(map, &ranking.metric).map_or(String::new(), |v| v.to_string()));
        }
        windows.write_record(&row)?;
    }
    let windows_path = dir.join("walk_forward.csv");
    write_atomically(&windows_path, &windows.into_inner()?)?;

    let stitched = stitched_result(results);
    let mut curve = csv::Writer::from_writer(Vec::new());
    curve.write_record(["ts", "equity"])?;
    for point in stitched.iter().flat_map(|s| &s.equity_curve) {
        curve.write_record([point.ts.to_string(), point.equity.round_dp(8).to_string()])?;
    }
    let curve_path = dir.join("walk_forward_equity.csv");
    write_atomically(&curve_path, &curve.into_inner()?)?;

    let stitched_metrics = stitched.as_ref().map(metrics_of).unwrap_or_default();
    let mut names: Vec<&str> = COMPARED.to_vec();
    if !names.contains(&ranking.metric.as_str()) {
        names.insert(0, &ranking.metric);
    }
    let mut compared = Map::new();
    let mut table = format!(
        "{:<16}{:>18}{:>22}{:>23}\n",
        "metric", "in-sample (mean)", "out-of-sample (mean)", "out-of-sample (whole)"
    );
    for name in names {
        let in_sample = mean_of(results.iter().map(|r| metric(&r.in_sample, name)));
        let out_mean = mean_of(tests.iter().map(|t| metric(t, name)));
        let whole = metric(&stitched_metrics, name);
        compared.insert(
            name.to_string(),
            json!({ "in_sample_mean": in_sample, "out_of_sample_mean": out_mean, "out_of_sample_stitched": whole }),
        );
        let cell = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
        let _ = writeln!(
            table,
            "{name:<16}{:>18}{:>22}{:>23}",
            cell(in_sample),
            cell(out_mean),
            cell(whole)
        );
    }
    let summary = json!({
        "windows": results.len(),
        "rank_by": ranking.metric,
        "highest_first": ranking.highest,
        "compared": compared,
        "out_of_sample": stitched_metrics,
    });
    let json_path = dir.join("walk_forward.json");
    write_atomically(&json_path, &serde_json::to_vec_pretty(&summary)?)?;
    Ok(WalkReport {
        files: vec![windows_path, curve_path, json_path],
        table,
    })
}
