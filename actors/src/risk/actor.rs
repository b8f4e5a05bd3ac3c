//! The risk actor: sizes or refuses decisions against the account the order manager last
//! reported, and marks the account at every bar close.

use std::collections::BTreeMap;
use std::time::Instant;

use actix::prelude::*;
use tracing::{debug, info, info_span, warn};

use super::{PortfolioView, RiskStage};
use crate::model::{Candle, ClosedTrade, EquityPoint, Timestamp};
use crate::order_manager::actor::{Approved, Checkpoint, OrderManagerActor};
use crate::runtime::Ticket;
use crate::strategy::Decision;

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

/// Refusals counted by rule, for the run summary.
#[derive(Message)]
#[rtype(result = "BTreeMap<&'static str, u64>")]
pub struct RefusalCounts;

/// Risk limits and sizing.
pub struct RiskActor {
    stage: RiskStage,
    view: PortfolioView,
    om: Addr<OrderManagerActor>,
    refusals: BTreeMap<&'static str, u64>,
}

impl RiskActor {
    /// An actor around `stage`, approving for `om`, starting from the account `view`.
    pub fn new(stage: RiskStage, view: PortfolioView, om: Addr<OrderManagerActor>) -> Self {
        Self {
            stage,
            view,
            om,
            refusals: BTreeMap::new(),
        }
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
        let decision = &msg.decision;
        let approval = if decision.signal.is_some() || !decision.emergencies.is_empty() {
            self.stage.on_decision(decision, &self.view, false)
        } else {
            Default::default()
        };
        if let Some(refusal) = &approval.refusal {
            debug!(rule = refusal.rule.name(), detail = %refusal.detail, "signal refused");
            *self.refusals.entry(refusal.rule.name()).or_default() += 1;
        }
        if decision.vetoed.is_some() {
            *self.refusals.entry("event_veto").or_default() += 1;
        }
        if let Some(intent) = &approval.intent {
            info!(?intent, "intent approved");
        }
        self.om.do_send(Approved {
            candle: msg.candle,
            atr: msg.atr,
            approval,
            born: msg.born,
            ticket: msg.ticket,
        });
    }
}

impl Handler<PortfolioUpdated> for RiskActor {
    type Result = ();

    fn handle(&mut self, msg: PortfolioUpdated, _: &mut Self::Context) {
        self.stage.on_trades_closed(&msg.closed);
        self.view = msg.view;
    }
}

impl Handler<Mark> for RiskActor {
    type Result = ();

    fn handle(&mut self, msg: Mark, _: &mut Self::Context) {
        let (alert, flatten) = self.stage.on_mark(&self.view, msg.ts);
        if let Some(alert) = alert {
            warn!(actor = "risk", ?alert, ts = %msg.ts, "risk alert");
        }
        let snapshot = &self.view.snapshot;
        self.om.do_send(Checkpoint {
            point: EquityPoint {
                ts: msg.ts,
                equity: snapshot.equity,
                exposure: snapshot.gross_exposure(),
            },
            risk: self.stage.state().clone(),
            flatten,
            ticket: msg.ticket,
        });
    }
}

impl Handler<RefusalCounts> for RiskActor {
    type Result = MessageResult<RefusalCounts>;

    fn handle(&mut self, _: RefusalCounts, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.refusals.clone())
    }
}
