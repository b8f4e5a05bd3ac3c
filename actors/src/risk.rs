//! The risk actor: sizes or refuses decisions against the account the order manager last
//! reported, and marks the account at every bar close.

use std::collections::BTreeMap;
use std::time::Instant;

use actix::prelude::*;
use tracing::{info, info_span, warn};

use crate::model::{Candle, ClosedTrade, Timestamp};
use crate::order_manager::{Approved, Checkpoint, OrderManagerActor};
use crate::runtime::{contain, ActorHandle, Outbox, Rehydrate, RehydrateError, Ticket};
use keel_core::risk::RiskState;
use keel_core::risk::{PortfolioView, RiskStage};
use keel_core::strategy::Decision;

/// A decision from fusion for one candle.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Decide {
    /// The candle decided on.
    pub candle: Candle,
    /// ATR at its close.
    pub atr: Option<f64>,
    /// What fusion concluded.
    pub decision: Decision,
    /// When the candle entered the feed (latency measurement).
    pub born: Instant,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// The order manager's account after a change, and the round trips that closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PortfolioUpdated {
    /// The account.
    pub view: PortfolioView,
    /// Round trips closed since the last update.
    pub closed: Vec<ClosedTrade>,
}

/// Every candle of the close `ts` has been processed: mark the account.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Mark {
    /// The bar close.
    pub ts: Timestamp,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// The venue's circuit breaker opened (`reduce_only`) or closed again: while open, only
/// risk-reducing intents pass.
#[derive(Message)]
#[rtype(result = "()")]
pub struct VenueHealth {
    /// True while the venue's breaker is open.
    pub reduce_only: bool,
}

/// Refusals counted by rule, for the run summary.
#[derive(Message)]
#[rtype(result = "BTreeMap<&'static str, u64>")]
pub struct RefusalCounts;

/// Risk limits and sizing.
pub struct RiskActor {
    stage: RiskStage,
    view: PortfolioView,
    om: Outbox<OrderManagerActor>,
    reduce_only: bool,
    /// Risk's memory after the last message handled, and how to build a stage around it.
    last_good: RiskState,
    rebuild: Box<dyn Fn(RiskState) -> RiskStage>,
    supervision: ActorHandle,
}

impl RiskActor {
    /// An actor around `stage`, approving for `om`, starting from the account `view`;
    /// `rebuild` makes a stage around a saved state (after a crash).
    pub fn new(
        stage: RiskStage,
        view: PortfolioView,
        om: Outbox<OrderManagerActor>,
        rebuild: Box<dyn Fn(RiskState) -> RiskStage>,
        supervision: ActorHandle,
    ) -> Self {
        Self {
            last_good: stage.state().clone(),
            stage,
            view,
            om,
            reduce_only: false,
            rebuild,
            supervision,
        }
    }
}

impl Rehydrate for RiskActor {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    /// The view is only ever replaced whole, so it survives; the stage is rebuilt around the
    /// risk state of the last message handled.
    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        let refusals = self.stage.refusals().clone();
        self.stage = (self.rebuild)(self.last_good.clone());
        self.stage.keep_refusals(refusals);
        Ok(())
    }
}

impl Actor for RiskActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        info!(
            actor = "risk",
            event = "started",
            kill_switch = self.stage.state().kill_switch.is_some(),
            "actor started"
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!(actor = "risk", event = "stopped", "actor stopped");
    }
}

impl Handler<Decide> for RiskActor {
    type Result = ();

    fn handle(&mut self, msg: Decide, _: &mut Self::Context) {
        let _span = info_span!("actor", actor = "risk", symbol = %msg.candle.symbol).entered();
        contain(self, |this| {
            let view = &this.view;
            let approval = this
                .stage
                .on_decision(&msg.decision, || view, this.reduce_only);
            this.om.send(Approved {
                candle: msg.candle.clone(),
                atr: msg.atr,
                approval,
                born: msg.born,
                ticket: msg.ticket.clone(),
            });
        });
    }
}

impl Handler<PortfolioUpdated> for RiskActor {
    type Result = ();

    fn handle(&mut self, msg: PortfolioUpdated, _: &mut Self::Context) {
        contain(self, |this| {
            if !msg.closed.is_empty() {
                this.stage.on_trades_closed(&msg.closed);
                this.last_good = this.stage.state().clone();
            }
            this.view = msg.view.clone();
        });
    }
}

impl Handler<Mark> for RiskActor {
    type Result = ();

    fn handle(&mut self, msg: Mark, _: &mut Self::Context) {
        contain(self, |this| {
            let marked = this.stage.on_mark(&this.view, msg.ts);
            this.last_good = this.stage.state().clone();
            this.om.send(Checkpoint {
                point: marked.point,
                risk: this.last_good.clone(),
                flatten: marked.flatten,
                ticket: msg.ticket.clone(),
            });
        });
    }
}

impl Handler<VenueHealth> for RiskActor {
    type Result = ();

    fn handle(&mut self, msg: VenueHealth, _: &mut Self::Context) {
        if msg.reduce_only != self.reduce_only {
            warn!(
                actor = "risk",
                reduce_only = msg.reduce_only,
                "venue breaker changed: reduce-only mode {}",
                if msg.reduce_only { "on" } else { "off" }
            );
        }
        self.reduce_only = msg.reduce_only;
    }
}

impl Handler<RefusalCounts> for RiskActor {
    type Result = MessageResult<RefusalCounts>;

    fn handle(&mut self, _: RefusalCounts, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.stage.refusals().clone())
    }
}
