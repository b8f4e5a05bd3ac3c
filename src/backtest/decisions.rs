//! The `llm` strategy in a backtest: its decisions replayed from the cache (never a
//! request, no API key), and what the run summary says of them.

use keel_core::strategy::StrategyKind;
use keel_news::llm::{AnalysisCache, DecisionReplay};
use tracing::{info, warn};

use super::LlmReport;
use crate::settings::Settings;

/// The replay of an `llm` strategy's decisions from `cache` (none for the other strategies,
/// or without a cache: every decision point is then missing).
pub fn decision_replay(
    settings: &Settings,
    cache: Option<&AnalysisCache>,
) -> Option<DecisionReplay> {
    if settings.strategy.kind != StrategyKind::Llm {
        return None;
    }
    let cfg = &settings.strategy.llm;
    cache.map(|cache| DecisionReplay::new(cfg.provider, cfg.api.model_name(), cache.clone()))
}

/// Logs what the `llm` strategy did: a warning when decision points went unanswered.
pub fn log_llm_report(report: &LlmReport) {
    let s = &report.stats;
    info!(
        decision_points = s.decision_points,
        decisions = s.decisions,
        buys = s.buys,
        sells = s.sells,
        holds = s.holds,
        cache_hits = report.cache_hits,
        http_requests = report.http_requests,
        tokens = report.tokens,
        "llm strategy"
    );
    let unanswered = s.failures + s.unavailable + s.missing;
    if unanswered > 0 {
        warn!(
            failures = s.failures,
            unavailable = s.unavailable,
            missing = s.missing,
            fallbacks = s.fallbacks,
            "llm strategy: {unanswered} of {} decision points had no valid model answer (a hold, or fusion's decision with fallback = \"fusion\")",
            s.decision_points
        );
    }
}
