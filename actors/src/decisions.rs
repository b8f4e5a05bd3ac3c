//! How the fusion actor gets the `llm` strategy's answers: replayed from the decision cache
//! or asked of the provider (`record`), and the account the model is shown, as risk last
//! saw it.

use std::cell::RefCell;
use std::rc::Rc;

use keel_core::strategy::llm::{AccountFacts, Answer, LlmStats, SearchHit};
use keel_news::llm::{AnalysisCache, DecisionReplay, LlmSession, Replayed, SessionStats};
use keel_news::search::{SearchClient, SearchError};
use keel_news::AnalystError;
use tracing::warn;

/// The `llm` strategy's circuit breaker, by name in the health registry and supervision
/// events.
pub const LLM_STRATEGY_BREAKER: &str = "llm_strategy";

/// Where the `llm` strategy's answers come from in a run.
pub enum Decider {
    /// The decision cache only (`mode = "replay_only"`): a miss is a missing decision.
    Replay(DecisionReplay),
    /// The cache, then the provider (`mode = "record"`): a miss is asked and cached.
    Record(Box<LlmSession>),
}

impl Decider {
    /// Requests answered from the cache so far.
    pub fn cache_hits(&self) -> u64 {
        match self {
            Decider::Replay(replay) => replay.stats().hits,
            Decider::Record(session) => session.stats().cache_hits,
        }
    }
}

/// Where the `llm` strategy's web search results come from: the decision cache, and in a
/// `record` run the search API for what the cache lacks (each answer is cached, so a replay
/// shows the model the same results).
pub struct Searcher {
    cache: AnalysisCache,
    client: Option<SearchClient>,
}

impl Searcher {
    /// Results from `cache` only (a replay).
    pub fn replaying(cache: AnalysisCache) -> Self {
        Self {
            cache,
            client: None,
        }
    }

    /// Results from `cache`, else from `client` (a `record` run).
    pub fn recording(cache: AnalysisCache, client: SearchClient) -> Self {
        Self {
            cache,
            client: Some(client),
        }
    }

    /// The cached results of `query` up to `day`, if any.
    pub fn cached(&self, query: &str, day: &str) -> Option<Vec<SearchHit>> {
        match self.cache.get_search(query, day) {
            Ok(hits) => hits,
            Err(e) => {
                warn!(%query, %day, error = %e, "search cache entry unreadable: searching again");
                None
            }
        }
    }

    /// The search to await for what the cache lacks (none in a replay).
    pub fn search(
        &self,
        query: &str,
        day: &str,
    ) -> Option<impl std::future::Future<Output = Result<Vec<SearchHit>, SearchError>> + 'static>
    {
        self.client.as_ref().map(|client| client.search(query, day))
    }

    /// Caches what a search found; a failure is logged and not cached (the decision point
    /// is shown `search: null`, as its replay will be).
    pub fn remember(
        &self,
        query: &str,
        day: &str,
        result: Result<Vec<SearchHit>, SearchError>,
    ) -> Option<Vec<SearchHit>> {
        match result {
            Ok(hits) => {
                if let Err(e) = self.cache.put_search(query, day, &hits) {
                    warn!(%query, %day, error = %e, "could not cache the search results");
                }
                Some(hits)
            }
            Err(e) => {
                warn!(%query, %day, error = %e, "web search failed: the model decides without it");
                None
            }
        }
    }
}

/// What a replayed decision point is to the strategy.
pub fn replayed(replayed: Replayed) -> Answer {
    match replayed {
        Replayed::Answered(decision) => Answer::Decided(decision),
        Replayed::Rejected(reason) => Answer::Refused(reason),
        Replayed::Missing => Answer::Missing,
    }
}

/// What a recording session's result is to the strategy: a reply that broke the contract
/// is refused, any other failure (breaker open, budget spent, provider down) unavailable.
pub fn recorded(result: Result<keel_model::ModelDecision, AnalystError>) -> Answer {
    match result {
        Ok(decision) => Answer::Decided(decision),
        Err(AnalystError::InvalidOutput { reason, .. }) => Answer::Refused(reason),
        Err(e) => Answer::Unavailable(e.to_string()),
    }
}

/// The account as risk last saw it, shared by the risk actor (which writes it after every
/// change) and the fusion actor (which shows it to the model). Both run on one arbiter.
#[derive(Debug, Clone, Default)]
pub struct AccountWatch(Rc<RefCell<AccountFacts>>);

impl AccountWatch {
    /// Replaces what is seen.
    pub fn set(&self, facts: AccountFacts) {
        *self.0.borrow_mut() = facts;
    }

    /// The account now.
    pub fn get(&self) -> AccountFacts {
        self.0.borrow().clone()
    }
}

/// What the `llm` strategy did in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionSummary {
    /// The strategy's counts.
    pub stats: LlmStats,
    /// Answers taken from the decision cache.
    pub cache_hits: u64,
    /// The recording session's counters (`record` mode only).
    pub session: Option<SessionStats>,
    /// HTTP requests sent (retries included).
    pub http_requests: u64,
}
