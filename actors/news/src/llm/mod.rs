//! Model-backed analysts: OpenAI-compatible chat completions and Anthropic messages. A model
//! is asked one of two questions:
//! - sentiment: how a window of headlines bears on a pair (an [`Analysis`](crate::Analysis));
//! - decision: what the `llm` trading strategy should do at one bar close, given keel's
//!   serialized decision context (a [`ModelDecision`](crate::model::ModelDecision)).
//!
//! Pure parts: the prompts ([`build_prompt`], [`build_decision_prompt`]), the reply contracts
//! ([`parse_reply`], [`parse_decision`]), the cache keys ([`CacheKey::new`],
//! [`CacheKey::of_decision`]) and the daily budget ([`DailyBudget`]); the circuit breaker is
//! `keel-supervision`'s, configured to open after `breaker_failures` failures in a row. The
//! HTTP client ([`ProviderClient`]) is async. Two ways to use them:
//! - `replay_only` (synchronous, cache only): [`ReplayAnalyst`] answers sentiment from the
//!   [`AnalysisCache`], a missing window scored by the lexicon and counted;
//!   [`DecisionReplay`] answers decisions, a missing one reported as such and counted.
//!   Backtests always run this way.
//! - `record` ([`LlmSession`]): cache misses of either question go to the provider, behind
//!   one breaker and one budget; every valid answer (and every rejected one) is cached, so a
//!   replay of the same input makes no HTTP call and reproduces the run.

mod budget;
mod cache;
mod cache_key;
mod decision_cache;
mod decision_prompt;
mod decision_replay;
mod decision_reply;
mod http;
mod prompt;
mod provider;
mod question;
mod replay;
mod reply;
mod session;
pub(crate) mod strict_json;

pub use budget::DailyBudget;
pub use cache::{AnalysisCache, CacheError, Verdict};
pub use cache_key::CacheKey;
pub use decision_cache::DecisionVerdict;
pub use decision_prompt::{build_decision_prompt, DECISION_PROMPT_VERSION, DECISION_SYSTEM_PROMPT};
pub use decision_replay::{DecisionReplay, DecisionReplayStats, Replayed};
pub use decision_reply::{
    check_decision, parse_decision, MAX_HORIZON_BARS, MAX_REASONS, MAX_REASON_CHARS,
};
pub use http::{
    strike_inside_request, ApiKey, MissingKey, ProviderClient, ProviderError, INSIDE_REQUEST,
};
pub use keel_core::llm_api::{AnalysisMode, AnalystKind, LlmConfig};
pub use prompt::{build_prompt, Prompt, PROMPT_VERSION, SYSTEM_PROMPT};
pub use provider::{read_completion, wire_request, Completion, WireRequest, ANTHROPIC_VERSION};
pub use replay::{ReplayAnalyst, ReplayChoice, ReplayStats};
pub use reply::{event_impact, parse_reply, severity_magnitude, ReplyError};
pub use session::{Begun, CallContext, LlmSession, PendingCall, SessionStats};

#[cfg(test)]
mod proptests;
