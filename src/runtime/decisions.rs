//! The `llm` strategy's side of `keel run`: where its answers come from (the decision cache,
//! or the provider in `record` mode), and what it did.

use std::sync::Arc;

use keel_actors::decisions::{Decider, DecisionSummary, Searcher};
use keel_core::strategy::StrategyKind;
use keel_model::SystemClock;
use keel_news::llm::{
    AnalysisCache, AnalysisMode, ApiKey, DecisionReplay, LlmSession, ProviderClient,
};
use keel_news::search::SearchClient;
use tracing::info;

use crate::backtest::LlmReport;
use crate::settings::Settings;

/// The decider of an `llm` strategy over `cache` (none for the other strategies). Fails when
/// recording and the API key variable is named but unset.
pub(super) fn decider(
    settings: &Settings,
    cache: Option<&AnalysisCache>,
) -> anyhow::Result<Option<Decider>> {
    if settings.strategy.kind != StrategyKind::Llm {
        return Ok(None);
    }
    let cfg = &settings.strategy.llm;
    let cache = match (cache, cfg.mode) {
        (Some(cache), _) => cache,
        // A replay of a cache that does not exist: every decision point is missing.
        (None, AnalysisMode::ReplayOnly) => return Ok(None),
        (None, AnalysisMode::Record) => anyhow::bail!("the decision cache was not opened"),
    };
    if cfg.mode != AnalysisMode::Record {
        info!(cache = %cache.path().display(), decisions = cache.decisions(), "llm strategy: decisions replayed from the cache only (strategy.llm.mode = \"replay_only\")");
        return Ok(Some(Decider::Replay(DecisionReplay::new(
            cfg.provider,
            cfg.api.model_name(),
            cache.clone(),
        ))));
    }
    let key = ApiKey::from_env(cfg.api.api_key_env.as_deref())?;
    let client = ProviderClient::new(cfg.provider, &cfg.api, key)?;
    let session = LlmSession::new(client, &cfg.api, cache.clone(), Arc::new(SystemClock))?;
    info!(
        model = session.name(),
        base_url = %cfg.api.base_url_for(cfg.provider),
        cache = %cache.path().display(),
        budget = cfg.api.daily_token_budget,
        "llm strategy recording: decision points missing from the cache are asked of the provider"
    );
    Ok(Some(Decider::Record(Box::new(session))))
}

/// The web search of an `llm` strategy with `[strategy.llm.search]` (none otherwise): the
/// cache only in a replay, the search API too when recording. Fails when recording and the
/// search key variable is named but unset.
pub(super) fn searcher(
    settings: &Settings,
    cache: Option<&AnalysisCache>,
) -> anyhow::Result<Option<Searcher>> {
    let cfg = &settings.strategy.llm;
    if settings.strategy.kind != StrategyKind::Llm || !cfg.search.enabled() {
        return Ok(None);
    }
    let Some(cache) = cache.cloned() else {
        // No cache to replay: the decider finds every decision point missing.
        return Ok(None);
    };
    if cfg.mode != AnalysisMode::Record {
        return Ok(Some(Searcher::replaying(cache)));
    }
    let key = ApiKey::from_env(cfg.search.api_key_env.as_deref())?;
    let client = SearchClient::new(&cfg.search, key)?;
    info!(base_url = cfg.search.base_url.as_deref().unwrap_or_default(), query = %cfg.search.query, "llm strategy: web search results join each decision's context");
    Ok(Some(Searcher::recording(cache, client)))
}

/// What the run summary and `report.json` say of the `llm` strategy.
pub(super) fn report_of(summary: &DecisionSummary) -> LlmReport {
    LlmReport {
        stats: summary.stats.clone(),
        cache_hits: summary.cache_hits,
        http_requests: summary.http_requests,
        tokens: summary.session.as_ref().map_or(0, |s| s.tokens),
    }
}
