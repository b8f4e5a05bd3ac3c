//! Decisions replayed for backtests: answered from the cache only, synchronously, never from
//! the network (a [`DecisionReplay`] holds no client). A decision point the cache does not
//! hold is [`Replayed::Missing`], counted, for the strategy to treat as it chooses.

use tracing::warn;

use super::cache::AnalysisCache;
use super::cache_key::CacheKey;
use super::decision_cache::DecisionVerdict;
use crate::model::ModelDecision;
use keel_core::llm_api::AnalystKind;
use keel_core::strategy::llm::SearchHit;

/// What a replay found for one decision point.
#[derive(Debug, Clone, PartialEq)]
pub enum Replayed {
    /// The recorded decision.
    Answered(ModelDecision),
    /// The recording run's reply broke the contract (why): a failure, as it was then.
    Rejected(String),
    /// Not recorded (or unreadable).
    Missing,
}

/// What a decision replay found in the cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionReplayStats {
    /// Decision points found in the cache (rejections included).
    pub hits: u64,
    /// Cached rejections among the hits.
    pub rejected: u64,
    /// Decision points missing from the cache, or unreadable there.
    pub missing: u64,
}

/// Reads a provider's recorded decisions.
#[derive(Debug, Clone)]
pub struct DecisionReplay {
    name: String,
    provider: AnalystKind,
    model: String,
    cache: AnalysisCache,
    stats: DecisionReplayStats,
}

impl DecisionReplay {
    /// Replays what `provider`'s `model` decided, from `cache`.
    pub fn new(provider: AnalystKind, model: &str, cache: AnalysisCache) -> Self {
        Self {
            name: format!("{}:{model} (replay)", provider.name()),
            provider,
            model: model.to_string(),
            cache,
            stats: DecisionReplayStats::default(),
        }
    }

    /// The web search results the recording run cached for `query` up to `day` (none when
    /// it has none, or they are unreadable: the decision point is then shown none, as the
    /// recording run was when its search failed).
    pub fn searched(&self, query: &str, day: &str) -> Option<Vec<SearchHit>> {
        match self.cache.get_search(query, day) {
            Ok(hits) => hits,
            Err(e) => {
                warn!(analyst = %self.name, %query, %day, error = %e, "search cache entry unreadable: replayed as none");
                None
            }
        }
    }

    /// The recorded answer at the decision point `context_json` (the exact bytes the
    /// recording run sent).
    pub fn replay(&mut self, context_json: &str) -> Replayed {
        let key = CacheKey::of_decision(self.provider.name(), &self.model, context_json);
        match self.cache.get_decision(&key) {
            Ok(Some(DecisionVerdict::Accepted(decision))) => {
                self.stats.hits += 1;
                Replayed::Answered(decision)
            }
            Ok(Some(DecisionVerdict::Rejected(reason))) => {
                self.stats.hits += 1;
                self.stats.rejected += 1;
                Replayed::Rejected(reason)
            }
            Ok(None) => {
                self.stats.missing += 1;
                Replayed::Missing
            }
            Err(e) => {
                warn!(analyst = %self.name, %key, error = %e, "decision cache entry unreadable: replayed as missing");
                self.stats.missing += 1;
                Replayed::Missing
            }
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> &DecisionReplayStats {
        &self.stats
    }

    /// `provider:model (replay)`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Decimal, ModelAction};

    /// An exact decimal (keel-news has `rust_decimal` only through keel-model, so no `dec!`).
    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn hits_rejections_and_misses_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AnalysisCache::open(dir.path()).unwrap();
        let decision = ModelDecision {
            action: ModelAction::Sell,
            confidence: 0.8,
            stop: None,
            take_profit: Some(dec("101.25")),
            horizon_bars: None,
            reasons: vec!["momentum fading".into()],
        };
        let key = |context: &str| CacheKey::of_decision("openai", "m", context);
        cache
            .put_decision(
                &key("{\"t\":1}"),
                &DecisionVerdict::Accepted(decision.clone()),
            )
            .unwrap();
        cache
            .put_decision(
                &key("{\"t\":2}"),
                &DecisionVerdict::Rejected("prose".into()),
            )
            .unwrap();
        cache
            .decisions
            .insert(key("{\"t\":3}").as_bytes(), b"garbage".to_vec())
            .unwrap();

        let mut replay = DecisionReplay::new(AnalystKind::Openai, "m", cache.clone());
        assert_eq!(replay.replay("{\"t\":1}"), Replayed::Answered(decision));
        assert_eq!(
            replay.replay("{\"t\":2}"),
            Replayed::Rejected("prose".into())
        );
        assert_eq!(replay.replay("{\"t\":4}"), Replayed::Missing);
        assert_eq!(replay.replay("{\"t\":3}"), Replayed::Missing, "unreadable");
        // The exact bytes: the same JSON written differently was not recorded.
        assert_eq!(replay.replay("{\"t\": 1}"), Replayed::Missing);
        assert_eq!(
            replay.stats(),
            &DecisionReplayStats {
                hits: 2,
                rejected: 1,
                missing: 3
            }
        );
        // Another model's decisions are not this model's.
        let mut other = DecisionReplay::new(AnalystKind::Openai, "other", cache);
        assert_eq!(other.replay("{\"t\":1}"), Replayed::Missing);
        assert_eq!(other.clone().stats().missing, 1);
    }
}
