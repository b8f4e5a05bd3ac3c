//! `keel sweep` speed: cells per second on 1 and 2 threads (scaling efficiency), against a
//! yardstick measured in the same run: the same cells as plain `keel backtest` runs one at a
//! time on one thread (each loading nothing: its inputs are copied outside the timing).
//!
//! The grid is issue 20's comparison with vectorbt: every pair of windows from
//! {5, 10, ..., 50, 60, 80, ..., 240}, the shorter as `sma_fast`, over ETH/USDT 1h (all
//! 45,024 bars of `../shared/data/binance/` when present, else the repository's slice): 400
//! cells of which 190 are valid and run. `benches/vectorbt/sma_grid.py` runs the same 190
//! cells in vectorbt.
//!
//! `cargo bench --bench sweep`. Prints the figures; asserts nothing.

use std::path::Path;
use std::time::Instant;

use keel::backtest::{load_inputs, run_backtest};
use keel::settings::Settings;
use keel::sweep::{Cell, CellConfig, Plan, PlanOptions};

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/binance/ETH_USDT-1h.json"
);
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/binance/ETH_USDT-1h.json");
const WINDOWS: &str =
    "[5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240]";
const ROUNDS: usize = 3;

fn main() {
    let data = if Path::new(SHARED).is_file() {
        SHARED
    } else {
        eprintln!("../shared/data not found: benchmarking the repository's ETH slice");
        REPO
    };
    let base = format!(
        "[data]\ncandles = [{{ symbol = \"ETHUSDT\", path = \"{data}\", interval = \"1h\" }}]\n\
         [strategy]\nkind = \"sma_cross\"\n[regime]\nsymbol = \"ETHUSDT\"\n"
    );
    let grid = format!("[strategy]\nsma_fast = {WINDOWS}\nsma_slow = {WINDOWS}\n");
    let plan = Plan::new(&PlanOptions {
        base: (&base, "bench base"),
        grid: (&grid, "bench grid"),
        samples: None,
        seed: 0,
        rank_by: "sharpe",
        heatmap: None,
    })
    .expect("the bench's sweep is valid");
    let valid: Vec<&Cell> = plan
        .cells
        .iter()
        .map(|(cell, _)| cell)
        .filter(|cell| matches!(plan.sweep.base.cell(&cell.values), CellConfig::Ready(_)))
        .collect();
    println!(
        "sweep bench: sma_cross over {} ({} cells, {} valid)",
        data,
        plan.cells.len(),
        valid.len()
    );

    // The yardstick: the same cells as plain backtests, one at a time.
    let settings: Vec<Settings> = valid
        .iter()
        .map(|cell| match plan.sweep.base.cell(&cell.values) {
            CellConfig::Ready(settings) => *settings,
            CellConfig::Skipped(reason) => panic!("{reason}"),
        })
        .collect();
    let inputs = load_inputs(&settings[0]).expect("bench inputs");
    let bars = inputs.candles.len();

    let mut plain = Vec::new();
    let mut one = Vec::new();
    let mut two = Vec::new();
    for _ in 0..ROUNDS {
        // Alternating, so that a machine slowing down mid-bench hits every figure alike.
        let mut seconds = 0.0;
        for s in &settings {
            let copy = inputs.clone();
            let started = Instant::now();
            std::hint::black_box(run_backtest(s, copy, &mut |_| {}));
            seconds += started.elapsed().as_secs_f64();
        }
        plain.push(settings.len() as f64 / seconds);
        for (threads, rates) in [(1, &mut one), (2, &mut two)] {
            let started = Instant::now();
            let mut done = 0usize;
            plan.sweep
                .run_cells(&valid, threads, &mut |_| {
                    done += 1;
                    Ok(())
                })
                .expect("the sweep runs");
            rates.push(done as f64 / started.elapsed().as_secs_f64());
        }
    }
    let (plain, one, two) = (median(plain), median(one), median(two));
    println!(
        "sweep ratio (2 threads cells/s / plain backtests/s): {:.2}",
        two / plain
    );
    println!(
        "  scaling efficiency 1 -> 2 threads: {:.0} %",
        100.0 * two / (2.0 * one)
    );
    println!(
        "  plain backtests, one at a time: {plain:.1} /s ({:.0} candles/s)",
        plain * bars as f64
    );
    println!("  sweep, 1 thread:  {one:.1} cells/s");
    println!("  sweep, 2 threads: {two:.1} cells/s");
    println!("  (medians of {ROUNDS} alternating rounds; {bars} candles per cell)");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
