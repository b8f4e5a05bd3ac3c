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
//! With `nats-server` installed, also the distributed path on loopback: the same cells
//! through a local NATS server to one in-process worker running one cell at a time, against
//! the local sweep on one thread, as the overhead per cell.
//!
//! `cargo bench --bench sweep`. Prints the figures; asserts nothing.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use keel::backtest::{load_inputs, run_backtest};
use keel::distributed::{run_worker, ObjectFetcher, SweepFilter, WorkerOptions};
use keel::settings::Settings;
use keel::sweep::{run_remote, Cell, CellConfig, Plan, PlanOptions, TaskRunner};

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
    let options = PlanOptions {
        base: (&base, "bench base"),
        grid: (&grid, "bench grid"),
        samples: None,
        seed: 0,
        rank_by: "sharpe",
        heatmap: None,
    };
    let plan = Plan::new(&options).expect("the bench's sweep is valid");
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
            // A fresh sweep each time, loaded outside the timing: the symbol updates and the
            // prepared inputs it shares between cells are computed inside it, as in a real run.
            let fresh = Plan::new(&options).expect("the bench's sweep is valid");
            let started = Instant::now();
            let mut done = 0usize;
            fresh
                .sweep
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
    distributed(&plan, &valid, one);
}

/// The distributed path's overhead per cell on loopback, when `nats-server` is installed.
fn distributed(plan: &Plan, valid: &[&Cell], local_one_thread: f64) {
    let Some(program) = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
    else {
        println!("distributed: nats-server not installed, not measured");
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let store = tempfile::tempdir().expect("a store for nats-server");
    let mut server = std::process::Command::new(program)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nats-server starts");
    let url = format!("nats://127.0.0.1:{port}");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let cache = tempfile::tempdir().expect("a worker cache");
    let worker_url = url.clone();
    let cache_dir = cache.path().to_path_buf();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let runner = Arc::new(TaskRunner::default());
        let mut options = WorkerOptions::new(SweepFilter::All, cache_dir);
        options.parallelism = NonZeroUsize::MIN;
        runtime.block_on(async move {
            run_worker(
                &worker_url,
                options,
                move |payload: &[u8], objects: &ObjectFetcher| runner.handle(payload, objects),
                async {
                    let _ = stop_rx.await;
                },
            )
            .await
        })
    });
    let todo: Vec<&(Cell, String)> = plan
        .cells
        .iter()
        .filter(|(cell, _)| valid.iter().any(|v| v.index == cell.index))
        .collect();
    let started = Instant::now();
    let mut done = 0usize;
    run_remote(&url, plan, &todo, &mut |_| {
        done += 1;
        Ok(())
    })
    .expect("the distributed sweep runs");
    let remote = done as f64 / started.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    let _ = worker.join();
    let _ = server.kill();
    let _ = server.wait();
    println!(
        "distributed ratio (1 worker x 1 thread cells/s / local 1 thread cells/s): {:.2}",
        remote / local_one_thread
    );
    println!(
        "  overhead per cell on loopback: {:.2} ms ({remote:.1} cells/s against {local_one_thread:.1}; one round, the worker's first cell loads the data)",
        1000.0 * (1.0 / remote - 1.0 / local_one_thread)
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
