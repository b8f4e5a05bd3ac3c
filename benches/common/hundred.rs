//! The 100 symbols of the actor benches: copies of real 1h series, the 8 of
//! `../shared/data/binance/` when present (BTC, ETH, BNB, SOL, ADA, XLM, LINK, DOGE), else the
//! repository's BTC and ETH. Symbol `S{i:03}USDT` replays series `i % 8`, over a window where
//! every series has data.

use std::path::{Path, PathBuf};

use keel::backtest::{load_inputs, RunInputs};
use keel::settings::{CandleSource, Settings};
use keel_data::QualityReport;
use keel_model::{Candle, Interval, Symbol};

/// Where the shared history may be: beside the repository, or beside a worktree's parent.
const SHARED: [&str; 2] = [
    concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/binance"),
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/binance"),
];
const REAL: [&str; 8] = ["BTC", "ETH", "BNB", "SOL", "ADA", "XLM", "LINK", "DOGE"];
/// Synthetic symbols in the run.
pub const SYMBOLS: usize = 100;

/// The real series to copy: the shared 8, else the repository's BTC and ETH.
pub fn real_sources() -> Vec<CandleSource> {
    if let Some(dir) = SHARED.iter().map(Path::new).find(|d| d.is_dir()) {
        return REAL
            .iter()
            .map(|s| CandleSource {
                symbol: format!("{s}USDT"),
                path: dir.join(format!("{s}_USDT-1h.json")),
                interval: Some("1h".into()),
            })
            .collect();
    }
    eprintln!("../shared/data/binance not found: copying the repository's BTC and ETH");
    ["BTC", "ETH"]
        .iter()
        .map(|s| CandleSource {
            symbol: format!("{s}USDT"),
            path: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("data/binance/{s}_USDT-1h.json")),
            interval: Some("1h".into()),
        })
        .collect()
}

/// The name of synthetic symbol `i`.
pub fn synthetic(i: usize) -> String {
    format!("S{i:03}USDT")
}

/// `settings` trading the 100 synthetic symbols (no dates, no headlines, regime on the first).
pub fn with_hundred_symbols(mut settings: Settings) -> Settings {
    let real = real_sources();
    settings.data.start = None;
    settings.data.end = None;
    settings.data.headlines = None;
    settings.data.candles = (0..SYMBOLS)
        .map(|i| CandleSource {
            symbol: synthetic(i),
            ..real[i % real.len()].clone()
        })
        .collect();
    settings.regime.symbol = synthetic(0);
    settings
}

/// The real series on a common grid of bars, and the synthetic symbols that copy them.
pub struct Grid {
    /// `bars[series][bar]`: the real candle of that series at the window's start + `bar`
    /// intervals (none in a gap).
    pub bars: Vec<Vec<Option<Candle>>>,
    /// The synthetic symbols.
    pub symbols: Vec<Symbol>,
    /// The bar interval.
    pub interval: Interval,
    /// The loaded files' quality reports.
    pub quality: Vec<QualityReport>,
}

impl Grid {
    /// Loads the real series once, over at most `max_bars` hours from the first where every
    /// series has data.
    pub fn load(settings: &Settings, max_bars: Option<usize>) -> Self {
        let mut loading = settings.clone();
        let real = real_sources();
        loading.data.candles = real.clone();
        loading.regime.symbol = real[0].symbol.clone();
        let loaded = load_inputs(&loading).expect("bench inputs load");
        let step = loaded.interval.millis();
        let open = |c: &Candle| c.open_time.millis();
        let first_open = |symbol: &Symbol| {
            loaded
                .candles
                .iter()
                .find(|c| &c.symbol == symbol)
                .map(open)
                .expect("every series has candles")
        };
        let window_start = loaded.symbols.iter().map(first_open).max().unwrap_or(0);
        let last = loaded.candles.iter().map(open).max().unwrap_or(0);
        let span = ((last - window_start) / step + 1) as usize;
        let n = max_bars.map_or(span, |max| max.min(span));
        let mut bars: Vec<Vec<Option<Candle>>> = vec![vec![None; n]; loaded.symbols.len()];
        for candle in &loaded.candles {
            let offset = open(candle) - window_start;
            if offset < 0 || offset % step != 0 || offset / step >= n as i64 {
                continue;
            }
            let series = loaded
                .symbols
                .iter()
                .position(|s| s == &candle.symbol)
                .expect("a loaded symbol");
            bars[series][(offset / step) as usize] = Some(candle.clone());
        }
        let symbols = (0..SYMBOLS)
            .map(|i| Symbol::parse(&synthetic(i)).expect("synthetic symbols parse"))
            .collect();
        Self {
            bars,
            symbols,
            interval: loaded.interval,
            quality: loaded.quality,
        }
    }

    /// Bars in the window.
    pub fn len(&self) -> usize {
        self.bars.first().map_or(0, Vec::len)
    }

    /// Every symbol's candle of `bar`, in symbol order (gaps left out).
    pub fn bar(&self, bar: usize) -> impl Iterator<Item = Candle> + '_ {
        self.symbols
            .iter()
            .enumerate()
            .filter_map(move |(i, symbol)| {
                self.bars[i % self.bars.len()][bar]
                    .as_ref()
                    .map(|real| Candle {
                        symbol: symbol.clone(),
                        ..real.clone()
                    })
            })
    }

    /// Inputs replaying the whole window, with `candles` as given.
    pub fn inputs(&self, candles: Vec<Candle>) -> RunInputs {
        RunInputs {
            symbols: self.symbols.clone(),
            interval: self.interval,
            candles,
            start: None,
            headlines: Vec::new(),
            quality: self.quality.clone(),
            analyses: None,
            decisions: None,
            symbol_updates: Default::default(),
        }
    }
}
