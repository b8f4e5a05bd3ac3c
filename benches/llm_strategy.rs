//! The `llm` strategy's replay cost and context size: decisions per second answered from the
//! decision cache in a backtest, beside the same backtest with `fusion` (the yardstick, same
//! data, same run), and the size of what the model is shown per decision.
//!
//! `cargo bench --bench llm_strategy` — `config/llm.toml` (BTC and ETH hourly, 24 candles and
//! 8 headlines per context) over the first half of 2018: first a `keel run` in lockstep,
//! recording, against a fake OpenAI-compatible server on loopback (one request per decision
//! point), then the measured backtests. Asserts only that the replay found every decision
//! point in the cache.

use std::path::{Path, PathBuf};
use std::time::Instant;

use keel::backtest::{load_inputs, run_backtest};
use keel::runtime::{run_actors, RunOptions};
use keel::settings::Settings;
use keel_core::strategy::StrategyKind;
use keel_news::llm::{AnalysisMode, DECISION_SYSTEM_PROMPT};
use keel_news::testing::{fake_trader, FakeServer};

const ROUNDS: usize = 5;

fn settings(base_url: &str, cache: &Path) -> Settings {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config/llm.toml"))
        .expect("config/llm.toml")
        .replace("\"data/", &format!("\"{}/data/", root.display()))
        .replace("end = \"2018-01-19\"", "end = \"2018-07-15\"");
    let mut settings = Settings::from_toml(&text, "config/llm.toml").expect("a valid config");
    settings.strategy.llm.api.base_url = Some(base_url.to_string());
    settings.strategy.llm.cache_dir = cache.to_path_buf();
    settings
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn percentile(mut xs: Vec<usize>, p: f64) -> usize {
    xs.sort_unstable();
    xs[((xs.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let server = FakeServer::start(fake_trader);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut recording = settings(&server.url(), &dir.path().join("decisions"));
    recording.strategy.llm.mode = AnalysisMode::Record;
    // Half a year of decisions in one wall-clock day: lift the daily budget.
    recording.strategy.llm.api.daily_token_budget = 1_000_000_000_000;

    let started = Instant::now();
    let inputs = load_inputs(&recording).expect("bench inputs load");
    let report = run_actors(&recording, inputs, RunOptions::default()).expect("the record run");
    let record_secs = started.elapsed().as_secs_f64();
    let llm = report.result.llm.expect("an llm report");
    let points = llm.stats.decision_points;
    assert_eq!(
        server.hits() as u64,
        points,
        "one request per decision point"
    );

    // What the model is shown: the user message of every request.
    let sizes: Vec<usize> = server
        .requests()
        .iter()
        .filter_map(|r| r.json())
        .filter_map(|b| b["messages"][1]["content"].as_str().map(str::len))
        .collect();
    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    let system = DECISION_SYSTEM_PROMPT.len();

    let mut replay = recording.clone();
    replay.strategy.llm.mode = AnalysisMode::ReplayOnly;
    let mut fusion = replay.clone();
    fusion.strategy.kind = StrategyKind::Fusion;
    let (mut llm_secs, mut fusion_secs) = (Vec::new(), Vec::new());
    let mut candles = 0;
    for _ in 0..ROUNDS {
        // Alternating, so that a drift of the machine's speed hits both alike.
        for (settings, secs) in [(&replay, &mut llm_secs), (&fusion, &mut fusion_secs)] {
            let inputs = load_inputs(settings).expect("bench inputs load");
            let started = Instant::now();
            let result = run_backtest(settings, inputs, &mut |_| {});
            secs.push(started.elapsed().as_secs_f64());
            candles = result.candles;
            if let Some(llm) = result.llm {
                assert_eq!(llm.stats.missing, 0, "every decision point is in the cache");
                assert_eq!(llm.cache_hits, points);
            }
        }
    }
    let (llm_secs, fusion_secs) = (median(llm_secs), median(fusion_secs));
    println!(
        "llm replay ratio (llm backtest time / fusion backtest time, same data): {:.2}",
        llm_secs / fusion_secs
    );
    println!(
        "decisions/s from the cache in a backtest: {:.0} ({points} decision points in {:.3} s; {:.0} candles/s, fusion {:.0} candles/s)",
        points as f64 / llm_secs,
        llm_secs,
        candles as f64 / llm_secs,
        candles as f64 / fusion_secs,
    );
    println!(
        "context per decision (user message): mean {mean:.0} chars ≈ {:.0} tokens, p50 {} chars, max {} chars; system prompt {system} chars ≈ {:.0} tokens",
        mean / 4.0,
        percentile(sizes.clone(), 0.5),
        percentile(sizes, 1.0),
        system as f64 / 4.0,
    );
    println!(
        "record run: {points} requests to a loopback server in {record_secs:.1} s ({:.0} decisions/s, {} buys, {} sells)",
        points as f64 / record_secs,
        llm.stats.buys,
        llm.stats.sells,
    );
}
