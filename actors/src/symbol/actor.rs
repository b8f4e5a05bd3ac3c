//! The symbol actor: one per symbol, a thin shell around [`SymbolCore`].

use std::time::Instant;

use actix::prelude::*;
use tracing::{debug, info_span};

use super::{SymbolCore, SymbolUpdate};
use crate::fusion::actor::{FusionActor, SymbolUpdated};
use crate::model::Candle;
use crate::runtime::{Mode, Ticket};

/// A closed candle for this symbol.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CandleClosed {
    /// The candle.
    pub candle: Candle,
    /// How the pipeline treats it.
    pub mode: Mode,
    /// When the candle entered the feed (latency measurement).
    pub born: Instant,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Indicators and setup scanning for one symbol.
pub struct SymbolActor {
    core: SymbolCore,
    fusion: Addr<FusionActor>,
}

impl SymbolActor {
    /// An actor around `core`, reporting to `fusion`.
    pub fn new(core: SymbolCore, fusion: Addr<FusionActor>) -> Self {
        Self { core, fusion }
    }
}

impl Actor for SymbolActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        tracing::info!(actor = "symbol", symbol = %self.core.symbol(), event = "started", "actor started");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!(actor = "symbol", symbol = %self.core.symbol(), event = "stopped", "actor stopped");
    }
}

impl Handler<CandleClosed> for SymbolActor {
    type Result = ();

    fn handle(&mut self, msg: CandleClosed, _: &mut Self::Context) {
        let _span = info_span!("actor", actor = "symbol", symbol = %msg.candle.symbol).entered();
        let Some(update): Option<SymbolUpdate> = self.core.on_candle(&msg.candle) else {
            debug!(open_time = %msg.candle.open_time, "stale or duplicate candle dropped");
            return;
        };
        self.fusion.do_send(SymbolUpdated {
            candle: msg.candle,
            update,
            mode: msg.mode,
            born: msg.born,
            ticket: msg.ticket,
        });
    }
}
