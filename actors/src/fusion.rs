//! The fusion actor: the strategy stage (fusion, regime, baselines) between the symbol and
//! sentiment actors and risk.

use actix::prelude::*;
use tracing::{info, info_span};

use crate::messages::{Decide, News, SymbolUpdated};
use crate::runtime::{supervise, ActorHandle, Inbox, Rehydrate, RehydrateError, Respawn};
use keel_core::graph::Mode;
use keel_core::strategy::StrategyStage;

/// Fuses setups, sentiment, events and regime into decisions. After a crash it returns to
/// its checkpoint: the stage as it was after the last message handled.
pub struct FusionActor {
    stage: StrategyStage,
    checkpoint: StrategyStage,
    risk: Inbox<Decide>,
    supervision: ActorHandle,
}

impl FusionActor {
    /// An actor around `stage`, deciding for `risk`.
    pub fn new(stage: StrategyStage, risk: Inbox<Decide>, supervision: ActorHandle) -> Self {
        Self {
            checkpoint: stage.clone(),
            stage,
            risk,
            supervision,
        }
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
    fn respawn(&mut self) -> Self {
        Self::new(
            self.checkpoint.clone(),
            self.risk.clone(),
            self.supervision.clone(),
        )
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
        supervise(self, msg, ctx, |this, msg, _| {
            let decision = this.stage.on_update(&msg.candle, &msg.update, msg.mode);
            this.checkpoint = this.stage.clone();
            // Only traded candles reach risk and the order manager: in warm-up nothing is
            // decided, and recovered candles' effects were restored from the journal.
            if msg.mode != Mode::Trading {
                return;
            }
            this.risk.send(Decide {
                candle: msg.candle.clone(),
                atr: msg.update.values.atr,
                decision,
                born: msg.born,
                ticket: msg.ticket.clone(),
            });
        });
    }
}
