//! The `replay-only` analyst: answers from the cache, never from the network. A window the
//! cache does not hold is scored by the lexicon instead, and counted. Synchronous and
//! deterministic, so backtests and lockstep actor runs agree.

use tracing::warn;

use super::cache::{AnalysisCache, Verdict};
use super::cache_key::CacheKey;
use crate::model::Symbol;
use crate::{Analysis, Analyst, AnalystError, Headline, LexiconAnalyst};
use keel_core::llm_api::AnalystKind;

/// What a replay found in the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Windows answered from the cache.
    pub hits: u64,
    /// Cached rejections (counted as failures, as when they were recorded).
    pub rejected: u64,
    /// Windows missing from the cache, scored by the lexicon instead.
    pub fallbacks: u64,
}

/// Reads a provider's recorded analyses.
#[derive(Debug, Clone)]
pub struct ReplayAnalyst {
    name: String,
    provider: AnalystKind,
    model: String,
    cache: AnalysisCache,
    lexicon: LexiconAnalyst,
    stats: ReplayStats,
}

impl ReplayAnalyst {
    /// Replays what `provider`'s `model` answered, from `cache`.
    pub fn new(provider: AnalystKind, model: &str, cache: AnalysisCache) -> Self {
        Self {
            name: format!("{}:{model} (replay)", provider.name()),
            provider,
            model: model.to_string(),
            cache,
            lexicon: LexiconAnalyst::new(),
            stats: ReplayStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> ReplayStats {
        self.stats
    }

    fn fallback(
        &mut self,
        symbol: &Symbol,
        headlines: &[&Headline],
    ) -> Result<Analysis, AnalystError> {
        self.stats.fallbacks += 1;
        self.lexicon.analyze(symbol, headlines)
    }
}

impl Analyst for ReplayAnalyst {
    fn name(&self) -> &str {
        &self.name
    }

    fn analyze(
        &mut self,
        symbol: &Symbol,
        headlines: &[&Headline],
    ) -> Result<Analysis, AnalystError> {
        let key = CacheKey::new(self.provider.name(), &self.model, symbol, headlines);
        match self.cache.get(&key) {
            Ok(Some(Verdict::Accepted(analysis))) => {
                self.stats.hits += 1;
                Ok(analysis)
            }
            Ok(Some(Verdict::Rejected(reason))) => {
                self.stats.hits += 1;
                self.stats.rejected += 1;
                Err(AnalystError::InvalidOutput {
                    analyst: self.name.clone(),
                    reason,
                })
            }
            Ok(None) => self.fallback(symbol, headlines),
            Err(e) => {
                warn!(analyst = %self.name, error = %e, "analysis cache unreadable: lexicon fallback");
                self.fallback(symbol, headlines)
            }
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("cache_hits", self.stats.hits),
            ("cached_rejections", self.stats.rejected),
            ("lexicon_fallbacks", self.stats.fallbacks),
        ]
    }
}

/// The analyst a replay uses: the lexicon, or a provider's recorded analyses.
#[derive(Debug, Clone)]
pub enum ReplayChoice {
    /// The offline lexicon.
    Lexicon(LexiconAnalyst),
    /// Recorded analyses with the lexicon for misses.
    Recorded(ReplayAnalyst),
}

impl ReplayChoice {
    /// The replay analyst's counters, if it is one.
    pub fn replay_stats(&self) -> Option<ReplayStats> {
        match self {
            ReplayChoice::Lexicon(_) => None,
            ReplayChoice::Recorded(replay) => Some(replay.stats()),
        }
    }
}

impl Analyst for ReplayChoice {
    fn name(&self) -> &str {
        match self {
            ReplayChoice::Lexicon(a) => a.name(),
            ReplayChoice::Recorded(a) => a.name(),
        }
    }

    fn analyze(
        &mut self,
        symbol: &Symbol,
        headlines: &[&Headline],
    ) -> Result<Analysis, AnalystError> {
        match self {
            ReplayChoice::Lexicon(a) => a.analyze(symbol, headlines),
            ReplayChoice::Recorded(a) => a.analyze(symbol, headlines),
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        match self {
            ReplayChoice::Lexicon(a) => a.counters(),
            ReplayChoice::Recorded(a) => a.counters(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    #[test]
    fn hits_rejections_and_lexicon_fallbacks() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AnalysisCache::open(dir.path()).unwrap();
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let headline = |title: &str| Headline {
            published: Timestamp(1000),
            title: title.into(),
            source: "s".into(),
            symbols: vec![btc.clone()],
        };
        let (known, refused, unknown) = (
            headline("Bitcoin calm"),
            headline("Bitcoin odd"),
            headline("Bitcoin soars to record high"),
        );
        let recorded = Analysis {
            score: 0.4,
            confidence: 0.7,
            events: vec![],
        };
        let key = |h: &Headline| CacheKey::new("openai", "m", &btc, &[h]);
        cache
            .put(&key(&known), &Verdict::Accepted(recorded.clone()))
            .unwrap();
        cache
            .put(&key(&refused), &Verdict::Rejected("prose".into()))
            .unwrap();

        let mut replay = ReplayAnalyst::new(AnalystKind::Openai, "m", cache.clone());
        assert_eq!(replay.analyze(&btc, &[&known]).unwrap(), recorded);
        let err = replay.analyze(&btc, &[&refused]).unwrap_err();
        assert!(matches!(err, AnalystError::InvalidOutput { reason, .. } if reason == "prose"));
        let fallback = replay.analyze(&btc, &[&unknown]).unwrap();
        let lexicon = LexiconAnalyst::new().analyze(&btc, &[&unknown]).unwrap();
        assert_eq!(fallback, lexicon);
        assert!(fallback.score > 0.0);
        assert_eq!(
            replay.stats(),
            ReplayStats {
                hits: 2,
                rejected: 1,
                fallbacks: 1
            }
        );
        // Another model's answers are not this model's.
        let mut other = ReplayAnalyst::new(AnalystKind::Openai, "other-model", cache);
        other.analyze(&btc, &[&known]).unwrap();
        assert_eq!(other.stats().fallbacks, 1);
    }
}
