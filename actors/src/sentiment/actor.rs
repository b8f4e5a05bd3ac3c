//! The sentiment actor: releases headlines as event time passes and analyses them.

use actix::prelude::*;
use tracing::{debug, info, info_span};

use super::{Analyst, SentimentCore, SentimentOutput};
use crate::fusion::actor::{FusionActor, News};
use crate::model::Timestamp;
use crate::runtime::{contain, ActorHandle, Rehydrate, Ticket};

/// Event time has reached `now`: release and analyse the headlines published until then.
#[derive(Message)]
#[rtype(result = "()")]
pub struct NewsTick {
    /// The current event time.
    pub now: Timestamp,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// The analyst over a replayed or live headline stream.
pub struct SentimentActor<A: Analyst + 'static> {
    core: SentimentCore<A>,
    fresh: SentimentCore<A>,
    last_now: Option<Timestamp>,
    fusion: Addr<FusionActor>,
    supervision: ActorHandle,
}

impl<A: Analyst + Clone + 'static> SentimentActor<A> {
    /// An actor around `core` (fresh), reporting to `fusion`.
    pub fn new(
        core: SentimentCore<A>,
        fusion: Addr<FusionActor>,
        supervision: ActorHandle,
    ) -> Self {
        Self {
            fresh: core.clone(),
            core,
            last_now: None,
            fusion,
            supervision,
        }
    }
}

impl<A: Analyst + Clone + 'static> Rehydrate for SentimentActor<A> {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    /// Replays the headline stream up to the last tick handled: the analyst is deterministic.
    fn rehydrate(&mut self) -> Result<(), String> {
        let mut core = self.fresh.clone();
        if let Some(now) = self.last_now {
            let _ = core.advance_to(now);
        }
        self.core = core;
        Ok(())
    }
}

impl<A: Analyst + Clone + Unpin + 'static> Actor for SentimentActor<A> {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        info!(
            actor = "sentiment",
            analyst = self.core.analyst_name(),
            pending = self.core.pending(),
            event = "started",
            "actor started"
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!(actor = "sentiment", event = "stopped", "actor stopped");
    }
}

impl<A: Analyst + Clone + Unpin + 'static> Handler<NewsTick> for SentimentActor<A> {
    type Result = ();

    fn handle(&mut self, msg: NewsTick, _: &mut Self::Context) {
        contain(self, |this| {
            let outputs = this.core.advance_to(msg.now);
            this.last_now = Some(msg.now);
            if outputs.is_empty() {
                return;
            }
            let _span = info_span!("actor", actor = "sentiment", symbol = "*").entered();
            for output in &outputs {
                match output {
                    SentimentOutput::Update(u) => {
                        debug!(symbol = %u.symbol, score = u.score, confidence = u.confidence, "sentiment")
                    }
                    SentimentOutput::Event(e) => {
                        info!(symbol = %e.symbol, kind = ?e.kind, severity = ?e.severity, headline = %e.headline, "market event")
                    }
                }
            }
            this.fusion.do_send(News {
                outputs,
                ticket: msg.ticket.clone(),
            });
        });
    }
}
