//! Which analyst a replay uses: the lexicon, or a model's analyses from the cache
//! (`replay_only`: a window missing from the cache is scored by the lexicon and counted).

use keel_news::llm::{AnalysisCache, AnalystKind, ReplayAnalyst, ReplayChoice};
use keel_news::LexiconAnalyst;
use tracing::info;

use crate::settings::Settings;

/// The replay analyst for `settings`, reading `cache` (opened by `load_inputs` for a model
/// analyst; without one, the lexicon).
pub fn replay_analyst(settings: &Settings, cache: Option<&AnalysisCache>) -> ReplayChoice {
    match (settings.sentiment.analyst, cache) {
        (AnalystKind::Lexicon, _) | (_, None) => ReplayChoice::Lexicon(LexiconAnalyst::new()),
        (kind, Some(cache)) => ReplayChoice::Recorded(ReplayAnalyst::new(
            kind,
            settings.sentiment.llm.model_name(),
            cache.clone(),
        )),
    }
}

/// Logs what a replay found in the cache (nothing for the lexicon).
pub fn log_replay(analyst: &ReplayChoice, failures: u64) {
    if let Some(stats) = analyst.replay_stats() {
        info!(
            cache_hits = stats.hits,
            cached_rejections = stats.rejected,
            lexicon_fallbacks = stats.fallbacks,
            failures,
            "sentiment replayed from the analysis cache (misses scored by the lexicon)"
        );
    }
}
