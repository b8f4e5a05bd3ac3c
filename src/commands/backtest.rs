//! `keel backtest`: run a strategy over history at full speed and write the reports.

use std::io::IsTerminal;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::backtest::{load_inputs, run_backtest};
use crate::cli::BacktestArgs;
use crate::logging::AuditSink;
use crate::report::{compute_metrics, render_table, write_reports};

/// Where `keel backtest` writes its audit trail: the `--audit` file, replaced; else nowhere.
pub fn audit_sink(args: &BacktestArgs) -> AuditSink {
    match &args.audit {
        Some(path) => AuditSink::File {
            path: path.clone(),
            append: false,
        },
        None => AuditSink::Off,
    }
}

/// Runs `keel backtest`.
pub fn run(args: &BacktestArgs) -> anyhow::Result<()> {
    let mut settings = super::load_settings(args.config.as_deref())?;
    if let Some(strategy) = args.strategy {
        settings.strategy.kind = strategy.into();
    }
    let inputs = load_inputs(&settings)?;
    let total = inputs.candles.len() as u64;
    // A progress bar only when a person is watching; silent in pipes, files and CI.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} candles {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let result = run_backtest(&settings, inputs, &mut |done| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let metrics = compute_metrics(&result);
    println!("{}", render_table(&result, &metrics));
    let files = write_reports(&args.out, &result, &metrics)
        .with_context(|| format!("writing the reports into {}", args.out.display()))?;
    println!("reports written to {}", args.out.display());
    for path in [
        &files.json,
        &files.trades_csv,
        &files.equity_csv,
        &files.chart,
    ] {
        println!("  {}", path.display());
    }
    Ok(())
}
