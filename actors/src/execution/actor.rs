//! The execution actor: the venue adapter. Over the in-process [`SimExchange`] it executes
//! the order manager's commands and fills resting orders as bars close; over a remote venue
//! (see [`remote`](super::remote)) it carries them out through the venue book and asks the
//! venue what happened as bars close.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tracing::{error, info};

use super::{Guarded, SimExchange, VenueGuard};
use crate::journal::{Journal, SledStore};
use crate::model::{Candle, ExecutionReport, Timestamp};
use crate::order_manager::actor::{OrderManagerActor, Settle};
use crate::order_manager::OrderCommand;
use crate::risk::actor::{RiskActor, VenueHealth};
use crate::runtime::{contain, ActorHandle, Outbox, Rehydrate, Ticket};
use keel_supervision::{BreakerState, Transition};

/// A bar closed at the venue: fill what rested on it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct VenueBar {
    /// The bar.
    pub candle: Candle,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Commands from the order manager.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Execute {
    /// Submit, cancel, modify.
    pub commands: Vec<OrderCommand>,
    /// Event time.
    pub now: Timestamp,
    /// When the candle that caused them entered the feed, if a candle did.
    pub born: Option<Instant>,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Feed-to-venue latencies of the commands that carried an order, for the benchmark.
pub type LatencyLog = Rc<RefCell<Vec<Duration>>>;

/// The simulated venue behind the execution port.
pub struct ExecutionActor {
    pub(super) venue: SimExchange,
    /// Set when the venue is remote: then `venue` is unused.
    pub(super) remote: Option<super::remote::Remote>,
    pub(super) om: Outbox<OrderManagerActor>,
    latencies: Option<LatencyLog>,
    pub(super) journal: Option<Journal<SledStore>>,
    supervision: ActorHandle,
    pub(super) guard: VenueGuard,
    risk: Addr<RiskActor>,
}

/// The venue's circuit breaker and whom it tells.
pub struct VenueBreaker {
    /// The breaker (and any faults to inject).
    pub guard: VenueGuard,
    /// Risk, which goes reduce-only while the breaker is open.
    pub risk: Addr<RiskActor>,
}

impl ExecutionActor {
    /// An actor around `venue`, reporting to `om`; `latencies` records how long each
    /// order-carrying command batch took from the feed; the in-process venue keeps its state
    /// in `journal` when given.
    pub fn new(
        venue: SimExchange,
        om: Outbox<OrderManagerActor>,
        latencies: Option<LatencyLog>,
        journal: Option<Journal<SledStore>>,
        supervision: ActorHandle,
        breaker: VenueBreaker,
    ) -> Self {
        Self {
            venue,
            remote: None,
            om,
            latencies,
            journal,
            supervision,
            guard: breaker.guard,
            risk: breaker.risk,
        }
    }

    /// Logs breaker changes and tells risk when the venue becomes (un)usable.
    pub(super) fn breaker_changed(&self, transitions: &[Transition]) {
        for transition in transitions {
            self.supervision.breaker_changed("venue", transition);
            match transition.to {
                BreakerState::Open => self.risk.do_send(VenueHealth { reduce_only: true }),
                BreakerState::Closed => self.risk.do_send(VenueHealth { reduce_only: false }),
                BreakerState::HalfOpen => {}
            }
        }
    }

    /// The venue's state is durable before its reports reach the order manager.
    fn save(&mut self) {
        if let Some(journal) = &mut self.journal {
            if let Err(err) = journal.save_venue(&self.venue) {
                error!(actor = "execution", error = %err, "saving the venue's state failed");
            }
        }
    }
}

impl Rehydrate for ExecutionActor {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    /// The in-process venue's state comes back from the journal (saved after every change
    /// that produced a report; a bar that filled nothing changes nothing that matters).
    fn rehydrate(&mut self) -> Result<(), String> {
        if self.remote.is_some() {
            return self.rehydrate_remote();
        }
        let journal = self
            .journal
            .as_ref()
            .ok_or("no journal to rehydrate the venue from")?;
        let recovered = journal.load().map_err(|e| e.to_string())?;
        let config = self.venue.config().clone();
        self.venue = match recovered.venue {
            Some(state) => SimExchange::from_state(config, state).map_err(|e| e.to_string())?,
            None => SimExchange::new(config),
        };
        Ok(())
    }
}

impl Actor for ExecutionActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        info!(
            actor = "execution",
            venue = "sim",
            event = "started",
            "actor started"
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        info!(actor = "execution", event = "stopped", "actor stopped");
    }
}

impl Handler<VenueBar> for ExecutionActor {
    type Result = ();

    fn handle(&mut self, msg: VenueBar, ctx: &mut Self::Context) {
        if self.remote.is_some() {
            return self.remote_bar(msg, ctx);
        }
        contain(self, |this| {
            let venue = &this.venue;
            let symbol = &msg.candle.symbol;
            let transitions = this.guard.probe(msg.candle.close_time(), || {
                let _ = venue.open_orders(symbol).count();
            });
            this.breaker_changed(&transitions);
            let reports = this.venue.on_candle(&msg.candle);
            if !reports.is_empty() {
                this.save();
                this.om.send(Settle {
                    reports,
                    now: msg.candle.close_time(),
                    ticket: msg.ticket.clone(),
                });
            }
        });
    }
}

impl Handler<Execute> for ExecutionActor {
    type Result = ();

    fn handle(&mut self, msg: Execute, ctx: &mut Self::Context) {
        if self.remote.is_some() {
            return self.remote_execute(msg, ctx);
        }
        if let (Some(log), Some(born)) = (&self.latencies, msg.born) {
            if msg
                .commands
                .iter()
                .any(|c| matches!(c, OrderCommand::Submit(_)))
            {
                log.borrow_mut().push(born.elapsed());
            }
        }
        contain(self, |this| {
            let mut reports = Vec::new();
            for command in &msg.commands {
                let venue = &mut this.venue;
                let (outcome, transitions) =
                    this.guard.call(msg.now, || venue.apply(command, msg.now));
                this.breaker_changed(&transitions);
                match outcome {
                    Guarded::Done(venue_reports) => reports.extend(venue_reports),
                    // It never reached the venue: refused, and the order manager knows it.
                    Guarded::Refused(why) => reports.push(ExecutionReport::Rejected {
                        id: command.order_id().clone(),
                        reason: why.to_string(),
                        ts: msg.now,
                    }),
                }
            }
            this.save();
            if !reports.is_empty() {
                this.om.send(Settle {
                    reports,
                    now: msg.now,
                    ticket: msg.ticket.clone(),
                });
            }
        });
    }
}
