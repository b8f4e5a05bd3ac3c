//! The `record` path: cache first, then the breaker and the budget, then the provider; every
//! answer is validated, cached and accounted. The state is plain and synchronous; only the
//! HTTP call in between is a future, so an actor can run it while holding its step's ticket.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use keel_supervision::{BreakerConfig, BreakerState, CircuitBreaker, Permit, Transition};
use tracing::{info, warn};

use super::budget::DailyBudget;
use super::cache::{AnalysisCache, CacheError, Verdict};
use super::cache_key::CacheKey;
use super::config::{AnalystKind, LlmConfig};
use super::http::{ProviderClient, ProviderError};
use super::prompt::build_prompt;
use super::provider::Completion;
use super::reply::parse_reply;
use crate::model::{Clock, EventInstants, Symbol, Timestamp};
use crate::{Analysis, AnalystError, Headline};

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

/// What [`LlmSession::finish`] needs of a call besides its answer.
pub struct CallContext {
    /// The cache key the answer will be stored under.
    pub key: CacheKey,
    /// How many headlines the request holds (to check event indices).
    pub headlines: usize,
    /// The breaker's leave for this call.
    permit: Permit,
}

/// The provider call of one request, to be awaited (by anyone) and handed to
/// [`LlmSession::finish`] with its context.
pub struct PendingCall {
    /// What the answer is finished with.
    pub context: CallContext,
    /// The HTTP exchange (with its retries).
    pub reply: Pin<Box<dyn Future<Output = Result<Completion, ProviderError>>>>,
}

/// The first step of one request.
pub enum Begun {
    /// Answered without the network: a cache hit, or a refusal (breaker open, budget spent).
    Ready(Result<Analysis, AnalystError>),
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

    fn unavailable(&self, reason: String) -> AnalystError {
        AnalystError::Unavailable {
            analyst: self.name.clone(),
            reason,
        }
    }

    /// When an open breaker lets a trial through, as event time.
    fn open_until(&mut self, now: Timestamp) -> Timestamp {
        let at = self.instants.at(now);
        now.plus_ms(self.breaker.open_for(at).as_millis() as i64)
    }

    /// Logs a breaker change (`reason`: what caused it) and keeps it for the actor.
    fn log(&mut self, now: Timestamp, transition: Option<Transition>, reason: &str) {
        let Some(transition) = transition else { return };
        match transition.to {
            BreakerState::Open => {
                let until = self.open_until(now);
                warn!(
                    analyst = %self.name, %until, %reason,
                    "LLM analyst circuit open: fusion runs technical-only until it recovers"
                )
            }
            BreakerState::HalfOpen => {
                info!(analyst = %self.name, "LLM analyst circuit half-open: one trial request")
            }
            BreakerState::Closed => {
                info!(analyst = %self.name, "LLM analyst circuit closed: sentiment is back")
            }
        }
        self.transitions.push(transition);
    }

    /// Opens the breaker until UTC midnight if the day's token budget is spent.
    fn check_budget(&mut self, now: Timestamp) {
        if !self.budget.exhausted(now) {
            return;
        }
        let reason = format!(
            "daily token budget of {} spent (sentiment.llm.daily_token_budget)",
            self.budget.limit()
        );
        let span = DailyBudget::refills_at(now)
            .millis()
            .saturating_sub(now.millis());
        let at = self.instants.at(now);
        let transition = self
            .breaker
            .force_open(at, std::time::Duration::from_millis(span.max(0) as u64));
        self.log(now, transition, &reason);
    }

    /// Starts the analysis of `headlines` about `symbol`: from the cache, refused by the
    /// breaker or the budget, or as a provider call to await.
    pub fn begin(&mut self, symbol: &Symbol, headlines: &[&Headline]) -> Begun {
        let key = self.key(symbol, headlines);
        match self.cache.get(&key) {
            Ok(Some(verdict)) => {
                self.stats.cache_hits += 1;
                return Begun::Ready(match verdict {
                    Verdict::Accepted(analysis) => Ok(analysis),
                    Verdict::Rejected(reason) => Err(AnalystError::InvalidOutput {
                        analyst: self.name.clone(),
                        reason,
                    }),
                });
            }
            Ok(None) => {}
            Err(e) => {
                warn!(analyst = %self.name, error = %e, "analysis cache unreadable: asking the provider")
            }
        }
        let now = self.clock.now();
        self.check_budget(now);
        let at = self.instants.at(now);
        match self.breaker.allow(at) {
            Err(refused) => {
                self.log(now, refused.transition, "the trial request never answered");
                self.stats.refused += 1;
                let until = now.plus_ms(refused.retry_in.as_millis() as i64);
                Begun::Ready(Err(self.unavailable(format!("circuit open until {until}"))))
            }
            Ok(permit) => {
                self.log(now, permit.transition(), "cool-down over");
                self.stats.calls += 1;
                let prompt = build_prompt(symbol, headlines);
                Begun::Call(PendingCall {
                    context: CallContext {
                        key,
                        headlines: headlines.len(),
                        permit,
                    },
                    reply: Box::pin(self.client.complete(prompt)),
                })
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
        let CallContext {
            key,
            headlines,
            permit,
        } = call;
        let now = self.clock.now();
        let at = self.instants.at(now);
        let completion = match reply {
            Ok(completion) => completion,
            Err(e) => {
                self.stats.failed += 1;
                let transition = self.breaker.on_failure(permit, at);
                self.log(now, transition, &e.to_string());
                warn!(analyst = %self.name, error = %e, "LLM request failed: no sentiment from it");
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
        let verdict = match parse_reply(&completion.text, headlines) {
            Ok(analysis) => Verdict::Accepted(analysis),
            Err(e) if completion.cut_off => {
                Verdict::Rejected(format!("{e} (cut off at sentiment.llm.max_tokens)"))
            }
            Err(e) => Verdict::Rejected(e.to_string()),
        };
        if let Err(e) = self.cache.put(&key, &verdict) {
            warn!(analyst = %self.name, error = %e, "could not cache the analysis");
        }
        let result = match verdict {
            Verdict::Accepted(analysis) => {
                self.stats.accepted += 1;
                let transition = self.breaker.on_success(permit, at);
                self.log(now, transition, "a valid reply");
                Ok(analysis)
            }
            Verdict::Rejected(reason) => {
                self.stats.rejected += 1;
                warn!(analyst = %self.name, %key, %reason, "LLM reply refused: counted, never a signal");
                let transition = self.breaker.on_failure(permit, at);
                self.log(now, transition, &reason);
                Err(AnalystError::InvalidOutput {
                    analyst: self.name.clone(),
                    reason,
                })
            }
        };
        self.check_budget(now);
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

    /// The provider this session asks.
    pub fn provider(&self) -> AnalystKind {
        self.client.kind()
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
