//! The sentiment side of `keel run`: the `record` session of a model analyst and the news
//! feed poller.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use keel_actors::messages::{NewHeadlines, SentimentSummary};
use keel_actors::runtime::{Inbox, Supervision, NEWS_POLLER};
use keel_actors::sentiment::poller::{spawn_poller, FeedPoller};
use keel_model::{Symbol, SystemClock};
use keel_news::llm::{
    AnalysisCache, AnalysisMode, AnalystKind, ApiKey, LlmSession, ProviderClient,
};
use keel_news::SymbolTagger;
use tracing::info;

use crate::settings::Settings;

/// The `record` session when the analyst is a model in `record` mode (none otherwise).
/// Fails when the API key variable is named but unset.
pub(super) fn recording_session(
    settings: &Settings,
    cache: Option<&AnalysisCache>,
) -> anyhow::Result<Option<LlmSession>> {
    let cfg = &settings.sentiment;
    if cfg.analyst == AnalystKind::Lexicon || cfg.mode != AnalysisMode::Record {
        return Ok(None);
    }
    let cache = cache.context("the analysis cache was not opened")?;
    let key = ApiKey::from_env(cfg.llm.api_key_env.as_deref())?;
    let client = ProviderClient::new(cfg.analyst, &cfg.llm, key)?;
    let session = LlmSession::new(client, &cfg.llm, cache.clone(), Arc::new(SystemClock))?;
    info!(
        analyst = session.name(),
        base_url = %cfg.llm.base_url_for(cfg.analyst),
        cache = %cache.path().display(),
        budget = cfg.llm.daily_token_budget,
        "recording: cache misses are sent to the provider"
    );
    Ok(Some(session))
}

/// Starts polling `sentiment.feeds`, if any.
pub(super) fn start_feed_poller(
    settings: &Settings,
    symbols: &[Symbol],
    sentiment: Inbox<NewHeadlines>,
    supervision: &Supervision,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let cfg = &settings.sentiment;
    if cfg.feeds.is_empty() {
        return Ok(None);
    }
    let tagger = SymbolTagger::new(symbols, &cfg.aliases);
    let timeout = Duration::from_secs(cfg.poll_secs.min(30));
    let poller = FeedPoller::new(&cfg.feeds, tagger, timeout)?;
    info!(
        feeds = cfg.feeds.len(),
        every_secs = cfg.poll_secs,
        record = ?cfg.record_headlines,
        "polling news feeds"
    );
    Ok(Some(spawn_poller(
        poller,
        Duration::from_secs(cfg.poll_secs),
        Box::new(SystemClock),
        sentiment,
        cfg.record_headlines.clone(),
        supervision.register(NEWS_POLLER),
    )))
}

/// Logs what the sentiment actor did.
pub(super) fn log_sentiment_summary(summary: &SentimentSummary) {
    let counters: Vec<String> = summary
        .counters
        .iter()
        .map(|(name, n)| format!("{name}={n}"))
        .collect();
    match &summary.session {
        Some(s) => info!(
            analyst = %summary.analyst,
            cache_hits = s.cache_hits,
            calls = s.calls,
            http_requests = summary.http_requests,
            accepted = s.accepted,
            rejected = s.rejected,
            failed = s.failed,
            refused_by_breaker = s.refused,
            tokens = s.tokens,
            failures = summary.failures,
            "sentiment summary"
        ),
        None => info!(
            analyst = %summary.analyst,
            failures = summary.failures,
            counters = %counters.join(" "),
            "sentiment summary"
        ),
    }
}
