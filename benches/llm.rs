//! The LLM analyst's replay cost: analyses per second answered from the sled cache, and the
//! overhead the analyst adds to a `replay_only` backtest compared with the lexicon.
//!
//! `cargo bench --bench llm` — uses the repository's BTC and ETH 1h slice with its real
//! headlines plus one synthetic headline every 4 hours (so that there is news all year),
//! fills a temporary cache with one analysis per window, then measures. Prints the figures;
//! asserts only that the replay found every window in the cache.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use keel::backtest::{backtest_pipeline, load_inputs, RunInputs};
use keel::settings::Settings;
use keel_model::{Symbol, Timestamp};
use keel_news::llm::{AnalysisCache, AnalystKind, CacheKey, ReplayAnalyst, Verdict};
use keel_news::{Analysis, Analyst, AnalystError, Headline, LexiconAnalyst, SentimentCore};

const ROUNDS: usize = 5;
const MODEL: &str = "bench-model";

/// Every window the analyst was asked about, with its symbol.
type Windows = Rc<RefCell<Vec<(Symbol, Vec<Headline>)>>>;

/// Stores the lexicon's judgement of every window it is asked about, as a model would.
struct Filler {
    cache: AnalysisCache,
    lexicon: LexiconAnalyst,
    windows: Windows,
}

impl Analyst for Filler {
    fn name(&self) -> &str {
        "filler"
    }

    fn analyze(
        &mut self,
        symbol: &Symbol,
        headlines: &[&Headline],
    ) -> Result<Analysis, AnalystError> {
        let analysis = self.lexicon.analyze(symbol, headlines)?;
        let key = CacheKey::new(AnalystKind::Openai.name(), MODEL, symbol, headlines);
        self.cache
            .put(&key, &Verdict::Accepted(analysis.clone()))
            .expect("cache write");
        self.windows.borrow_mut().push((
            symbol.clone(),
            headlines.iter().map(|h| (*h).clone()).collect(),
        ));
        Ok(analysis)
    }
}

fn settings() -> Settings {
    let mut settings = Settings::embedded_default().expect("embedded default is valid");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for source in &mut settings.data.candles {
        source.path = root.join(&source.path);
    }
    if let Some(headlines) = &mut settings.data.headlines {
        *headlines = root.join(&*headlines);
    }
    settings
}

fn with_synthetic_news(mut inputs: RunInputs) -> RunInputs {
    let first = inputs.candles.first().map_or(Timestamp(0), |c| c.open_time);
    let last = inputs.candles.last().map_or(Timestamp(0), |c| c.open_time);
    let words = [
        "surges",
        "slips",
        "steady",
        "rallies",
        "falls",
        "record high",
        "hack fears",
    ];
    let mut at = first;
    let mut n = 0usize;
    while at < last {
        let symbol = inputs.symbols[n % inputs.symbols.len()].clone();
        inputs.headlines.push(Headline {
            published: at,
            title: format!(
                "{} {} as traders react ({n})",
                symbol.base(),
                words[n % words.len()]
            ),
            source: "synthetic".into(),
            symbols: vec![symbol],
        });
        at = at.plus_ms(4 * 3_600_000);
        n += 1;
    }
    inputs.headlines.sort_by_key(|h| h.published);
    inputs
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary cache directory");
    let lexicon_settings = settings();
    let mut replay_settings = settings();
    replay_settings.sentiment.analyst = AnalystKind::Openai;
    replay_settings.sentiment.llm.model = Some(MODEL.into());
    replay_settings.sentiment.cache_dir = dir.path().to_path_buf();
    replay_settings
        .validate()
        .expect("bench settings are valid");

    let inputs = with_synthetic_news(load_inputs(&replay_settings).expect("bench inputs load"));
    let cache = inputs.analyses.clone().expect("the cache is open");

    // Fill the cache with one analysis per window, releasing at every candle close as the
    // backtest does.
    let windows: Windows = Rc::new(RefCell::new(Vec::new()));
    let filler = Filler {
        cache: cache.clone(),
        lexicon: LexiconAnalyst::new(),
        windows: windows.clone(),
    };
    let mut core = SentimentCore::new(
        replay_settings.sentiment.clone(),
        filler,
        inputs.headlines.clone(),
    );
    for candle in &inputs.candles {
        core.advance_to(candle.close_time());
    }
    drop(core);
    let windows = windows.take();
    let mean_len =
        windows.iter().map(|(_, w)| w.len()).sum::<usize>() as f64 / windows.len().max(1) as f64;
    println!(
        "llm bench: {} candles, {} headlines, {} analyses cached (windows of {mean_len:.1} headlines on average)",
        inputs.candles.len(),
        inputs.headlines.len(),
        cache.len()
    );

    // 1. Analyses per second from the cache: key hash + sled read + decode + clamp.
    let mut replay = ReplayAnalyst::new(AnalystKind::Openai, MODEL, cache.clone());
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for (symbol, window) in &windows {
            let refs: Vec<&Headline> = window.iter().collect();
            replay.analyze(symbol, &refs).expect("cached");
        }
        rates.push(windows.len() as f64 / started.elapsed().as_secs_f64());
    }
    assert_eq!(replay.stats().fallbacks, 0, "every window was cached");
    let mut lexicon = LexiconAnalyst::new();
    let mut lexicon_rates = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for (symbol, window) in &windows {
            let refs: Vec<&Headline> = window.iter().collect();
            lexicon.analyze(symbol, &refs).expect("lexicon");
        }
        lexicon_rates.push(windows.len() as f64 / started.elapsed().as_secs_f64());
    }
    println!(
        "analyses/s from the cache: median {:.0} (lexicon scoring the same windows: {:.0})",
        median(rates),
        median(lexicon_rates)
    );

    // 2. The analyst's overhead in a replay-only backtest, against the lexicon.
    let time = |settings: &Settings, inputs: &RunInputs| {
        let mut secs = Vec::new();
        let mut stats = None;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let (_, pipeline) = backtest_pipeline(settings, inputs.clone(), &mut |_| {});
            secs.push(started.elapsed().as_secs_f64());
            stats = pipeline.sentiment().analyst().replay_stats();
        }
        (median(secs), stats)
    };
    let quiet = RunInputs {
        headlines: Vec::new(),
        ..inputs.clone()
    };
    let (quiet_secs, _) = time(&lexicon_settings, &quiet);
    let (lexicon_secs, _) = time(&lexicon_settings, &inputs);
    let (replay_secs, stats) = time(&replay_settings, &inputs);
    let stats = stats.expect("a replay analyst");
    assert_eq!(
        stats.fallbacks, 0,
        "every window of the backtest was cached"
    );
    let candles = inputs.candles.len() as f64;
    println!(
        "backtest without news: {:.1} ms ({:.0} candles/s)",
        quiet_secs * 1e3,
        candles / quiet_secs
    );
    println!(
        "backtest, lexicon: {:.1} ms ({:.0} candles/s); replay_only from the cache: {:.1} ms ({:.0} candles/s), {} cache hits",
        lexicon_secs * 1e3,
        candles / lexicon_secs,
        replay_secs * 1e3,
        candles / replay_secs,
        stats.hits
    );
    for (against, base) in [("no news", quiet_secs), ("the lexicon", lexicon_secs)] {
        println!(
            "overhead of the replayed LLM analyst against {against}: {:+.1} ms per run, {:+.0} ns per candle, {:+.1}%",
            (replay_secs - base) * 1e3,
            (replay_secs - base) / candles * 1e9,
            (replay_secs / base - 1.0) * 100.0
        );
    }
}
