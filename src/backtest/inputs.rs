//! Loading what a run replays: the candle files (checked, merged) and the headlines.

use std::path::PathBuf;
use std::sync::Arc;

use keel_core::strategy::StrategyKind;
use keel_data::{load_candles, merge, CandleSeries, DataError, QualityReport};
use keel_model::{Candle, Interval, Symbol, Timestamp};
use keel_news::llm::{AnalysisCache, AnalysisMode, AnalystKind, CacheError};
use keel_news::{load_headlines, Headline, NewsError, SymbolTagger};
use tracing::{info, warn};

use super::SharedSymbolUpdates;
use crate::settings::{ResolvedSource, Settings};

/// Why the inputs of a run could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A candle file could not be read or parsed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The headline file could not be read or parsed.
    #[error(transparent)]
    News(#[from] NewsError),
    /// The analysis cache of a model analyst could not be opened.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// A candle file has rows that were rejected; a run refuses corrupt history.
    #[error("{file} has {count} rejected row(s), first: row {row}: {reason} (run `keel data inspect {file}` for all)")]
    Rejected {
        /// The file.
        file: PathBuf,
        /// How many rows were rejected.
        count: usize,
        /// The first rejected row (1-based).
        row: usize,
        /// Why.
        reason: String,
    },
    /// The candle files disagree on the bar interval.
    #[error("candle files mix intervals: {first_symbol} is {first} but {symbol} is {other}; use one interval")]
    MixedIntervals {
        /// The first file's symbol.
        first_symbol: Symbol,
        /// Its interval.
        first: Interval,
        /// The disagreeing symbol.
        symbol: Symbol,
        /// Its interval.
        other: Interval,
    },
    /// Nothing is left to trade in the configured range.
    #[error("no candles between data.start and data.end ({start} .. {end})")]
    EmptyRange {
        /// The start, or "beginning".
        start: String,
        /// The end, or "end".
        end: String,
    },
    /// The settings are inconsistent.
    #[error(transparent)]
    Config(#[from] keel_core::config_check::ConfigError),
}

/// Everything a run replays, in event order.
#[derive(Debug, Clone)]
pub struct RunInputs {
    /// The symbols, in configuration order.
    pub symbols: Vec<Symbol>,
    /// The common bar interval.
    pub interval: Interval,
    /// All candles before `end`, merged in timestamp order (including the warm-up before `start`).
    pub candles: Vec<Candle>,
    /// Bars at or after this instant are traded; earlier ones only warm up the indicators.
    pub start: Option<Timestamp>,
    /// Headlines about the traded symbols, in time order.
    pub headlines: Vec<Headline>,
    /// The quality report of every candle file.
    pub quality: Vec<QualityReport>,
    /// The analysis cache (`sentiment.cache_dir`), opened when the analyst is a model.
    pub analyses: Option<AnalysisCache>,
    /// The decision cache (`strategy.llm.cache_dir`), opened for the `llm` strategy.
    pub decisions: Option<AnalysisCache>,
    /// Symbol updates computed once for these candles and settings, replayed instead of
    /// computed (`keel sweep`); empty: the run computes them.
    pub symbol_updates: SharedSymbolUpdates,
}

/// Loads and checks every input named by `settings`.
pub fn load_inputs(settings: &Settings) -> Result<RunInputs, InputError> {
    load_inputs_with(settings, &mut |source| {
        let loaded = load_candles(&source.path, source.symbol.clone(), source.interval)?;
        checked(loaded, source)
    })
}

/// [`load_inputs`] with the candle files read by `load`, which returns them [`checked`]
/// (`keel sweep` reads and checks each file once and shares it between its cells).
pub fn load_inputs_with(
    settings: &Settings,
    load: &mut dyn FnMut(&ResolvedSource) -> Result<Arc<CandleSeries>, InputError>,
) -> Result<RunInputs, InputError> {
    let sources = settings.sources()?;
    let (start, end) = settings.range()?;
    let mut series: Vec<Arc<CandleSeries>> = Vec::with_capacity(sources.len());
    for source in &sources {
        let loaded = load(source)?;
        if let Some(first) = series.first() {
            if first.interval != loaded.interval {
                return Err(InputError::MixedIntervals {
                    first_symbol: first.symbol.clone(),
                    first: first.interval,
                    symbol: loaded.symbol.clone(),
                    other: loaded.interval,
                });
            }
        }
        series.push(loaded);
    }
    let interval = series[0].interval;
    let mut candles = merge(&series);
    if let Some(end) = end {
        candles.retain(|c| c.open_time < end);
    }
    let traded = candles
        .iter()
        .filter(|c| start.is_none_or(|s| c.open_time >= s))
        .count();
    if traded == 0 {
        return Err(InputError::EmptyRange {
            start: start.map_or("beginning".into(), |t| t.to_string()),
            end: end.map_or("end".into(), |t| t.to_string()),
        });
    }
    let symbols: Vec<Symbol> = series.iter().map(|s| s.symbol.clone()).collect();
    let (headlines, analyses) = load_news(settings, &symbols)?;
    Ok(RunInputs {
        symbols,
        interval,
        candles,
        start,
        headlines,
        quality: series.iter().map(|s| s.quality.clone()).collect(),
        analyses,
        decisions: open_decisions(settings)?,
        symbol_updates: SharedSymbolUpdates::new(),
    })
}

/// Refuses a candle file with rejected rows and warns of its gaps and dropped bars: a run
/// trades no corrupt history, and nothing is invented for what is missing.
pub fn checked(
    loaded: CandleSeries,
    source: &ResolvedSource,
) -> Result<Arc<CandleSeries>, InputError> {
    let quality = &loaded.quality;
    if let Some(first) = quality.rejects.first() {
        return Err(InputError::Rejected {
            file: source.path.clone(),
            count: quality.rejects.len(),
            row: first.row,
            reason: first.reason.clone(),
        });
    }
    if !quality.gaps.is_empty() || quality.duplicates > 0 || quality.out_of_order > 0 {
        warn!(
            file = %source.path.display(),
            gaps = quality.gaps.len(),
            missing_bars = quality.missing_bars(),
            duplicates = quality.duplicates,
            out_of_order = quality.out_of_order,
            "candle file has gaps or dropped bars (no candles are invented)"
        );
    }
    info!(file = %source.path.display(), symbol = %loaded.symbol, bars = loaded.candles.len(), interval = %loaded.interval, "candles loaded");
    Ok(Arc::new(loaded))
}

/// The inputs of a run against a venue that streams its candles (`[binance]`): the symbols
/// and interval it names, and the headlines; no candle is known up front.
pub fn live_inputs(settings: &Settings) -> Result<RunInputs, InputError> {
    let binance = settings
        .binance
        .as_ref()
        .ok_or_else(|| keel_core::config_check::ConfigError::new("binance", "is required"))?;
    let symbols = binance.validate()?;
    let interval = binance.interval()?;
    let (start, _) = settings.range()?;
    let (headlines, analyses) = load_news(settings, &symbols)?;
    Ok(RunInputs {
        symbols,
        interval,
        candles: Vec::new(),
        start,
        headlines,
        quality: Vec::new(),
        analyses,
        decisions: open_decisions(settings)?,
        symbol_updates: SharedSymbolUpdates::new(),
    })
}

/// The `llm` strategy's decision cache (none for the other strategies). A replay of a
/// cache that does not exist finds every decision point missing (and creates nothing); a
/// `record` run creates it.
fn open_decisions(settings: &Settings) -> Result<Option<AnalysisCache>, InputError> {
    let cfg = &settings.strategy.llm;
    if settings.strategy.kind != StrategyKind::Llm {
        return Ok(None);
    }
    if cfg.mode != AnalysisMode::Record && !cfg.cache_dir.exists() {
        warn!(dir = %cfg.cache_dir.display(), "no decision cache (strategy.llm.cache_dir): every decision point is missing from it");
        return Ok(None);
    }
    let cache = AnalysisCache::open(&cfg.cache_dir)?;
    info!(dir = %cfg.cache_dir.display(), decisions = cache.decisions(), "decision cache opened");
    Ok(Some(cache))
}

/// The headlines about `symbols` and, for a model analyst, its analysis cache.
fn load_news(
    settings: &Settings,
    symbols: &[Symbol],
) -> Result<(Vec<Headline>, Option<AnalysisCache>), InputError> {
    let headlines = match &settings.data.headlines {
        None => Vec::new(),
        Some(path) => {
            let tagger = SymbolTagger::new(symbols, &settings.sentiment.aliases);
            let headlines = load_headlines(path, &tagger)?;
            info!(file = %path.display(), headlines = headlines.len(), "headlines loaded");
            headlines
        }
    };
    let analyses = match settings.sentiment.analyst {
        AnalystKind::Lexicon => None,
        _ => {
            let cache = AnalysisCache::open(&settings.sentiment.cache_dir)?;
            info!(dir = %settings.sentiment.cache_dir.display(), analyses = cache.len(), "analysis cache opened");
            Some(cache)
        }
    };
    Ok((headlines, analyses))
}
