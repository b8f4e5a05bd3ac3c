//! The risk actor: sizes or refuses decisions against the account the order manager last
//! reported, and marks the account at every bar close.

use actix::prelude::*;
use tracing::{error, info, info_span, warn};

use crate::board::{RiskView, ACCOUNT_EVERY};
use crate::messages::{
    AccountChange, Approved, Checkpoint, Decide, Mark, Operate, PortfolioUpdated, RefusalCounts,
    VenueHealth,
};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::decisions::AccountWatch;
use crate::runtime::{answer, supervise, ActorHandle, Inbox, Rehydrate, RehydrateError, Respawn};
use keel_core::risk::{Conditions, PortfolioView, RiskStage, RiskState};
use keel_model::MarketClock;

/// Risk limits and sizing.
pub struct RiskActor {
    stage: RiskStage,
    view: Arc<PortfolioView>,
    approved: Inbox<Approved>,
    checkpoints: Inbox<Checkpoint>,
    reduce_only: bool,
    /// The newest bar the venue has closed, as the market feed learns it.
    market: Arc<MarketClock>,
    /// Risk's memory after the last message handled, and how to build a stage around it.
    last_good: RiskState,
    rebuild: std::rc::Rc<dyn Fn(RiskState) -> RiskStage>,
    /// When the switches were last copied to the operator's board.
    published: Option<std::time::Instant>,
    /// Where the `llm` strategy reads the account it shows its model.
    account: Option<AccountWatch>,
    supervision: ActorHandle,
}

impl RiskActor {
    /// An actor around `stage`, sending its verdicts to `approved` and its marks to
    /// `checkpoints`, starting from the account `view`;
    /// `rebuild` makes a stage around a saved state (after a crash).
    pub fn new(
        stage: RiskStage,
        view: PortfolioView,
        approved: Inbox<Approved>,
        checkpoints: Inbox<Checkpoint>,
        rebuild: Box<dyn Fn(RiskState) -> RiskStage>,
        supervision: ActorHandle,
    ) -> Self {
        Self {
            last_good: stage.state().clone(),
            stage,
            view: Arc::new(view),
            approved,
            checkpoints,
            reduce_only: false,
            market: Arc::default(),
            rebuild: rebuild.into(),
            published: None,
            account: None,
            supervision,
        }
    }

    /// Writes the account, with risk's day, to `watch` after every change (the `llm`
    /// strategy shows it to its model).
    pub fn publishing_account(mut self, watch: AccountWatch) -> Self {
        watch.set(self.stage.account_facts(&self.view));
        self.account = Some(watch);
        self
    }

    /// Writes the account to the watch, if any.
    fn publish_account(&self) {
        if let Some(watch) = &self.account {
            watch.set(self.stage.account_facts(&self.view));
        }
    }

    /// Judges how old each decision's bar is by `market` (a live feed's clock); without it,
    /// no bar is stale.
    pub fn with_market_clock(mut self, market: Arc<MarketClock>) -> Self {
        self.market = market;
        self
    }

    /// Risk's switches as the operator sees them.
    fn view(&self) -> RiskView {
        let state = self.stage.state();
        RiskView {
            halted: state.halted,
            flatten_requested: state.flatten_requested,
            kill_switch: state.kill_switch,
            daily_limit_hit: state.daily_limit_hit,
            reduce_only: self.reduce_only,
            refusals: self
                .stage
                .refusals()
                .iter()
                .map(|(rule, n)| (rule.to_string(), *n))
                .collect(),
        }
    }

    /// Copies the switches to the operator's board: always when `force`, else at most every
    /// [`ACCOUNT_EVERY`] of wall time.
    fn publish(&mut self, force: bool) {
        let now = std::time::Instant::now();
        if force
            || self
                .published
                .is_none_or(|at| now.duration_since(at) >= ACCOUNT_EVERY)
        {
            self.published = Some(now);
            self.supervision.board().publish_risk(self.view());
        }
    }
}

impl Rehydrate for RiskActor {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    /// The view survives (it is replaced whole, or marked, which a redelivery applies again
    /// to the same effect); the stage is rebuilt around the risk state of the last message
    /// handled.
    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        let refusals = self.stage.refusals().clone();
        self.stage = (self.rebuild)(self.last_good.clone());
        self.stage.keep_refusals(refusals);
        Ok(())
    }
}

impl Respawn for RiskActor {
    /// The risk state of the last message handled, the refusals counted and the account last
    /// reported are the checkpoint; the breaker's reduce-only is told again when it changes.
    fn respawn(&mut self) -> Self {
        let mut stage = (self.rebuild)(self.last_good.clone());
        stage.keep_refusals(self.stage.refusals().clone());
        Self {
            stage,
            view: self.view.clone(),
            approved: self.approved.clone(),
            checkpoints: self.checkpoints.clone(),
            reduce_only: self.reduce_only,
            market: self.market.clone(),
            last_good: self.last_good.clone(),
            rebuild: self.rebuild.clone(),
            published: None,
            account: self.account.clone(),
            supervision: self.supervision.clone(),
        }
    }
}

impl Actor for RiskActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.arm(ctx);
        self.publish(true);
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

    fn handle(&mut self, msg: Decide, ctx: &mut Self::Context) {
        let _span = info_span!("actor", actor = "risk", symbol = %msg.candle.symbol).entered();
        supervise(self, msg, ctx, |this, msg, _| {
            let view = &*this.view;
            let conditions = Conditions {
                reduce_only: this.reduce_only,
                newest_close: this.market.newest_close(),
            };
            let approval = this.stage.on_decision(&msg.decision, || view, conditions);
            fail::fail_point!("risk.after_decision");
            this.approved.send(Approved {
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

    fn handle(&mut self, msg: PortfolioUpdated, ctx: &mut Self::Context) {
        supervise(self, msg, ctx, |this, msg, _| {
            if !msg.closed.is_empty() {
                this.stage.on_trades_closed(&msg.closed);
                this.last_good = this.stage.state().clone();
            }
            match &msg.change {
                AccountChange::Whole(view) => this.view = view.clone(),
                AccountChange::Marked { symbol, price, ts } => {
                    // Applying a mark again gives the same view: a redelivery after a failure
                    // mends a half-applied one.
                    if !Arc::make_mut(&mut this.view).mark(symbol, *price, *ts) {
                        error!(actor = "risk", %symbol, "a mark of a position risk's view of the account does not hold: the view is behind the order manager's");
                    }
                }
            }
            this.publish_account();
        });
    }
}

impl Handler<Mark> for RiskActor {
    type Result = ();

    fn handle(&mut self, msg: Mark, ctx: &mut Self::Context) {
        supervise(self, msg, ctx, |this, msg, _| {
            let marked = this.stage.on_mark(&this.view.snapshot, msg.ts);
            this.last_good = this.stage.state().clone();
            this.publish_account();
            let flattening = !marked.flatten.is_empty();
            this.checkpoints.send(Checkpoint {
                point: marked.point,
                risk: this.last_good.clone(),
                flatten: marked.flatten,
                ticket: msg.ticket.clone(),
            });
            this.publish(flattening);
        });
    }
}

impl Handler<VenueHealth> for RiskActor {
    type Result = ();

    fn handle(&mut self, msg: VenueHealth, ctx: &mut Self::Context) {
        supervise(self, msg, ctx, |this, msg, _| {
            if msg.reduce_only != this.reduce_only {
                warn!(
                    actor = "risk",
                    reduce_only = msg.reduce_only,
                    "venue breaker changed: reduce-only mode {}",
                    if msg.reduce_only { "on" } else { "off" }
                );
            }
            let changed = msg.reduce_only != this.reduce_only;
            this.reduce_only = msg.reduce_only;
            this.publish(changed);
        });
    }
}

impl Handler<Operate> for RiskActor {
    type Result = Option<RiskView>;

    fn handle(&mut self, msg: Operate, _: &mut Self::Context) -> Self::Result {
        answer(self, &msg, |this| {
            this.stage.operate(msg.0);
            this.last_good = this.stage.state().clone();
            this.publish(true);
            this.view()
        })
    }
}

impl Handler<RefusalCounts> for RiskActor {
    type Result = Option<BTreeMap<&'static str, u64>>;

    fn handle(&mut self, msg: RefusalCounts, _: &mut Self::Context) -> Self::Result {
        answer(self, &msg, |this| this.stage.refusals().clone())
    }
}
