//! The order manager actor: the only owner of orders, positions and cash. It turns approvals
//! into venue commands, settles the venue's reports, keeps risk informed, and records every
//! bar's equity.

use std::collections::HashSet;
use std::time::Instant;

use actix::prelude::*;
use tracing::{error, info, info_span, warn};

use crate::board::{AccountView, ACCOUNT_EVERY};
use crate::journal::{Journal, SledStore};
use crate::messages::{
    AccountChange, Approved, Checkpoint, Execute, FlattenAll, Flush, PortfolioUpdated, Progress,
    Record, Settle,
};
use crate::model::{
    ClientOrderId, ClosedTrade, EquityPoint, ExecutionReport, ExitReason, Symbol, Timestamp,
    TradeId,
};
use crate::runtime::{
    answer, supervise, ActorHandle, Inbox, Rehydrate, RehydrateError, Respawn, Sabotage, Ticket,
};
use keel_core::execution::FillConfig;
use keel_core::order_manager::{
    reconcile_except, stage, OrderCommand, OrderManager, OrderManagerConfig, RunRecord,
};

/// Who the board names when this actor cannot write the journal.
const JOURNAL_WRITER: &str = "the order manager";

/// What the order manager actor needs to rebuild itself from its journal after a crash.
pub struct OmRehydration {
    /// Its settings.
    pub orders: OrderManagerConfig,
    /// The venue's settings (to read the venue's journalled state for reconciliation).
    pub venue: FillConfig,
    /// The order manager before anything was journalled.
    pub fresh: OrderManager,
    /// Its place in the supervision tree.
    pub supervision: ActorHandle,
}

impl Rehydrate for OrderManagerActor {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    /// Reloads orders, positions, cash and the equity curve from the journal, applies the
    /// price marks, and reconciles with what the venue journalled, whichever venue it is (see
    /// [`Recovered::venue_snapshot`](crate::journal::Recovered::venue_snapshot)): whatever
    /// did not reach it is resolved there, never resent blindly.
    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        // Commands written ahead but never handed to execution (this instance failed in
        // between, in this process): not in doubt, so they are sent, not rejected. Unless the
        // journal could not record them: held back, never durable, they are forgotten with
        // the state that made them.
        let mut unsent = std::mem::take(&mut self.unsent);
        if self.journal_failed && !unsent.is_empty() {
            warn!(
                actor = "order_manager",
                forgotten = unsent.len(),
                "commands held back were never recorded: forgotten with the state that made them"
            );
            unsent.clear();
        }
        let untold = std::mem::take(&mut self.untold);
        let journal = self
            .journal
            .as_mut()
            .ok_or(RehydrateError::NoJournal("the order manager"))?;
        let mut recovered = journal.reload()?;
        let mut om = match recovered.om.take() {
            Some(state) => OrderManager::from_state(self.cfg.clone(), state).map_err(|e| {
                RehydrateError::Invalid {
                    what: "the order manager",
                    why: e.to_string(),
                }
            })?,
            None => self.fresh.clone(),
        };
        if let Some(marks) = &recovered.price_marks {
            om.restore_price_marks(marks);
        }
        let now = recovered.cursor.unwrap_or_default();
        let venue =
            recovered
                .venue_snapshot(&self.venue_cfg)
                .map_err(|why| RehydrateError::Invalid {
                    what: "the venue",
                    why: why.to_string(),
                })?;
        let resend: Vec<OrderCommand> = unsent
            .into_iter()
            .filter(|c| om.order(c.order_id()).is_some())
            .collect();
        let mut pending = resend.clone();
        // Trades the journal closed that risk was never told of: a redelivered settlement
        // finds their fills applied already and would not close them again.
        let mut closed: Vec<ClosedTrade> = untold
            .into_iter()
            .filter(|trade| om.closed_trades().contains(trade))
            .collect();
        // Handed to execution in this process and not yet answered: the journalled venue may
        // not know them yet (the command waits in execution's mailbox), and they are not in
        // doubt (execution will answer). Rejecting them as never reached would be wrong.
        self.in_transit
            .retain(|id| om.order(id).is_some_and(|o| o.status.is_open()));
        let mut leave_alone = order_ids(&resend);
        leave_alone.extend(self.in_transit.iter().cloned());
        if let Some(venue) = venue {
            let report = reconcile_except(&mut om, &venue, now, &leave_alone);
            if !report.is_resolved() {
                return Err(RehydrateError::Unreconciled(report.to_string()));
            }
            if !report.is_clean() {
                warn!(
                    actor = "order_manager",
                    "reconciliation after restart:\n{report}"
                );
            }
            pending.extend(report.commands);
            closed.extend(report.closed);
        }
        if !closed.is_empty() {
            self.risk.send(PortfolioUpdated {
                change: AccountChange::Whole(std::sync::Arc::new(stage::view(&om, now))),
                closed,
            });
        }
        self.pending = pending;
        self.om = om;
        self.risk_view_stale = true;
        self.equity = recovered.equity;
        self.journal_failed = false;
        // Reconciled from what the journal holds: writes are tried again.
        self.supervision
            .board()
            .set_journal_failure(JOURNAL_WRITER, None);
        Ok(())
    }
}

/// Every order `commands` are about, the orders a submission attaches included.
fn order_ids(commands: &[OrderCommand]) -> HashSet<ClientOrderId> {
    let mut ids = HashSet::new();
    for command in commands {
        ids.insert(command.order_id().clone());
        if let OrderCommand::Submit(request) = command {
            ids.extend(request.attached.iter().map(|a| a.client_order_id.clone()));
        }
    }
    ids
}

/// Orders, positions and cash.
pub struct OrderManagerActor {
    om: OrderManager,
    symbols: Vec<Symbol>,
    exec: Inbox<Execute>,
    risk: Inbox<PortfolioUpdated>,
    equity: Vec<EquityPoint>,
    orders_submitted: u64,
    journal: Option<Journal<SledStore>>,
    journal_failed: bool,
    /// For rehydration: the configs, the state before anything was saved, and commands a
    /// reconciliation after a restart calls for.
    cfg: OrderManagerConfig,
    venue_cfg: FillConfig,
    fresh: OrderManager,
    pending: Vec<OrderCommand>,
    /// Commands being written ahead, until they are handed to execution.
    unsent: Vec<OrderCommand>,
    /// Trades a settlement closed, until risk is told.
    untold: Vec<ClosedTrade>,
    /// Orders whose commands were handed to execution and that no report has named since.
    in_transit: HashSet<ClientOrderId>,
    /// When the account was last copied to the operator's board.
    published: Option<Instant>,
    /// Risk's copy of the account may differ from this one: a restart rebuilt it (and its
    /// reconciliation may have learnt fills). Until a change goes to risk whole, a candle
    /// that moved a held position's price sends the whole account, not a mark.
    risk_view_stale: bool,
    supervision: ActorHandle,
}

impl OrderManagerActor {
    /// An actor around `om` (fresh or recovered) trading `symbols`, with the equity curve so
    /// far, journalling into `journal` when given.
    pub fn new(
        om: OrderManager,
        symbols: Vec<Symbol>,
        exec: Inbox<Execute>,
        risk: Inbox<PortfolioUpdated>,
        equity: Vec<EquityPoint>,
        journal: Option<Journal<SledStore>>,
        rehydration: OmRehydration,
    ) -> Self {
        Self {
            om,
            symbols,
            exec,
            risk,
            equity,
            orders_submitted: 0,
            journal,
            journal_failed: false,
            cfg: rehydration.orders,
            venue_cfg: rehydration.venue,
            fresh: rehydration.fresh,
            pending: Vec::new(),
            unsent: Vec::new(),
            untold: Vec::new(),
            in_transit: HashSet::new(),
            published: None,
            risk_view_stale: false,
            supervision: rehydration.supervision,
        }
    }

    /// Sends what a reconciliation after a restart called for.
    fn dispatch_pending(&mut self, now: Timestamp, ticket: &Ticket) {
        if !self.pending.is_empty() {
            let commands = std::mem::take(&mut self.pending);
            self.dispatch(commands, now, None, ticket);
        }
    }

    /// Writes the order manager's state and flushes it: whether it is durable. A failure is
    /// told to the operator (the board, hence readiness, the alert and the metric) until a
    /// later write succeeds; every later message tries again.
    fn save(&mut self) -> bool {
        let Some(journal) = &mut self.journal else {
            return true;
        };
        let started = Instant::now();
        let saved = journal.save_order_state(&self.om);
        self.supervision.board().journal_write(started.elapsed());
        match saved {
            Ok(()) => {
                if std::mem::take(&mut self.journal_failed) {
                    info!(
                        actor = "order_manager",
                        held = self.unsent.len(),
                        "the journal records again: the commands held back leave now"
                    );
                    self.supervision
                        .board()
                        .set_journal_failure(JOURNAL_WRITER, None);
                }
                true
            }
            Err(err) => {
                if !self.journal_failed {
                    error!(actor = "order_manager", error = %err, "journal write failed: orders are held until a write succeeds");
                }
                self.journal_failed = true;
                self.supervision
                    .board()
                    .set_journal_failure(JOURNAL_WRITER, Some(err.to_string()));
                false
            }
        }
    }

    /// Hands `commands` to execution once the journal has recorded them, after those held
    /// back before (in order). While the journal cannot record them they are held: an order
    /// the journal does not know must not leave the process. A restart forgets them (they
    /// were never durable) and reconciles from the journal.
    fn dispatch(
        &mut self,
        commands: Vec<OrderCommand>,
        now: Timestamp,
        born: Option<Instant>,
        ticket: &Ticket,
    ) {
        // Write-ahead: the orders are durable before they leave. Until they are handed over,
        // a restart of this actor knows they never left.
        self.unsent.extend(commands);
        if self.unsent.is_empty() {
            return;
        }
        if !self.save() {
            warn!(
                actor = "order_manager",
                held = self.unsent.len(),
                "commands held back: the journal cannot record them"
            );
            return;
        }
        fail::fail_point!("order_manager.after_journal_write");
        let commands = std::mem::take(&mut self.unsent);
        self.in_transit.extend(order_ids(&commands));
        self.orders_submitted += stage::sent(&commands, now);
        self.exec.send(Execute {
            commands,
            now,
            born,
            ticket: ticket.clone(),
        });
    }

    /// Copies the account to the operator's board: always when `force`, else at most every
    /// [`ACCOUNT_EVERY`] of wall time (a fast replay marks thousands of bars a second).
    fn publish(&mut self, force: bool) {
        let now = Instant::now();
        if !force
            && self
                .published
                .is_some_and(|at| now.duration_since(at) < ACCOUNT_EVERY)
        {
            return;
        }
        self.published = Some(now);
        let (ts, equity) = match self.equity.last() {
            Some(point) => (Some(point.ts), point.equity),
            None => (None, self.om.snapshot(Timestamp(0)).equity),
        };
        let peak = self.equity.iter().map(|p| p.equity).max().unwrap_or(equity);
        self.supervision
            .board()
            .publish_account(AccountView::of(&self.om, ts, equity, peak));
    }

    fn push_view(&mut self, now: Timestamp, closed: Vec<crate::model::ClosedTrade>) {
        self.risk_view_stale = false;
        self.risk.send(PortfolioUpdated {
            change: AccountChange::Whole(std::sync::Arc::new(stage::view(&self.om, now))),
            closed,
        });
    }
}

impl Respawn for OrderManagerActor {
    /// The journal is the checkpoint, with the commands written ahead and not handed over
    /// and the closed trades risk was not told of (both resolved by `rehydrate`).
    fn respawn(&mut self) -> Self {
        let rehydration = OmRehydration {
            orders: self.cfg.clone(),
            venue: self.venue_cfg.clone(),
            fresh: self.fresh.clone(),
            supervision: self.supervision.clone(),
        };
        let mut fresh = Self::new(
            self.fresh.clone(),
            self.symbols.clone(),
            self.exec.clone(),
            self.risk.clone(),
            Vec::new(),
            self.journal.take(),
            rehydration,
        );
        fresh.orders_submitted = self.orders_submitted;
        fresh.journal_failed = self.journal_failed;
        fresh.unsent = std::mem::take(&mut self.unsent);
        fresh.untold = std::mem::take(&mut self.untold);
        fresh.in_transit = std::mem::take(&mut self.in_transit);
        fresh
    }
}

impl Actor for OrderManagerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.arm(ctx);
        self.publish(true);
        info!(actor = "order_manager", event = "started", cash = %self.om.cash(), open_positions = self.om.snapshot(Timestamp(0)).positions.len(), "actor started");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!(actor = "order_manager", event = "stopped", "actor stopped");
    }
}

impl Handler<Approved> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Approved, ctx: &mut Self::Context) {
        let _span =
            info_span!("actor", actor = "order_manager", symbol = %msg.candle.symbol).entered();
        supervise(self, msg, ctx, |this, msg, _| {
            let now = msg.candle.close_time();
            this.dispatch_pending(now, &msg.ticket);
            let commands = stage::on_approval(&mut this.om, &msg.candle, msg.atr, &msg.approval);
            fail::fail_point!("order_manager.after_state_change");
            // Risk's view changes only with orders or with the price of a held position, and
            // a price alone is sent as a mark: pushing the whole view for every candle of
            // every symbol cost a third of the runtime with 100 symbols.
            let marked = match this.om.position(&msg.candle.symbol) {
                Some(position) if commands.is_empty() => Some(position.last_price),
                _ => None,
            };
            if marked.is_some() {
                // Only prices moved: a restart before the next progress applies them.
                if let Some(journal) = &mut this.journal {
                    journal.note_price_marks(this.om.price_marks());
                }
            }
            let changed = !commands.is_empty() || (marked.is_some() && this.risk_view_stale);
            this.dispatch(commands, now, Some(msg.born), &msg.ticket);
            if changed {
                this.push_view(now, Vec::new());
            } else if let Some(price) = marked {
                this.risk.send(PortfolioUpdated {
                    change: AccountChange::Marked {
                        symbol: msg.candle.symbol.clone(),
                        price,
                        ts: now,
                    },
                    closed: Vec::new(),
                });
            }
        });
    }
}

impl Handler<Settle> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Settle, ctx: &mut Self::Context) {
        let _span = info_span!("actor", actor = "order_manager", symbol = "*").entered();
        supervise(self, msg, ctx, |this, msg, _| {
            this.dispatch_pending(msg.now, &msg.ticket);
            let doubled;
            let reports = match this.supervision.sabotaged() {
                Some(Sabotage::ApplyFillTwice) => {
                    doubled = fills_twice(&msg.reports);
                    &doubled
                }
                _ => &msg.reports,
            };
            for report in reports {
                this.in_transit.remove(report.order_id());
            }
            let settled = stage::settle(&mut this.om, reports);
            // Until risk is told, a restart of this actor knows these trades were not.
            this.untold.clone_from(&settled.closed);
            if settled.commands.is_empty() {
                // Every transition is durable before it is acted on.
                this.save();
            }
            this.dispatch(settled.commands, msg.now, None, &msg.ticket);
            this.untold.clear();
            this.push_view(msg.now, settled.closed);
        });
    }
}

impl Handler<Checkpoint> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Checkpoint, ctx: &mut Self::Context) {
        if !msg.flatten.is_empty() {
            warn!(
                actor = "order_manager",
                positions = msg.flatten.len(),
                "flattening on risk's order"
            );
        }
        supervise(self, msg, ctx, |this, msg, _| {
            let now = msg.point.ts;
            this.dispatch_pending(now, &msg.ticket);
            let commands = stage::flatten(&mut this.om, &msg.flatten, now);
            let changed = !commands.is_empty();
            // After a restart the last bar may be marked again (its mark was durable, the
            // progress after it not yet): one point per bar close.
            match this.equity.last_mut() {
                Some(last) if last.ts == msg.point.ts => *last = msg.point,
                _ => this.equity.push(msg.point),
            }
            if let Some(journal) = &mut this.journal {
                let started = Instant::now();
                let marked = journal.mark(&msg.point, &msg.risk, &this.om.price_marks());
                this.supervision.board().journal_write(started.elapsed());
                if let Err(err) = marked {
                    error!(actor = "order_manager", error = %err, ts = %now, "journal mark failed");
                }
            }
            this.dispatch(commands, now, None, &msg.ticket);
            if changed {
                this.push_view(now, Vec::new());
            }
            this.publish(false);
        });
    }
}

impl Handler<FlattenAll> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: FlattenAll, ctx: &mut Self::Context) {
        warn!(
            actor = "order_manager",
            "flattening every position now: an operator asked"
        );
        supervise(self, msg, ctx, |this, msg, _| {
            // Event time: the last bar close marked (the orders' creation time).
            let now = this.equity.last().map(|p| p.ts).unwrap_or_default();
            this.dispatch_pending(now, &msg.ticket);
            let every: Vec<_> = this
                .symbols
                .iter()
                .map(|s| (s.clone(), ExitReason::Flatten))
                .collect();
            let commands = stage::flatten(&mut this.om, &every, now);
            let changed = !commands.is_empty();
            this.dispatch(commands, now, None, &msg.ticket);
            if changed {
                this.push_view(now, Vec::new());
            }
            this.publish(true);
        });
    }
}

impl Handler<Progress> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Progress, ctx: &mut Self::Context) {
        supervise(self, msg, ctx, |this, msg, _| {
            if let Some(journal) = &mut this.journal {
                // Prices move on every candle without an order event: they go with the progress.
                journal.progress(msg.done, &this.om.price_marks());
            }
        });
    }
}

impl Handler<Flush> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Flush, _: &mut Self::Context) {
        answer(self, &msg, |this| {
            this.publish(true);
            if let Some(journal) = &mut this.journal {
                match journal.flush() {
                    Ok(()) => info!(actor = "order_manager", "journal flushed"),
                    Err(err) => {
                        error!(actor = "order_manager", error = %err, "journal flush failed")
                    }
                }
            }
        });
    }
}

impl Handler<Record> for OrderManagerActor {
    type Result = Option<RunRecord>;

    fn handle(&mut self, msg: Record, _: &mut Self::Context) -> Self::Result {
        answer(self, &msg, |this| {
            RunRecord::of(&this.om, this.equity.clone(), this.orders_submitted)
        })
    }
}

/// For [`Sabotage::ApplyFillTwice`]: every fill followed by a second report of it under
/// another trade id, which the order manager's dedup by trade id cannot recognise.
fn fills_twice(reports: &[ExecutionReport]) -> Vec<ExecutionReport> {
    let mut twice = Vec::with_capacity(reports.len() * 2);
    for report in reports {
        twice.push(report.clone());
        if let ExecutionReport::Fill(fill) = report {
            let mut again = fill.clone();
            again.trade_id = TradeId(fill.trade_id.0 | 1 << 63);
            twice.push(ExecutionReport::Fill(again));
        }
    }
    twice
}

#[cfg(test)]
#[path = "order_manager_tests.rs"]
mod tests;
