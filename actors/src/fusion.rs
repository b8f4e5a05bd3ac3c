//! The fusion actor: the strategy stage (fusion, regime, baselines, the `llm` strategy)
//! between the symbol and sentiment actors and risk.
//!
//! For the `llm` strategy a decision point waits for its answer: from the decision cache at
//! once, or from the provider while the step's [`Ticket`](crate::runtime::Ticket) is held,
//! so a lockstep feed waits for it and the decision reaches risk before the next candle, as
//! in a backtest.

use actix::prelude::*;
use tracing::{info, info_span};

use crate::decisions::{
    recorded, replayed, AccountWatch, Decider, DecisionSummary, Searcher, LLM_STRATEGY_BREAKER,
};
use crate::messages::{Decide, News, SummarizeDecisions, SymbolUpdated};
use crate::runtime::{answer, supervise, ActorHandle, Inbox, Rehydrate, RehydrateError, Respawn};
use keel_core::graph::Mode;
use keel_core::strategy::llm::Answer;
use keel_core::strategy::{Decision, StrategyStage};
use keel_news::llm::{Begun, ProviderError};
use keel_news::search::SearchError;

/// Fuses setups, sentiment, events and regime into decisions. After a crash it returns to
/// its checkpoint: the stage as it was after the last message handled.
pub struct FusionActor {
    stage: StrategyStage,
    checkpoint: StrategyStage,
    risk: Inbox<Decide>,
    decider: Option<Decider>,
    searcher: Option<Searcher>,
    account: AccountWatch,
    supervision: ActorHandle,
}

impl FusionActor {
    /// An actor around `stage`, deciding for `risk`.
    pub fn new(stage: StrategyStage, risk: Inbox<Decide>, supervision: ActorHandle) -> Self {
        Self {
            checkpoint: stage.clone(),
            stage,
            risk,
            decider: None,
            searcher: None,
            account: AccountWatch::default(),
            supervision,
        }
    }

    /// Answers the `llm` strategy's decision points from `decider`, showing the model the
    /// account `account` holds (risk's view) and what `searcher` finds, if searching.
    pub fn deciding(
        mut self,
        decider: Decider,
        searcher: Option<Searcher>,
        account: AccountWatch,
    ) -> Self {
        self.searcher = searcher;
        if matches!(decider, Decider::Record(_)) {
            self.supervision.register_breaker(LLM_STRATEGY_BREAKER);
        }
        self.decider = Some(decider);
        self.account = account;
        self
    }

    /// Reports the model breaker's state changes to the supervision tree (log and health).
    fn report_breaker(&mut self) {
        if let Some(Decider::Record(session)) = self.decider.as_mut() {
            for transition in session.take_transitions() {
                self.supervision
                    .breaker_changed(LLM_STRATEGY_BREAKER, &transition);
            }
        }
    }

    /// Sends a traded candle's decision to risk.
    fn send(&self, msg: &SymbolUpdated, decision: Decision) {
        self.risk.send(Decide {
            candle: msg.candle.clone(),
            atr: msg.update.values.atr,
            decision,
            born: msg.born,
            ticket: msg.ticket.clone(),
        });
    }
}

impl Rehydrate for FusionActor {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        self.stage = self.checkpoint.clone();
        Ok(())
    }
}

impl Respawn for FusionActor {
    /// The stage's checkpoint; the decider (its cache, budget and breaker) and the account
    /// watch are dependencies and pass to the successor.
    fn respawn(&mut self) -> Self {
        Self {
            decider: self.decider.take(),
            searcher: self.searcher.take(),
            account: self.account.clone(),
            ..Self::new(
                self.checkpoint.clone(),
                self.risk.clone(),
                self.supervision.clone(),
            )
        }
    }
}

impl Actor for FusionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.arm(ctx);
        info!(
            actor = "fusion",
            strategy = self.stage.kind().name(),
            event = "started",
            "actor started"
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!(actor = "fusion", event = "stopped", "actor stopped");
    }
}

impl Handler<News> for FusionActor {
    type Result = ();

    fn handle(&mut self, msg: News, ctx: &mut Self::Context) {
        supervise(self, msg, ctx, |this, msg, _| {
            this.stage.on_news(&msg.outputs);
            this.checkpoint = this.stage.clone();
        });
    }
}

impl Handler<SymbolUpdated> for FusionActor {
    type Result = ();

    fn handle(&mut self, msg: SymbolUpdated, ctx: &mut Self::Context) {
        let _span = info_span!("actor", actor = "fusion", symbol = %msg.candle.symbol).entered();
        supervise(self, msg, ctx, |this, msg, ctx| {
            let mut decision = this.stage.on_update(&msg.candle, &msg.update, msg.mode);
            this.checkpoint = this.stage.clone();
            // Only traded candles reach risk and the order manager: in warm-up nothing is
            // decided, and recovered candles' effects were restored from the journal.
            if msg.mode != Mode::Trading {
                return;
            }
            let Some(ask) = decision.ask.as_mut() else {
                this.send(msg, decision);
                return;
            };
            ask.see_account(&this.account.get());
            let search = ask.search().map(|(q, d)| (q.to_string(), d.to_string()));
            let Some((query, day)) = search else {
                this.ask_model(msg.clone(), decision, ctx);
                return;
            };
            let searcher = this.searcher.as_ref();
            if let Some(hits) = searcher.and_then(|s| s.cached(&query, &day)) {
                see_search(&mut decision, Some(hits));
                this.ask_model(msg.clone(), decision, ctx);
                return;
            }
            let Some(search) = searcher.and_then(|s| s.search(&query, &day)) else {
                see_search(&mut decision, None);
                this.ask_model(msg.clone(), decision, ctx);
                return;
            };
            // The step's ticket stays held (in `msg`) until the model has answered.
            let msg = msg.clone();
            ctx.spawn(
                actix::spawn(search)
                    .into_actor(&*this)
                    .map(move |result, act, ctx| {
                        let result = result.unwrap_or_else(|e| {
                            Err(SearchError::Connection(format!(
                                "the search task failed: {e}"
                            )))
                        });
                        let hits = act
                            .searcher
                            .as_ref()
                            .and_then(|s| s.remember(&query, &day, result));
                        see_search(&mut decision, hits);
                        act.ask_model(msg, decision, ctx);
                    }),
            );
        });
    }
}

/// Adds a search's results to the decision's question.
fn see_search(decision: &mut Decision, hits: Option<Vec<keel_core::strategy::llm::SearchHit>>) {
    if let Some(ask) = decision.ask.as_mut() {
        ask.see_search(hits);
    }
}

impl FusionActor {
    /// Answers the decision's question (from the cache, or from the provider while the
    /// step's ticket in `msg` is held) and sends the decision to risk.
    fn ask_model(&mut self, msg: SymbolUpdated, decision: Decision, ctx: &mut Context<Self>) {
        let Some(ask) = decision.ask.as_ref() else {
            self.send(&msg, decision);
            return;
        };
        let context = ask.context.to_json();
        let answer = match self.decider.as_mut() {
            None => Answer::Missing,
            Some(Decider::Replay(replay)) => replayed(replay.replay(&context)),
            Some(Decider::Record(session)) => match session.begin_decision(&context) {
                Begun::Ready(result) => recorded(result),
                Begun::Call(call) => {
                    self.report_breaker();
                    let reply = actix::spawn(call.reply);
                    let reply = async move {
                        reply.await.unwrap_or_else(|e| {
                            Err(ProviderError::Connect(format!(
                                "the request task failed: {e}"
                            )))
                        })
                    };
                    let context = call.context;
                    ctx.spawn(reply.into_actor(&*self).map(move |reply, act, _| {
                        let result = match act.decider.as_mut() {
                            Some(Decider::Record(session)) => {
                                session.finish_decision(context, reply)
                            }
                            _ => Err(keel_news::AnalystError::Unavailable {
                                analyst: "llm".into(),
                                reason: "the recording session is gone".into(),
                            }),
                        };
                        act.answered(&msg, decision, recorded(result));
                    }));
                    return;
                }
            },
        };
        self.answered(&msg, decision, answer);
    }

    /// Hands the answer to the strategy and the decision to risk; the operator's board gets
    /// the counts.
    fn answered(&mut self, msg: &SymbolUpdated, mut decision: Decision, answer: Answer) {
        self.report_breaker();
        self.stage.on_answer(&mut decision, answer);
        self.checkpoint = self.stage.clone();
        self.send(msg, decision);
        self.supervision.board().publish_decisions(self.summary());
    }

    /// What the `llm` strategy has decided so far.
    fn summary(&self) -> DecisionSummary {
        let session = match &self.decider {
            Some(Decider::Record(session)) => Some(session),
            _ => None,
        };
        DecisionSummary {
            stats: self.stage.llm_stats().cloned().unwrap_or_default(),
            cache_hits: self.decider.as_ref().map_or(0, Decider::cache_hits),
            session: session.map(|s| s.stats().clone()),
            http_requests: session.map_or(0, |s| s.http_requests()),
        }
    }
}

impl Handler<SummarizeDecisions> for FusionActor {
    type Result = Option<DecisionSummary>;

    fn handle(&mut self, msg: SummarizeDecisions, _: &mut Self::Context) -> Self::Result {
        answer(self, &msg, |this| this.summary())
    }
}
