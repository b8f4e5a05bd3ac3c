//! Model-backed analysts: OpenAI-compatible chat completions and Anthropic messages.
//!
//! Pure parts: the prompt ([`build_prompt`]), the reply contract ([`parse_reply`]), the
//! cache key ([`CacheKey`]) and the daily budget ([`DailyBudget`]); the circuit breaker is
//! `keel-supervision`'s, configured to open after `breaker_failures` failures in a row. The
//! HTTP client ([`ProviderClient`]) is async. Two ways to use them:
//! - `replay_only` ([`ReplayAnalyst`], synchronous): answers from the [`AnalysisCache`]; a
//!   missing window is scored by the lexicon and counted. Backtests always run this way.
//! - `record` ([`LlmSession`]): cache misses go to the provider, behind the breaker and the
//!   budget; every valid answer (and every rejected one) is cached, so a replay of the same
//!   input makes no HTTP call and reproduces the run.

mod budget;
mod cache;
mod cache_key;
mod config;
mod http;
mod prompt;
mod provider;
mod replay;
mod reply;
mod session;
pub(crate) mod strict_json;

pub use budget::DailyBudget;
pub use cache::{AnalysisCache, CacheError, Verdict};
pub use cache_key::CacheKey;
pub use config::{AnalysisMode, AnalystKind, LlmConfig};
pub use http::{
    strike_inside_request, ApiKey, MissingKey, ProviderClient, ProviderError, INSIDE_REQUEST,
};
pub use prompt::{build_prompt, Prompt, PROMPT_VERSION, SYSTEM_PROMPT};
pub use provider::{read_completion, wire_request, Completion, WireRequest, ANTHROPIC_VERSION};
pub use replay::{ReplayAnalyst, ReplayChoice, ReplayStats};
pub use reply::{event_impact, parse_reply, severity_magnitude, ReplyError};
pub use session::{Begun, CallContext, LlmSession, PendingCall, SessionStats};

#[cfg(test)]
mod proptests;
