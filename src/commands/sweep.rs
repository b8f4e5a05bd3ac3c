//! `keel sweep`: a grid of backtests on every core, resumable, then its reports (or a
//! walk-forward over rolling windows).

use std::collections::HashMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::SweepArgs;
use crate::settings::{SettingsError, DEFAULT_TOML};
use crate::sweep::{
    run_remote, write_outputs, write_walk_forward, Cell, CellRecord, Plan, PlanOptions, Refused,
    Store, WalkForward, WindowSpec,
};

/// Runs `keel sweep`.
pub fn run(args: &SweepArgs) -> anyhow::Result<()> {
    let base_text = match &args.config {
        // Unreadable: a configuration error (exit 2), as for `keel backtest --config`.
        Some(path) => std::fs::read_to_string(path).map_err(|error| SettingsError::Read {
            path: path.clone(),
            error,
        })?,
        None => DEFAULT_TOML.to_string(),
    };
    let base_origin = args
        .config
        .as_ref()
        .map_or("(embedded default)".to_string(), |p| {
            p.display().to_string()
        });
    let grid_text = std::fs::read_to_string(&args.grid)
        .map_err(|e| Refused(format!("cannot read the grid {}: {e}", args.grid.display())))?;
    let grid_origin = args.grid.display().to_string();
    let walk = args
        .walk_forward
        .as_deref()
        .map(WindowSpec::parse)
        .transpose()?;
    let plan = Plan::new(&PlanOptions {
        base: (&base_text, &base_origin),
        grid: (&grid_text, &grid_origin),
        samples: args.samples,
        seed: args.seed,
        rank_by: &args.rank_by,
        heatmap: args.heatmap.as_deref(),
    })?;
    let threads = match args.threads {
        Some(0) => return Err(Refused("--threads must be at least 1".into()).into()),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let (mut store, mut records) =
        Store::open(&args.out, &plan.sweep.fingerprint, &plan.sweep.base.origin)?;

    let walk = walk.map(|spec| WalkForward::new(&plan, spec)).transpose()?;
    let cells = match &walk {
        Some(walk) => walk.training_cells(),
        None => plan.cells.clone(),
    };
    let todo: Vec<&(Cell, String)> = cells
        .iter()
        .filter(|(_, id)| !records.contains_key(id))
        .collect();
    let runs_on = match &args.nats {
        Some(url) => format!("workers of {url}"),
        None => format!("{threads} threads"),
    };
    println!(
        "{} cells: {} to run, {} already done in {} ({runs_on})",
        cells.len(),
        todo.len(),
        cells.len() - todo.len(),
        args.out.display(),
    );
    let started = std::time::Instant::now();
    let bar = progress_bar(todo.len() as u64);
    let mut record_one = |record: CellRecord| {
        store.append(&record)?;
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        records.insert(record.id.clone(), record);
        Ok(())
    };
    match &args.nats {
        Some(url) => run_remote(url, &plan, &todo, &mut record_one)?,
        None => {
            let local: Vec<&Cell> = todo.iter().map(|(cell, _)| cell).collect();
            plan.sweep.run_cells(&local, threads, &mut record_one)?;
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let seconds = started.elapsed().as_secs_f64();
    if !todo.is_empty() {
        println!(
            "ran {} cells in {seconds:.1} s ({:.1} cells/s)",
            todo.len(),
            todo.len() as f64 / seconds.max(1e-9)
        );
    }
    match &walk {
        Some(walk) => report_walk(args, &plan, walk, &records),
        None => report_grid(args, &plan, &records),
    }
}

fn report_grid(
    args: &SweepArgs,
    plan: &Plan,
    records: &HashMap<String, CellRecord>,
) -> anyhow::Result<()> {
    let written = write_outputs(
        &args.out,
        &plan.sweep.base,
        &plan.grid,
        &plan.cells,
        records,
        &plan.ranking,
        plan.heatmap.as_ref(),
    )?;
    println!(
        "{} cells ran, {} skipped",
        written.counts.0, written.counts.1
    );
    match &written.best {
        Some((cell, score, _)) => {
            let values: Vec<String> = cell
                .values
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            println!(
                "best by {}: {score:.4} (cell {}: {})",
                plan.ranking.metric,
                cell.index,
                values.join(", ")
            );
        }
        None => println!("no cell has a {} to rank by", plan.ranking.metric),
    }
    println!("written to {}", args.out.display());
    let mut files = vec![&written.results, &written.skipped];
    files.extend(written.best.as_ref().map(|(_, _, path)| path));
    files.extend(written.heatmap.as_ref());
    for path in files {
        println!("  {}", path.display());
    }
    Ok(())
}

fn report_walk(
    args: &SweepArgs,
    plan: &Plan,
    walk: &WalkForward,
    records: &HashMap<String, CellRecord>,
) -> anyhow::Result<()> {
    let results = walk.test(records)?;
    let keys: Vec<String> = plan.grid.axes.iter().map(|a| a.key.clone()).collect();
    let report = write_walk_forward(&args.out, &keys, &plan.ranking, &results)?;
    println!(
        "walk-forward: {} windows, best training cell by {} run on the window after it",
        results.len(),
        plan.ranking.metric
    );
    print!("{}", report.table);
    println!("written to {}", args.out.display());
    for path in &report.files {
        println!("  {}", path.display());
    }
    Ok(())
}

/// A progress bar with ETA when a person is watching; none in pipes, files and CI.
fn progress_bar(total: u64) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} cells {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    })
}
