//! The `record` path: cache first, then the breaker and the budget, then the provider; every
//! answer is validated, cached and accounted. Two questions take that one path: sentiment
//! analyses ([`LlmSession::begin`]) and the `llm` strategy's decisions
//! ([`LlmSession::begin_decision`]). keel gives each its own session (its own provider
//! settings, cache, breaker and budget). The state is plain and synchronous; only the HTTP
//! call in between is a future, so an actor can run it while holding its step's ticket.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use keel_supervision::{BreakerConfig, BreakerState, CircuitBreaker, Permit, Transition};
use tracing::{info, warn};

use super::budget::DailyBudget;
use super::cache::{AnalysisCache, CacheError, Verdict};
use super::cache_key::CacheKey;
use super::decision_cache::DecisionVerdict;
use super::decision_prompt::build_decision_prompt;
use super::decision_reply::parse_decision;
use super::http::{ProviderClient, ProviderError};
use super::prompt::{build_prompt, Prompt};
use super::provider::Completion;
use super::question::{Question, Recorded};
use super::reply::{parse_reply, ReplyError};
use crate::model::{Clock, EventInstants, ModelDecision, Symbol, Timestamp};
use crate::{Analysis, AnalystError, Headline};
use keel_core::llm_api::{AnalystKind, LlmConfig};

/// What the session did, for the run summary and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Requests answered from the cache.
    pub cache_hits: u64,
    /// Requests sent to the provider (each may take several HTTP attempts).
    pub calls: u64,
    /// Replies that were valid analyses.
    pub accepted: u64,
    /// Replies that broke the contract (cached as rejected).
    pub rejected: u64,
    /// Calls that got no reply (HTTP errors, timeouts, after the retries).
    pub failed: u64,
    /// Requests refused at once because the breaker was open.
    pub refused: u64,
    /// Tokens spent in this run.
    pub tokens: u64,
}

/// What [`LlmSession::finish`] (or [`LlmSession::finish_decision`]) needs of a call besides
/// its answer.
pub struct CallContext {
    /// The cache key the answer will be stored under.
    pub key: CacheKey,
    /// How many headlines the request holds (to check event indices; 0 for a decision).
    pub headlines: usize,
    /// What was asked: a call is finished only as the question it asked.
    question: Question,
    /// The breaker's leave for this call.
    permit: Permit,
}

/// The provider call of one request, to be awaited (by anyone) and handed to
/// [`LlmSession::finish`] (or [`LlmSession::finish_decision`]) with its context.
pub struct PendingCall {
    /// What the answer is finished with.
    pub context: CallContext,
    /// The HTTP exchange (with its retries).
    pub reply: Pin<Box<dyn Future<Output = Result<Completion, ProviderError>>>>,
}

/// The first step of one request: of an [`Analysis`] by default, of a [`ModelDecision`] from
/// [`LlmSession::begin_decision`].
pub enum Begun<T = Analysis> {
    /// Answered without the network: a cache hit, or a refusal (breaker open, budget spent).
    Ready(Result<T, AnalystError>),
    /// The provider must be asked.
    Call(PendingCall),
}

/// A model-backed analyst in `record` mode.
pub struct LlmSession {
    name: String,
    client: ProviderClient,
    cache: AnalysisCache,
    breaker: CircuitBreaker,
    instants: EventInstants,
    /// Breaker changes not yet taken by the actor (for the health registry).
    transitions: Vec<Transition>,
    budget: DailyBudget,
    clock: Arc<dyn Clock>,
    stats: SessionStats,
}

impl LlmSession {
    /// A session over `cache`, asking through `client`, configured by `cfg` (validated).
    /// Today's spending is restored from the cache. `clock` is the wall clock in a run.
    pub fn new(
        client: ProviderClient,
        cfg: &LlmConfig,
        cache: AnalysisCache,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CacheError> {
        let provider = client.kind().name();
        let budget = match cache.spending(provider)? {
            Some((day, used)) => DailyBudget::restored(cfg.daily_token_budget, day, used),
            None => DailyBudget::new(cfg.daily_token_budget),
        };
        Ok(Self {
            name: format!("{provider}:{}", client.model()),
            breaker: CircuitBreaker::new(BreakerConfig::consecutive(
                cfg.breaker_failures,
                (cfg.breaker_cooldown_secs * 1000.0).round() as u64,
            )),
            instants: EventInstants::default(),
            transitions: Vec::new(),
            client,
            cache,
            budget,
            clock,
            stats: SessionStats::default(),
        })
    }

    /// `provider:model`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The counters so far.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// HTTP requests sent (every attempt, retries included).
    pub fn http_requests(&self) -> u64 {
        self.client.requests()
    }

    /// The breaker (`keel-supervision`'s, opening after `breaker_failures` failures in a row).
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The breaker's state changes since the last call, oldest first.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.transitions)
    }

    /// The cache key of a request.
    pub fn key(&self, symbol: &Symbol, headlines: &[&Headline]) -> CacheKey {
        CacheKey::new(
            self.client.kind().name(),
            self.client.model(),
            symbol,
            headlines,
        )
    }

    /// The cache key of a decision request.
    pub fn decision_key(&self, context_json: &str) -> CacheKey {
        CacheKey::of_decision(self.client.kind().name(), self.client.model(), context_json)
    }

    fn unavailable(&self, reason: String) -> AnalystError {
        AnalystError::Unavailable {
            analyst: self.name.clone(),
            reason,
        }
    }

    fn invalid(&self, reason: String) -> AnalystError {
        AnalystError::InvalidOutput {
            analyst: self.name.clone(),
            reason,
        }
    }

    /// When an open breaker lets a trial through, as event time.
    fn open_until(&mut self, now: Timestamp) -> Timestamp {
        let at = self.instants.at(now);
        now.plus_ms(self.breaker.open_for(at).as_millis() as i64)
    }

    /// Logs a breaker change (`reason`: what caused it, during a `question` request) and
    /// keeps it for the actor. The breaker is the session's, whichever question moved it.
    fn log(
        &mut self,
        now: Timestamp,
        transition: Option<Transition>,
        reason: &str,
        question: Question,
    ) {
        let Some(transition) = transition else { return };
        match (transition.to, question) {
            (BreakerState::Open, Question::Sentiment) => {
                let until = self.open_until(now);
                warn!(
                    analyst = %self.name, %until, %reason, %question,
                    "LLM analyst circuit open: fusion runs technical-only until it recovers"
                )
            }
            (BreakerState::Open, Question::Decision) => {
                let until = self.open_until(now);
                warn!(
                    analyst = %self.name, %until, %reason, %question,
                    "LLM decision circuit open: no model decisions until it recovers"
                )
            }
            (BreakerState::HalfOpen, Question::Sentiment) => {
                info!(analyst = %self.name, %question, "LLM analyst circuit half-open: one trial request")
            }
            (BreakerState::HalfOpen, Question::Decision) => {
                info!(analyst = %self.name, %question, "LLM decision circuit half-open: one trial request")
            }
            (BreakerState::Closed, Question::Sentiment) => {
                info!(analyst = %self.name, %question, "LLM analyst circuit closed: sentiment is back")
            }
            (BreakerState::Closed, Question::Decision) => {
                info!(analyst = %self.name, %question, "LLM decision circuit closed: model decisions are back")
            }
        }
        self.transitions.push(transition);
    }

    /// Opens the breaker until UTC midnight if the day's token budget is spent.
    fn check_budget(&mut self, now: Timestamp, question: Question) {
        if !self.budget.exhausted(now) {
            return;
        }
        let reason = format!(
            "daily token budget of {} spent ({}.daily_token_budget)",
            self.budget.limit(),
            question.section()
        );
        let span = DailyBudget::refills_at(now)
            .millis()
            .saturating_sub(now.millis());
        let at = self.instants.at(now);
        let transition = self
            .breaker
            .force_open(at, std::time::Duration::from_millis(span.max(0) as u64));
        self.log(now, transition, &reason, question);
    }

    /// Starts the analysis of `headlines` about `symbol`: from the cache, refused by the
    /// breaker or the budget, or as a provider call to await.
    pub fn begin(&mut self, symbol: &Symbol, headlines: &[&Headline]) -> Begun {
        let key = self.key(symbol, headlines);
        self.start::<Verdict>(key, headlines.len(), || build_prompt(symbol, headlines))
    }

    /// Starts the decision at the decision point `context_json` (keel's serialized context,
    /// used byte for byte): from the cache, refused by the breaker or the budget, or as a
    /// provider call to await and hand to [`Self::finish_decision`].
    pub fn begin_decision(&mut self, context_json: &str) -> Begun<ModelDecision> {
        let key = self.decision_key(context_json);
        self.start::<DecisionVerdict>(key, 0, || build_decision_prompt(context_json))
    }

    /// The one way in for both questions: the cached verdict, else admission (budget, then
    /// breaker), else the provider call of `prompt`.
    fn start<V: Recorded>(
        &mut self,
        key: CacheKey,
        headlines: usize,
        prompt: impl FnOnce() -> Prompt,
    ) -> Begun<V::Answer> {
        let question = V::QUESTION;
        match V::read(&self.cache, &key) {
            Ok(Some(verdict)) => {
                self.stats.cache_hits += 1;
                return Begun::Ready(verdict.into_result().map_err(|r| self.invalid(r)));
            }
            Ok(None) => {}
            Err(e) => {
                warn!(analyst = %self.name, %question, error = %e, "analysis cache unreadable: asking the provider")
            }
        }
        match self.admit(question) {
            Err(refused) => Begun::Ready(Err(refused)),
            Ok(permit) => Begun::Call(PendingCall {
                context: CallContext {
                    key,
                    headlines,
                    question,
                    permit,
                },
                reply: Box::pin(self.client.complete(prompt())),
            }),
        }
    }

    /// Admission of a call: the budget, then the breaker's leave (counted as a call), or the
    /// refusal (counted).
    fn admit(&mut self, question: Question) -> Result<Permit, AnalystError> {
        let now = self.clock.now();
        self.check_budget(now, question);
        let at = self.instants.at(now);
        match self.breaker.allow(at) {
            Err(refused) => {
                self.log(
                    now,
                    refused.transition,
                    "the trial request never answered",
                    question,
                );
                self.stats.refused += 1;
                let until = now.plus_ms(refused.retry_in.as_millis() as i64);
                Err(self.unavailable(format!("circuit open until {until}")))
            }
            Ok(permit) => {
                self.log(now, permit.transition(), "cool-down over", question);
                self.stats.calls += 1;
                Ok(permit)
            }
        }
    }

    /// Ends a provider call: validates the reply, caches the verdict, spends the tokens and
    /// moves the breaker. Returns the analysis, or the counted failure.
    pub fn finish(
        &mut self,
        call: CallContext,
        reply: Result<Completion, ProviderError>,
    ) -> Result<Analysis, AnalystError> {
        let headlines = call.headlines;
        self.settle::<Verdict>(call, reply, |text| parse_reply(text, headlines))
    }

    /// Ends a decision's provider call (from [`Self::begin_decision`]) as [`Self::finish`]
    /// ends an analysis: validated by [`parse_decision`], cached (a rejection too), accounted.
    pub fn finish_decision(
        &mut self,
        call: CallContext,
        reply: Result<Completion, ProviderError>,
    ) -> Result<ModelDecision, AnalystError> {
        self.settle::<DecisionVerdict>(call, reply, parse_decision)
    }

    /// The one way out for both questions: failure accounting, token spending, validation,
    /// the cached verdict, the breaker's success or failure, the logs.
    fn settle<V: Recorded>(
        &mut self,
        call: CallContext,
        reply: Result<Completion, ProviderError>,
        parse: impl FnOnce(&str) -> Result<V::Answer, ReplyError>,
    ) -> Result<V::Answer, AnalystError> {
        let CallContext {
            key,
            question,
            permit,
            ..
        } = call;
        let now = self.clock.now();
        let at = self.instants.at(now);
        let completion = match reply {
            Ok(completion) => completion,
            Err(e) => {
                self.stats.failed += 1;
                let transition = self.breaker.on_failure(permit, at);
                self.log(now, transition, &e.to_string(), question);
                match question {
                    Question::Sentiment => {
                        warn!(analyst = %self.name, error = %e, "LLM request failed: no sentiment from it")
                    }
                    Question::Decision => {
                        warn!(analyst = %self.name, error = %e, "LLM decision request failed: no decision from it")
                    }
                }
                return Err(self.unavailable(e.to_string()));
            }
        };
        self.stats.tokens = self.stats.tokens.saturating_add(completion.tokens);
        let used = self.budget.charge(now, completion.tokens);
        if let Err(e) = self
            .cache
            .set_spending(self.client.kind().name(), self.budget.day(), used)
        {
            warn!(analyst = %self.name, error = %e, "could not record the token spending");
        }
        if question != V::QUESTION {
            // A caller's mistake: the answer is not cached under the other question's tree.
            self.stats.failed += 1;
            let reason = format!("a {question} call was finished as a {}", V::QUESTION);
            let transition = self.breaker.on_failure(permit, at);
            self.log(now, transition, &reason, question);
            warn!(analyst = %self.name, %key, %reason, "LLM call finished as the wrong question");
            return Err(self.unavailable(reason));
        }
        let verdict = match parse(&completion.text) {
            Ok(answer) => V::accepted(answer),
            Err(e) if completion.cut_off => V::rejected(format!(
                "{e} (cut off at {}.max_tokens)",
                question.section()
            )),
            Err(e) => V::rejected(e.to_string()),
        };
        if let Err(e) = verdict.write(&self.cache, &key) {
            warn!(analyst = %self.name, %question, error = %e, "could not cache the {question} verdict");
        }
        let result = match verdict.into_result() {
            Ok(answer) => {
                self.stats.accepted += 1;
                let transition = self.breaker.on_success(permit, at);
                self.log(now, transition, "a valid reply", question);
                Ok(answer)
            }
            Err(reason) => {
                self.stats.rejected += 1;
                match question {
                    Question::Sentiment => {
                        warn!(analyst = %self.name, %key, %reason, "LLM reply refused: counted, never a signal")
                    }
                    Question::Decision => {
                        warn!(analyst = %self.name, %key, %reason, "LLM decision reply refused: counted, never a trade")
                    }
                }
                let transition = self.breaker.on_failure(permit, at);
                self.log(now, transition, &reason, question);
                Err(self.invalid(reason))
            }
        };
        self.check_budget(now, question);
        result
    }

    /// [`Self::begin`], the provider call, [`Self::finish`]: one whole analysis.
    pub async fn analyze(
        &mut self,
        symbol: &Symbol,
        headlines: &[&Headline],
    ) -> Result<Analysis, AnalystError> {
        match self.begin(symbol, headlines) {
            Begun::Ready(result) => result,
            Begun::Call(call) => {
                let reply = call.reply.await;
                self.finish(call.context, reply)
            }
        }
    }

    /// [`Self::begin_decision`], the provider call, [`Self::finish_decision`]: one whole
    /// decision.
    pub async fn decide(&mut self, context_json: &str) -> Result<ModelDecision, AnalystError> {
        match self.begin_decision(context_json) {
            Begun::Ready(result) => result,
            Begun::Call(call) => {
                let reply = call.reply.await;
                self.finish_decision(call.context, reply)
            }
        }
    }

    /// The provider this session asks.
    pub fn provider(&self) -> AnalystKind {
        self.client.kind()
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "session_decision_tests.rs"]
mod decision_tests;
