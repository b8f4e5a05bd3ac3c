//! `keel sweep` as a user runs it: the files it leaves, the best config reproducing its row
//! through `keel backtest`, the same results on one thread as on two, a SIGKILLed sweep
//! resuming without redoing a cell, refusals that name the key, and a walk-forward.

mod common;

use std::path::{Path, PathBuf};

use common::process::{keel, run, wait_for, Process};
use keel::backtest::{load_inputs, run_backtest};
use keel::report::compute_metrics;
use keel::sweep::{Base, CellConfig, Sweep};

fn grid(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn sweep(base: &Path, grid: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    run(common::keel_sweep(base, grid, out, extra), "keel sweep")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The rows of a CSV file as maps from column to field.
fn rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}

const SMA_GRID: &str = "[strategy]\nsma_fast = [10, 20, 60]\nsma_slow = [50, 100]\n";

#[test]
fn a_sweep_leaves_every_file_and_its_best_config_reproduces_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::eth_sma_cross_config(dir.path());
    let grid = grid(dir.path(), "grid.toml", SMA_GRID);
    let out = dir.path().join("out");
    let output = sweep(&base, &grid, &out, &["--threads", "2"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("5 cells ran, 1 skipped"), "{stdout}");

    let results = rows(&out.join("results.csv"));
    assert_eq!(results.len(), 5);
    assert!(results.iter().all(|r| !r["sharpe"].is_empty()));
    let skipped = rows(&out.join("skipped.csv"));
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["strategy.sma_fast"], "60");
    assert_eq!(skipped[0]["strategy.sma_slow"], "50");
    assert!(skipped[0]["reason"].contains("smaller than sma_slow"));

    // best.toml is the best row's config: `keel backtest` of it reports the same numbers.
    let best_sharpe = results
        .iter()
        .map(|r| r["sharpe"].parse::<f64>().unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    let best = results
        .iter()
        .find(|r| r["sharpe"].parse::<f64>().unwrap() == best_sharpe)
        .unwrap();
    let report_dir = dir.path().join("best-report");
    let backtest = run(
        keel(&[
            "backtest",
            "--config",
            out.join("best.toml").to_str().unwrap(),
            "--out",
            report_dir.to_str().unwrap(),
        ]),
        "keel backtest of best.toml",
    );
    assert!(backtest.status.success(), "{}", text(&backtest.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report_dir.join("report.json")).unwrap())
            .unwrap();
    let metrics = &report["metrics"];
    assert_eq!(metrics["sharpe"].as_f64().unwrap(), best_sharpe);
    assert_eq!(
        metrics["trade_count"].to_string(),
        best["trade_count"],
        "the same trades"
    );
    assert_eq!(
        metrics["final_equity"].as_str().unwrap(),
        best["final_equity"]
    );

    // The heatmap has a square per pair of values, the skipped one grey.
    let svg = std::fs::read_to_string(out.join("heatmap.svg")).unwrap();
    assert_eq!(svg.matches("<title>").count(), 6);
    assert_eq!(svg.matches("not run").count(), 1);

    // On one thread the files are the same, byte for byte.
    let out1 = dir.path().join("out1");
    let output = sweep(&base, &grid, &out1, &["--threads", "1"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for file in ["results.csv", "skipped.csv", "best.toml", "heatmap.svg"] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(out1.join(file)).unwrap(),
            "{file} differs between one thread and two"
        );
    }
}

#[test]
fn a_killed_sweep_resumes_without_redoing_a_cell() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::eth_sma_cross_config(dir.path());
    let grid = grid(
        dir.path(),
        "grid.toml",
        "[strategy]\nsma_fast = { from = 5, to = 40, step = 5 }\nsma_slow = [60, 120, 180]\n",
    );
    let out = dir.path().join("out");
    let cells_file = out.join("cells.jsonl");
    let lines = || {
        std::fs::read_to_string(&cells_file)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let mut child = Process::start(
        common::keel_sweep(&base, &grid, &out, &["--threads", "1"]),
        "keel sweep (to be killed)",
    );
    wait_for("three finished cells", || {
        assert!(child.exited().is_none(), "the sweep ended before the kill");
        lines() >= 3
    });
    child.kill9();
    let done = std::fs::read_to_string(&cells_file)
        .unwrap()
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .count();
    assert!(
        (3..24).contains(&done),
        "{done} cells finished before the kill"
    );

    let output = sweep(&base, &grid, &out, &["--threads", "2"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "24 cells: {} to run, {done} already done",
            24 - done
        )),
        "{stdout}"
    );
    assert_eq!(lines(), 24, "every cell recorded once");

    // The same results as a sweep never interrupted.
    let calm = dir.path().join("calm");
    let output = sweep(&base, &grid, &calm, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(out.join("results.csv")).unwrap(),
        std::fs::read_to_string(calm.join("results.csv")).unwrap()
    );
}

#[test]
fn a_bad_grid_or_option_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::eth_sma_cross_config(dir.path());
    let out = dir.path().join("out");
    let refused = |grid_text: &str, extra: &[&str], needle: &str| {
        let grid = grid(dir.path(), "bad.toml", grid_text);
        let output = sweep(&base, &grid, &out, extra);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        let stderr = text(&output.stderr);
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
        assert!(!out.join("cells.jsonl").exists(), "nothing ran");
    };
    refused("[venue]\nfee_bps = [10, -3]\n", &[], "venue.fee_bps = -3");
    refused("[strategy]\nsma_fats = [10]\n", &[], "sma_fats");
    refused("[strategy]\nsma_fast = []\n", &[], "lists no values");
    refused(SMA_GRID, &["--rank-by", "luck"], "luck: not a metric");
    let sma_grid = grid(dir.path(), "sma.toml", SMA_GRID);
    let output = sweep(&dir.path().join("missing.toml"), &sma_grid, &out, &[]);
    assert_eq!(output.status.code(), Some(2), "an unreadable base config");
    assert!(text(&output.stderr).contains("missing.toml"));
    refused(
        SMA_GRID,
        &["--heatmap", "strategy.sma_fast,risk.x"],
        "risk.x",
    );
    refused(
        SMA_GRID,
        &["--walk-forward", "train=180,test=30d"],
        "not a duration",
    );

    // A folder holding another sweep's results is never mixed with this one's.
    let grid = grid(dir.path(), "grid.toml", SMA_GRID);
    let output = sweep(&base, &grid, &out, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let other = dir.path().join("other.toml");
    std::fs::write(
        &other,
        std::fs::read_to_string(&base)
            .unwrap()
            .replace("2018-01-01", "2018-02-01"),
    )
    .unwrap();
    let output = sweep(&other, &grid, &out, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("holds the results of another sweep"));
}

#[test]
fn a_walk_forward_tests_each_windows_choice_on_the_next_window() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::eth_sma_cross_config(dir.path());
    let grid = grid(dir.path(), "grid.toml", SMA_GRID);
    let out = dir.path().join("out");
    let output = sweep(
        &base,
        &grid,
        &out,
        &["--walk-forward", "train=90d,test=60d"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    // 2018-01-01 .. the slice's end (2018-12): windows while 90 + 60 days still fit.
    let windows = rows(&out.join("walk_forward.csv"));
    assert!(windows.len() >= 3, "{stdout}");
    assert!(
        stdout.contains(&format!("{} windows", windows.len())),
        "{stdout}"
    );
    for (w, next) in windows.iter().zip(windows.iter().skip(1)) {
        assert_eq!(w["train_end"], w["test_start"]);
        // Rolling by the test length.
        assert_eq!(next["test_start"], w["test_end"]);
        assert!(!w["out_of_sample_sharpe"].is_empty());
    }
    // The chosen cell is the best of its training window among the grid's valid cells.
    assert!(windows
        .iter()
        .all(|w| w["strategy.sma_fast"] != "60" || w["strategy.sma_slow"] != "50"));
    // The stitched curve covers the test windows, in time order, starting at the capital.
    let curve = rows(&out.join("walk_forward_equity.csv"));
    assert!(curve.windows(2).all(|p| p[0]["ts"] < p[1]["ts"]));
    assert!(curve[0]["ts"] > windows[0]["test_start"]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("walk_forward.json")).unwrap())
            .unwrap();
    assert_eq!(summary["windows"], windows.len());
    assert!(summary["compared"]["sharpe"]["in_sample_mean"].is_number());
    assert!(summary["out_of_sample"]["final_equity"].is_string());
}

/// Cells replay each symbol's indicator and setup updates, computed once per sweep: the
/// fused strategy (which reads every indicator and setup) must trade exactly as a backtest
/// computing them itself.
#[test]
fn shared_symbol_updates_trade_exactly_as_a_plain_backtest() {
    let settings = common::default_settings();
    let text = toml::to_string(&settings).unwrap();
    let sweep = Sweep::new(Base::from_toml(&text, "default").unwrap()).unwrap();
    let CellConfig::Ready(cell) = sweep.base.cell(&[]) else {
        panic!("the default is a valid cell");
    };
    let shared = sweep.backtest(&cell).unwrap();
    let plain = run_backtest(&settings, load_inputs(&settings).unwrap(), &mut |_| {});
    assert!(!plain.trades.is_empty(), "the default run trades");
    assert_eq!(shared.trades, plain.trades);
    assert_eq!(shared.equity_curve, plain.equity_curve);
    assert_eq!(compute_metrics(&shared), compute_metrics(&plain));
}
