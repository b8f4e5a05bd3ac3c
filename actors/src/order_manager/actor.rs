//! The order manager actor: the only owner of orders, positions and cash. It turns approvals
//! into venue commands, settles the venue's reports, keeps risk informed, and records every
//! bar's equity.

use std::time::Instant;

use actix::prelude::*;
use tracing::{debug, error, info, info_span, warn};

use super::{stage, OrderCommand, OrderManager};
use crate::execution::actor::{Execute, ExecutionActor};
use crate::journal::{Journal, SledStore};
use crate::model::{
    Candle, EquityPoint, ExecutionReport, Order, PortfolioSnapshot, Symbol, Timestamp,
};
use crate::risk::actor::{PortfolioUpdated, RiskActor};
use crate::risk::{Approval, RiskState};
use crate::runtime::Ticket;

/// Reports from the venue.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Settle {
    /// The reports, in the venue's order.
    pub reports: Vec<ExecutionReport>,
    /// Event time.
    pub now: Timestamp,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Risk's verdict on one candle's decision.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Approved {
    /// The candle decided on.
    pub candle: Candle,
    /// ATR at its close (for trailing stops).
    pub atr: Option<f64>,
    /// What risk let through.
    pub approval: Approval,
    /// When the candle entered the feed (latency measurement).
    pub born: Instant,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// The account marked at a bar close, with risk's state and anything to flatten.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Checkpoint {
    /// The equity point.
    pub point: EquityPoint,
    /// Risk's persistent state at this mark.
    pub risk: RiskState,
    /// Positions to close (kill switch).
    pub flatten: Vec<(crate::model::Symbol, crate::model::ExitReason)>,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Everything a finished (or stopped) run knows, for its summary.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Every order, in creation order.
    pub orders: Vec<Order>,
    /// Completed round trips.
    pub trades: Vec<crate::model::ClosedTrade>,
    /// One point per bar close.
    pub equity: Vec<EquityPoint>,
    /// The account at the last mark.
    pub snapshot: PortfolioSnapshot,
    /// All fees paid.
    pub fees_paid: crate::model::Decimal,
    /// Orders sent to the venue by this process.
    pub orders_submitted: u64,
}

/// Asks for the [`RunRecord`].
#[derive(Message)]
#[rtype(result = "RunRecord")]
pub struct Record;

/// Every candle before this many is fully processed: the journal's resume point.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Progress {
    /// Candles done, from the first.
    pub done: u64,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Makes every journal write durable (at shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Flush;

/// Orders, positions and cash.
pub struct OrderManagerActor {
    om: OrderManager,
    symbols: Vec<Symbol>,
    exec: Addr<ExecutionActor>,
    risk: Addr<RiskActor>,
    equity: Vec<EquityPoint>,
    orders_submitted: u64,
    journal: Option<Journal<SledStore>>,
    journal_failed: bool,
}

impl OrderManagerActor {
    /// An actor around `om` (fresh or recovered) trading `symbols`, with the equity curve so
    /// far, journalling into `journal` when given.
    pub fn new(
        om: OrderManager,
        symbols: Vec<Symbol>,
        exec: Addr<ExecutionActor>,
        risk: Addr<RiskActor>,
        equity: Vec<EquityPoint>,
        journal: Option<Journal<SledStore>>,
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
        }
    }

    /// Writes the order manager's state and flushes it. After a failure nothing more is sent:
    /// an order the journal cannot record must not leave the process.
    fn save(&mut self) -> bool {
        if self.journal_failed {
            return false;
        }
        let Some(journal) = &mut self.journal else {
            return true;
        };
        match journal.save_order_state(&self.om) {
            Ok(()) => true,
            Err(err) => {
                error!(actor = "order_manager", error = %err, "journal write failed: no further orders will be sent; restart to reconcile");
                self.journal_failed = true;
                false
            }
        }
    }

    fn dispatch(
        &mut self,
        commands: Vec<OrderCommand>,
        now: Timestamp,
        born: Option<Instant>,
        ticket: &Ticket,
    ) {
        if commands.is_empty() {
            return;
        }
        // Write-ahead: the orders are durable before they leave.
        if !self.save() {
            warn!(
                actor = "order_manager",
                commands = commands.len(),
                "commands held back: the journal cannot record them"
            );
            return;
        }
        for command in &commands {
            match command {
                OrderCommand::Submit(request) => {
                    self.orders_submitted += 1;
                    info!(id = %request.client_order_id, symbol = %request.symbol, side = %request.side, qty = %request.qty, kind = ?request.kind, "order submitted");
                }
                OrderCommand::ModifyStop { id, trigger } => {
                    debug!(%id, %trigger, ts = %now, "stop moved")
                }
                OrderCommand::Cancel { id } => debug!(%id, ts = %now, "cancel requested"),
            }
        }
        self.exec.do_send(Execute {
            commands,
            now,
            born,
            ticket: ticket.clone(),
        });
    }

    fn push_view(&self, now: Timestamp, closed: Vec<crate::model::ClosedTrade>) {
        self.risk.do_send(PortfolioUpdated {
            view: stage::view(&self.om, &self.symbols, now),
            closed,
        });
    }
}

impl Actor for OrderManagerActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        info!(actor = "order_manager", event = "started", cash = %self.om.cash(), open_positions = self.om.snapshot(Timestamp(0)).positions.len(), "actor started");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!(actor = "order_manager", event = "stopped", "actor stopped");
    }
}

impl Handler<Approved> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Approved, _: &mut Self::Context) {
        let _span =
            info_span!("actor", actor = "order_manager", symbol = %msg.candle.symbol).entered();
        let now = msg.candle.close_time();
        let commands = stage::on_approval(&mut self.om, &msg.candle, msg.atr, &msg.approval);
        // Risk's view changes only with orders or with the price of a held position: pushing
        // it for every candle of every symbol cost a third of the runtime with 100 symbols.
        let changed = !commands.is_empty() || self.om.position(&msg.candle.symbol).is_some();
        self.dispatch(commands, now, Some(msg.born), &msg.ticket);
        if changed {
            self.push_view(now, Vec::new());
        }
    }
}

impl Handler<Settle> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Settle, _: &mut Self::Context) {
        let _span = info_span!("actor", actor = "order_manager", symbol = "*").entered();
        for report in &msg.reports {
            if let ExecutionReport::Fill(fill) = report {
                info!(id = %fill.client_order_id, symbol = %fill.symbol, side = %fill.side, qty = %fill.qty, price = %fill.price, fee = %fill.fee, "fill");
            }
        }
        let settled = stage::settle(&mut self.om, &msg.reports);
        for trade in &settled.closed {
            info!(symbol = %trade.symbol, pnl = %trade.pnl, reason = %trade.exit_reason, "trade closed");
        }
        if settled.commands.is_empty() {
            // Every transition is durable before it is acted on.
            self.save();
        }
        self.dispatch(settled.commands, msg.now, None, &msg.ticket);
        self.push_view(msg.now, settled.closed);
    }
}

impl Handler<Checkpoint> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Checkpoint, _: &mut Self::Context) {
        let now = msg.point.ts;
        if !msg.flatten.is_empty() {
            warn!(
                actor = "order_manager",
                positions = msg.flatten.len(),
                "flattening on risk's order"
            );
        }
        let commands = stage::flatten(&mut self.om, &msg.flatten, now);
        let changed = !commands.is_empty();
        // After a restart the last bar may be marked again (its mark was durable, the progress
        // after it not yet): one point per bar close.
        match self.equity.last_mut() {
            Some(last) if last.ts == msg.point.ts => *last = msg.point,
            _ => self.equity.push(msg.point),
        }
        if let Some(journal) = &mut self.journal {
            if let Err(err) = journal.mark(&msg.point, &msg.risk, &self.om.price_marks()) {
                error!(actor = "order_manager", error = %err, ts = %now, "journal mark failed");
            }
        }
        self.dispatch(commands, now, None, &msg.ticket);
        if changed {
            self.push_view(now, Vec::new());
        }
    }
}

impl Handler<Progress> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, msg: Progress, _: &mut Self::Context) {
        if let Some(journal) = &mut self.journal {
            // Prices move on every candle without an order event: they go with the progress.
            if let Err(err) = journal.progress(msg.done, &self.om.price_marks()) {
                warn!(actor = "order_manager", error = %err, done = msg.done, "journal progress not recorded");
            }
        }
    }
}

impl Handler<Flush> for OrderManagerActor {
    type Result = ();

    fn handle(&mut self, _: Flush, _: &mut Self::Context) {
        if let Some(journal) = &mut self.journal {
            match journal.flush() {
                Ok(()) => info!(actor = "order_manager", "journal flushed"),
                Err(err) => error!(actor = "order_manager", error = %err, "journal flush failed"),
            }
        }
    }
}

impl Handler<Record> for OrderManagerActor {
    type Result = MessageResult<Record>;

    fn handle(&mut self, _: Record, _: &mut Self::Context) -> Self::Result {
        let last = self.equity.last().map_or(Timestamp(0), |p| p.ts);
        MessageResult(RunRecord {
            orders: self.om.orders().cloned().collect(),
            trades: self.om.closed_trades().to_vec(),
            equity: self.equity.clone(),
            snapshot: self.om.snapshot(last),
            fees_paid: self.om.fees_paid(),
            orders_submitted: self.orders_submitted,
        })
    }
}
