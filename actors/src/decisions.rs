//! How the fusion actor gets the `llm` strategy's answers: replayed from the decision cache
//! or asked of the provider (`record`), and the account the model is shown, as risk last
//! saw it.

use std::cell::RefCell;
use std::rc::Rc;

use keel_core::strategy::llm::{AccountFacts, Answer, LlmStats};
use keel_news::llm::{DecisionReplay, LlmSession, Replayed, SessionStats};
use keel_news::AnalystError;

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
