//! The symbol actor: one per symbol, a thin shell around [`SymbolCore`]. After a crash it
//! rebuilds its indicators from its last snapshot and the candles it handled since (its
//! upstream history), so a restart replays at most [`SNAPSHOT_EVERY`] candles.

use actix::prelude::*;
use tracing::{debug, info_span};

use crate::messages::{CandleClosed, SymbolUpdated};
use crate::model::Candle;
use crate::runtime::{
    supervise, ActorHandle, Inbox, PoisonPolicy, Rehydrate, RehydrateError, Respawn,
};
use keel_core::symbol::SymbolCore;

/// Candles between two snapshots of a symbol actor's core: a restart replays at most this
/// many, and a snapshot (a clone of the core) is taken once per this many candles.
pub const SNAPSHOT_EVERY: usize = 32;

/// Indicators and setup scanning for one symbol.
pub struct SymbolActor {
    core: SymbolCore,
    /// The core as it was before the candles in `since`.
    snapshot: SymbolCore,
    /// The candles handled since `snapshot`, in order.
    since: Vec<Candle>,
    fusion: Inbox<SymbolUpdated>,
    supervision: ActorHandle,
}

impl SymbolActor {
    /// An actor around `core` (fresh), reporting to `fusion`.
    pub fn new(core: SymbolCore, fusion: Inbox<SymbolUpdated>, supervision: ActorHandle) -> Self {
        Self {
            snapshot: core.clone(),
            core,
            since: Vec::with_capacity(SNAPSHOT_EVERY),
            fusion,
            supervision,
        }
    }
}

impl Rehydrate for SymbolActor {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        let mut core = self.snapshot.clone();
        for candle in &self.since {
            let _ = core.on_candle(candle);
        }
        self.core = core;
        Ok(())
    }

    /// A candle that cannot be handled is skipped: the series goes on with the next one.
    fn poison_policy(&self) -> PoisonPolicy {
        PoisonPolicy::Skip
    }
}

impl Respawn for SymbolActor {
    /// The snapshot and the candles since are the checkpoint.
    fn respawn(&mut self) -> Self {
        Self {
            core: self.snapshot.clone(),
            snapshot: self.snapshot.clone(),
            since: std::mem::take(&mut self.since),
            fusion: self.fusion.clone(),
            supervision: self.supervision.clone(),
        }
    }
}

impl Actor for SymbolActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.arm(ctx);
        tracing::info!(actor = "symbol", symbol = %self.core.symbol(), event = "started", "actor started");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!(actor = "symbol", symbol = %self.core.symbol(), event = "stopped", "actor stopped");
    }
}

impl Handler<CandleClosed> for SymbolActor {
    type Result = ();

    fn handle(&mut self, msg: CandleClosed, ctx: &mut Self::Context) {
        let _span = info_span!("actor", actor = "symbol", symbol = %msg.candle.symbol).entered();
        supervise(self, msg, ctx, |this, msg, _| {
            let update = this.core.on_candle(&msg.candle);
            let Some(update) = update else {
                debug!(open_time = %msg.candle.open_time, "stale or duplicate candle dropped");
                return;
            };
            fail::fail_point!("symbol.after_update");
            this.fusion.send(SymbolUpdated {
                candle: msg.candle.clone(),
                update,
                mode: msg.mode,
                born: msg.born,
                ticket: msg.ticket.clone(),
            });
            // Last: a failure before this point rebuilds the core without the candle, and
            // its redelivery is handled in full.
            this.since.push(msg.candle.clone());
            if this.since.len() >= SNAPSHOT_EVERY {
                this.snapshot = this.core.clone();
                this.since.clear();
            }
        });
    }
}
