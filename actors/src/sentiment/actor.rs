//! The sentiment actor: releases headlines as event time passes and analyses them.

use actix::prelude::*;
use tracing::{debug, info, info_span};

use super::{Analyst, SentimentCore, SentimentOutput};
use crate::fusion::actor::{FusionActor, News};
use crate::model::Timestamp;
use crate::runtime::Ticket;

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
    fusion: Addr<FusionActor>,
}

impl<A: Analyst + 'static> SentimentActor<A> {
    /// An actor around `core`, reporting to `fusion`.
    pub fn new(core: SentimentCore<A>, fusion: Addr<FusionActor>) -> Self {
        Self { core, fusion }
    }
}

impl<A: Analyst + Unpin + 'static> Actor for SentimentActor<A> {
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

impl<A: Analyst + Unpin + 'static> Handler<NewsTick> for SentimentActor<A> {
    type Result = ();

    fn handle(&mut self, msg: NewsTick, _: &mut Self::Context) {
        let outputs = self.core.advance_to(msg.now);
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
        self.fusion.do_send(News {
            outputs,
            ticket: msg.ticket,
        });
    }
}
