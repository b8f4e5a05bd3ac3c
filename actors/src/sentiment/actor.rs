//! The sentiment actor: releases headlines as event time passes and analyses them.
//!
//! With a synchronous analyst (the lexicon, or recorded analyses replayed from the cache) a
//! step is answered at once. In `record` mode an [`LlmSession`] answers: cache hits at once,
//! misses over HTTP. The requests of a step run concurrently while the step's [`Ticket`] is
//! held, so a lockstep feed waits for them and the news reaches fusion before the candle it
//! precedes, exactly as in a backtest. Steps are delivered to fusion in the order they came.

use std::collections::BTreeMap;

use actix::prelude::*;
use tracing::{debug, info, info_span};

use crate::board::LlmView;
use crate::messages::{NewHeadlines, News, NewsTick, SentimentSummary, Summarize};
use crate::model::{SentimentOutput, Timestamp};
use crate::runtime::{
    answer, supervise, ActorHandle, Inbox, Rehydrate, RehydrateError, Respawn, Ticket,
};
use keel_news::llm::{Begun, LlmSession, ProviderError};
use keel_news::{Analysis, AnalysisJob, Analyst, AnalystError, Headline, SentimentCore};

/// The model's circuit breaker, by name in the health registry and supervision events.
pub const LLM_BREAKER: &str = "llm";

/// One step's jobs with their answers, waiting for its turn to reach fusion.
struct Answered {
    items: Vec<(AnalysisJob, Result<Analysis, AnalystError>)>,
    ticket: Ticket,
}

/// The analyst over a replayed or live headline stream. After a crash it rebuilds its core
/// by replaying the headline stream up to the last tick it handled (the releases are
/// deterministic); the recording session and the steps in flight are kept.
pub struct SentimentActor<A: Analyst + Clone + 'static> {
    core: SentimentCore<A>,
    fresh: SentimentCore<A>,
    added: Vec<Headline>,
    last_now: Option<Timestamp>,
    fusion: Inbox<News>,
    session: Option<LlmSession>,
    next_step: u64,
    next_delivery: u64,
    answered: BTreeMap<u64, Answered>,
    supervision: ActorHandle,
}

impl<A: Analyst + Clone + 'static> SentimentActor<A> {
    /// An actor around `core` (its analyst answers every window), reporting to `fusion`.
    pub fn new(core: SentimentCore<A>, fusion: Inbox<News>, supervision: ActorHandle) -> Self {
        Self {
            fresh: core.clone(),
            core,
            added: Vec::new(),
            last_now: None,
            fusion,
            session: None,
            next_step: 0,
            next_delivery: 0,
            answered: BTreeMap::new(),
            supervision,
        }
    }

    /// An actor whose windows are answered by `session` (`record` mode); the core's own
    /// analyst is not asked.
    pub fn recording(
        core: SentimentCore<A>,
        fusion: Inbox<News>,
        session: LlmSession,
        supervision: ActorHandle,
    ) -> Self {
        supervision.register_breaker(LLM_BREAKER);
        Self {
            session: Some(session),
            ..Self::new(core, fusion, supervision)
        }
    }

    /// Reports the model breaker's state changes to the supervision tree (log and health).
    fn report_breaker(&mut self) {
        if let Some(session) = self.session.as_mut() {
            for transition in session.take_transitions() {
                self.supervision.breaker_changed(LLM_BREAKER, &transition);
            }
        }
    }

    /// Copies the model session's counters to the operator's board.
    fn publish_llm(&self) {
        if let Some(session) = &self.session {
            let stats = session.stats();
            self.supervision.board().publish_llm(LlmView {
                calls: stats.calls,
                http_requests: session.http_requests(),
                cache_hits: stats.cache_hits,
                accepted: stats.accepted,
                rejected: stats.rejected,
                failed: stats.failed,
                refused: stats.refused,
                tokens: stats.tokens,
            });
        }
    }

    /// Sends every answered step whose predecessors are all delivered.
    fn deliver(&mut self) {
        self.publish_llm();
        while let Some(step) = self.answered.remove(&self.next_delivery) {
            self.next_delivery += 1;
            let mut outputs = Vec::new();
            for (job, result) in step.items {
                self.core.finish(job, result, &mut outputs);
            }
            if outputs.is_empty() {
                continue;
            }
            log_outputs(&outputs);
            self.fusion.send(News {
                outputs,
                ticket: step.ticket,
            });
        }
    }
}

impl<A: Analyst + Clone + 'static> Rehydrate for SentimentActor<A> {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        let mut core = self.fresh.clone();
        core.add_headlines(self.added.clone());
        if let Some(now) = self.last_now {
            // Only the release cursor matters: the analyses were delivered already.
            let _ = core.release(now);
        }
        self.core = core;
        Ok(())
    }
}

fn log_outputs(outputs: &[SentimentOutput]) {
    let _span = info_span!("actor", actor = "sentiment", symbol = "*").entered();
    keel_news::log_outputs(outputs);
}

impl<A: Analyst + Clone + Unpin + 'static> Respawn for SentimentActor<A> {
    /// The core before any headline, the headlines added and the release cursor are the
    /// checkpoint; the model session (its cache, budget and breaker) is the dependency's and
    /// passes to the successor.
    fn respawn(&mut self) -> Self {
        Self {
            core: self.fresh.clone(),
            fresh: self.fresh.clone(),
            added: std::mem::take(&mut self.added),
            last_now: self.last_now,
            fusion: self.fusion.clone(),
            session: self.session.take(),
            next_step: self.next_step,
            next_delivery: self.next_delivery,
            answered: BTreeMap::new(),
            supervision: self.supervision.clone(),
        }
    }

    /// Model answers of a step are awaited.
    fn busy(&self) -> bool {
        self.next_delivery < self.next_step
    }
}

impl<A: Analyst + Clone + Unpin + 'static> Actor for SentimentActor<A> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.arm(ctx);
        let analyst = match &self.session {
            Some(session) => session.name().to_string(),
            None => self.core.analyst_name().to_string(),
        };
        info!(
            actor = "sentiment",
            analyst,
            recording = self.session.is_some(),
            pending = self.core.pending(),
            event = "started",
            "actor started"
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        info!(actor = "sentiment", event = "stopped", "actor stopped");
    }
}

impl<A: Analyst + Clone + Unpin + 'static> Handler<NewsTick> for SentimentActor<A> {
    type Result = ();

    fn handle(&mut self, msg: NewsTick, ctx: &mut Self::Context) {
        supervise(self, msg, ctx, |this, msg, ctx| {
            let step = this.next_step;
            this.next_step += 1;
            let Some(session) = this.session.as_mut() else {
                let outputs = this.core.advance_to(msg.now);
                this.last_now = Some(msg.now);
                if !outputs.is_empty() {
                    log_outputs(&outputs);
                    this.fusion.send(News {
                        outputs,
                        ticket: msg.ticket.clone(),
                    });
                }
                this.next_delivery = this.next_step;
                return;
            };
            let jobs = this.core.release(msg.now);
            this.last_now = Some(msg.now);
            let mut ready = Vec::with_capacity(jobs.len());
            let mut calls = Vec::new();
            for job in jobs {
                let window = this.core.window(&job);
                match session.begin(&job.symbol, &window) {
                    Begun::Ready(result) => ready.push((job, Some(result))),
                    Begun::Call(call) => {
                        // Start every call of the step now, so that they run concurrently.
                        let handle = actix::spawn(call.reply);
                        calls.push((ready.len(), call.context, handle));
                        ready.push((job, None));
                    }
                }
            }
            this.report_breaker();
            if calls.is_empty() {
                let items = ready
                    .into_iter()
                    .map(|(job, result)| (job, result.unwrap_or_else(|| Ok(Analysis::neutral()))))
                    .collect();
                this.answered.insert(
                    step,
                    Answered {
                        items,
                        ticket: msg.ticket.clone(),
                    },
                );
                this.deliver();
                return;
            }
            let ticket = msg.ticket.clone();
            let replies = async move {
                let mut replies = Vec::with_capacity(calls.len());
                for (slot, context, handle) in calls {
                    let reply = handle.await.unwrap_or_else(|e| {
                        Err(ProviderError::Connect(format!(
                            "the request task failed: {e}"
                        )))
                    });
                    replies.push((slot, context, reply));
                }
                replies
            };
            ctx.spawn(replies.into_actor(&*this).map(move |replies, act, _| {
                let mut ready = ready;
                if let Some(session) = act.session.as_mut() {
                    for (slot, context, reply) in replies {
                        ready[slot].1 = Some(session.finish(context, reply));
                    }
                }
                act.report_breaker();
                let items = ready
                    .into_iter()
                    .map(|(job, result)| {
                        let result = result.unwrap_or_else(|| {
                            Err(AnalystError::Unavailable {
                                analyst: "llm".into(),
                                reason: "no answer".into(),
                            })
                        });
                        (job, result)
                    })
                    .collect();
                act.answered.insert(step, Answered { items, ticket });
                act.deliver();
            }));
        });
    }
}

impl<A: Analyst + Clone + Unpin + 'static> Handler<NewHeadlines> for SentimentActor<A> {
    type Result = ();

    fn handle(&mut self, msg: NewHeadlines, ctx: &mut Self::Context) {
        debug!(headlines = msg.0.len(), "headlines received");
        supervise(self, msg, ctx, |this, msg, _| {
            this.core.add_headlines(msg.0.clone());
            // Last: a restart before this point rebuilds the core without them.
            this.added.extend(msg.0.iter().cloned());
        });
    }
}

impl<A: Analyst + Clone + Unpin + 'static> Handler<Summarize> for SentimentActor<A> {
    type Result = Option<SentimentSummary>;

    fn handle(&mut self, msg: Summarize, _: &mut Self::Context) -> Self::Result {
        answer(self, &msg, |this| SentimentSummary {
            analyst: match &this.session {
                Some(session) => session.name().to_string(),
                None => this.core.analyst_name().to_string(),
            },
            failures: this.core.failures(),
            counters: this.core.analyst().counters(),
            session: this.session.as_ref().map(|s| s.stats().clone()),
            http_requests: this.session.as_ref().map_or(0, |s| s.http_requests()),
        })
    }
}
