//! Candles per second through the full `fusion` pipeline (every core: indicators, setups,
//! regime, sentiment, fusion, risk, order manager, simulated venue) and peak memory.
//!
//! `cargo bench --bench pipeline` — uses the 8 symbols of 1h history in `../shared/data/binance/`
//! when present, else the repository's BTC and ETH slice. Prints the figures; asserts nothing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use keel::backtest::{load_inputs, run_backtest};
use keel::settings::{CandleSource, Settings};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/binance");
const SYMBOLS: [&str; 8] = ["BTC", "ETH", "BNB", "SOL", "ADA", "XLM", "LINK", "DOGE"];
const ROUNDS: usize = 5;

fn main() {
    let mut settings = Settings::embedded_default().expect("embedded default is valid");
    let shared = Path::new(SHARED);
    settings.data.start = None;
    settings.data.headlines = None;
    if shared.is_dir() {
        settings.data.candles = SYMBOLS
            .iter()
            .map(|s| CandleSource {
                symbol: format!("{s}USDT"),
                path: shared.join(format!("{s}_USDT-1h.json")),
                interval: Some("1h".into()),
            })
            .collect();
    } else {
        eprintln!("../shared/data/binance not found: benchmarking the repository's BTC+ETH slice");
        for source in &mut settings.data.candles {
            source.path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&source.path);
        }
    }
    let inputs = load_inputs(&settings).expect("bench inputs load");
    let candles = inputs.candles.len();
    println!(
        "pipeline bench: strategy fusion, {} symbols, {candles} candles of 1h history",
        inputs.symbols.len()
    );
    let mut rates = Vec::with_capacity(ROUNDS);
    let mut trades = 0;
    for _ in 0..ROUNDS {
        let inputs = inputs.clone();
        let started = Instant::now();
        let result = run_backtest(&settings, inputs, &mut |_| {});
        let secs = started.elapsed().as_secs_f64();
        trades = result.trades.len();
        rates.push(candles as f64 / secs);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "candles/s: median {:.0}, best {:.0}, worst {:.0} over {ROUNDS} runs ({trades} trades per run)",
        rates[ROUNDS / 2],
        rates[ROUNDS - 1],
        rates[0]
    );
    match peak_rss_kib() {
        Some(kib) => println!(
            "peak memory (VmHWM, whole process incl. loaded history): {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("peak memory: not available on this platform"),
    }
}

/// Peak resident set size of this process, from /proc (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
