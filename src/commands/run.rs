//! `keel run`: replay the configured data through the decision pipeline, logging every
//! decision, and print a summary when the data ends.
//!
//! Today this drives the pure cores in one loop, exactly as the backtest does; the supervised
//! actor runtime (one actor per core, sled journal) takes the loop's place without changing
//! a decision.

use tracing::info;

use crate::backtest::{load_inputs, run_backtest};
use crate::cli::RunArgs;
use crate::report::{compute_metrics, render_table};

/// Runs `keel run`.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(args.config.as_deref())?;
    let origin = args
        .config
        .as_ref()
        .map_or("(embedded default)".to_string(), |p| {
            p.display().to_string()
        });
    info!(config = %origin, strategy = settings.strategy.kind.name(), "keel run starting");
    let inputs = load_inputs(&settings)?;
    info!(
        symbols = inputs.symbols.len(),
        candles = inputs.candles.len(),
        headlines = inputs.headlines.len(),
        "replay starting"
    );
    let result = run_backtest(&settings, inputs, &mut |_| {});
    let metrics = compute_metrics(&result);
    info!(
        trades = result.trades.len(),
        orders = result.orders_submitted,
        final_equity = %result.equity_curve.last().map(|p| p.equity).unwrap_or_default(),
        "end of data: run complete"
    );
    println!("{}", render_table(&result, &metrics));
    Ok(())
}
