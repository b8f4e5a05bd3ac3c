//! Candles per second through the full `fusion` pipeline (every core: indicators, setups,
//! regime, sentiment, fusion, risk, order manager, simulated venue) and peak memory.
//!
//! Also the cost of the candlestick patterns per candle, with and without them in the
//! pipeline, alternating in the same run.
//!
//! `cargo bench --bench pipeline` — uses the 8 symbols of 1h history in `../shared/data/binance/`
//! when present, else the repository's BTC and ETH slice. Prints the figures; asserts nothing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use keel::backtest::{load_inputs, run_backtest};
use keel::settings::{CandleSource, Settings};
use keel_core::symbol::patterns::candle::{exact_f64, Ohlc};
use keel_core::symbol::patterns::PatternSet;
use keel_core::symbol::PatternConfirmation;

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
    // The plain pipeline first, on its own: the headline figure, comparable with older
    // binaries of this bench.
    let mut rates = Vec::with_capacity(ROUNDS);
    let mut trades = 0;
    for _ in 0..ROUNDS {
        // The copy of the inputs each run consumes is made outside the timed section.
        let copy = inputs.clone();
        let started = Instant::now();
        let result = run_backtest(&settings, copy, &mut |_| {});
        rates.push(candles as f64 / started.elapsed().as_secs_f64());
        trades = result.trades.len();
    }
    let plain = median(&mut rates);
    println!(
        "candles/s: median {plain:.0}, best {:.0}, worst {:.0} over {ROUNDS} runs ({trades} trades per run)",
        rates[ROUNDS - 1],
        rates[0]
    );
    // With candlestick patterns confirming setups (computed on every candle), alternating
    // with the plain pipeline, so that the machine's drift hits both alike.
    let mut with_patterns = settings.clone();
    with_patterns.setup.pattern_confirmation = PatternConfirmation::Weight;
    let mut alternated = Vec::with_capacity(ROUNDS);
    let mut pattern_rates = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let (copy, second) = (inputs.clone(), inputs.clone());
        let started = Instant::now();
        run_backtest(&settings, copy, &mut |_| {});
        alternated.push(candles as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        run_backtest(&with_patterns, second, &mut |_| {});
        pattern_rates.push(candles as f64 / started.elapsed().as_secs_f64());
    }
    let (alternated, patterned) = (median(&mut alternated), median(&mut pattern_rates));
    println!(
        "with the 17 candlestick patterns (setup.pattern_confirmation = weight): median {patterned:.0} \
         candles/s against {alternated:.0} plain in the same alternation, {:.0} ns more per candle \
         ({:.2}x the plain pipeline's time per candle)",
        (1.0 / patterned - 1.0 / alternated) * 1e9,
        alternated / patterned
    );
    // The patterns alone, against the pipeline as the yardstick.
    let ohlc: Vec<Ohlc> = inputs
        .candles
        .iter()
        .map(|c| {
            Ohlc::new(
                exact_f64(c.open),
                exact_f64(c.high),
                exact_f64(c.low),
                exact_f64(c.close),
            )
        })
        .collect();
    let mut best = f64::INFINITY;
    for _ in 0..ROUNDS {
        let mut set = PatternSet::new();
        let started = Instant::now();
        let mut signals = 0u64;
        for candle in &ohlc {
            signals += set.update(*candle).iter().filter(|v| **v != 0).count() as u64;
        }
        std::hint::black_box(signals);
        best = best.min(started.elapsed().as_secs_f64() / ohlc.len() as f64);
    }
    println!(
        "patterns alone: {:.0} ns per candle for all 17 (best of {ROUNDS}), {:.3} of the plain \
         pipeline's time per candle",
        best * 1e9,
        best * plain
    );
    match peak_rss_kib() {
        Some(kib) => println!(
            "peak memory (VmHWM, whole process incl. loaded history): {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("peak memory: not available on this platform"),
    }
}

/// The median of `rates` (sorted in place).
fn median(rates: &mut [f64]) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// Peak resident set size of this process, from /proc (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
