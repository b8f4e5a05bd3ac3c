//! The execution actor over a remote venue: commands and bar closes are carried out by the
//! [`Bridge`] as futures the actor waits on, one at a time, so that its messages keep their
//! order and each step stays in flight (its ticket held) until the venue has answered.
//!
//! The journal is written before every request leaves (the bridge's rule); a journal that
//! cannot be written halts trading on the venue: every later command is refused unsent.

use std::panic::AssertUnwindSafe;

use actix::prelude::*;
use futures_util::FutureExt;
use tracing::error;

use super::actor::{Execute, ExecutionActor, VenueBar};
use crate::binance::book::VenueBook;
use crate::binance::bridge::{Bridge, Persist, PersistError};
use crate::binance::venue::BinanceVenue;
use crate::journal::{Journal, SledStore};
use crate::model::{ExecutionReport, Timestamp};
use crate::order_manager::actor::Settle;
use crate::runtime::{contain, Ticket};

/// What the actor holds for a remote venue.
pub struct Remote {
    /// The bridge; `None` while a request is in flight.
    bridge: Option<Box<Bridge<BinanceVenue>>>,
    /// The venue, to rebuild the bridge after a restart.
    venue: BinanceVenue,
    /// Why trading on the venue was halted, if it was.
    halted: Option<String>,
}

/// Journals the book in `journal` (flushed); without a journal nothing is kept.
pub fn persist_to(journal: Option<Journal<SledStore>>) -> Persist {
    match journal {
        Some(mut journal) => Box::new(move |book: &VenueBook| {
            journal.save_venue_book(book).map_err(|e| e.to_string())
        }),
        None => Box::new(|_: &VenueBook| Ok(())),
    }
}

/// One piece of work for the bridge.
enum Work {
    Bar(VenueBar),
    Commands(Execute),
}

impl ExecutionActor {
    /// Makes this actor trade at a remote venue through `bridge` (the in-process venue it
    /// was built with is then unused).
    pub fn with_remote(mut self, bridge: Bridge<BinanceVenue>) -> Self {
        self.remote = Some(Remote {
            venue: bridge.venue().clone(),
            bridge: Some(Box::new(bridge)),
            halted: None,
        });
        self
    }

    pub(super) fn remote_bar(&mut self, msg: VenueBar, ctx: &mut Context<Self>) {
        self.run_remote(Work::Bar(msg), ctx);
    }

    pub(super) fn remote_execute(&mut self, msg: Execute, ctx: &mut Context<Self>) {
        self.run_remote(Work::Commands(msg), ctx);
    }

    /// Rebuilds the bridge from the journalled book (a restart of this actor).
    pub(super) fn rehydrate_remote(&mut self) -> Result<(), String> {
        let journal = self.journal.clone();
        let remote = self.remote.as_mut().ok_or("not a remote venue")?;
        let book = match &journal {
            Some(j) => j
                .load()
                .map_err(|e| e.to_string())?
                .venue_book
                .unwrap_or_default(),
            None => return Err("no journal to rehydrate the venue book from".into()),
        };
        remote.bridge = Some(Box::new(Bridge::new(
            remote.venue.clone(),
            book,
            persist_to(journal),
        )));
        Ok(())
    }

    fn run_remote(&mut self, work: Work, ctx: &mut Context<Self>) {
        // The supervision bookkeeping (mailbox count, restarts) of a synchronous handler.
        let taken = contain(self, |this| {
            let remote = this.remote.as_mut()?;
            Some((remote.bridge.take(), remote.halted.clone()))
        })
        .flatten();
        let Some((bridge, halted)) = taken else {
            return;
        };
        let (now, ticket) = match &work {
            Work::Bar(bar) => (bar.candle.close_time(), bar.ticket.clone()),
            Work::Commands(exec) => (exec.now, exec.ticket.clone()),
        };
        let idle = match &work {
            Work::Bar(bar) => !bridge
                .as_ref()
                .is_some_and(|b| b.book().is_live(&bar.candle.symbol)),
            Work::Commands(exec) => exec.commands.is_empty(),
        };
        if idle {
            // Nothing at the venue to ask about or do: not a call.
            if let Some(remote) = self.remote.as_mut() {
                remote.bridge = bridge;
            }
            return;
        }
        let refusal = match (&bridge, halted) {
            (_, Some(why)) => Some(format!("trading halted: {why}")),
            (None, None) => Some("the venue bridge is unavailable".to_string()),
            (Some(_), None) => None,
        };
        // The venue's circuit breaker: open, commands are refused unsent and bars skipped
        // (their fills are learnt at the first bar after it closes again).
        let permit = match refusal {
            Some(why) => Err(why),
            None => {
                let (permit, transitions) = self.guard.begin(now);
                self.breaker_changed(&transitions);
                permit.map_err(str::to_string)
            }
        };
        let (permit, mut bridge) = match (permit, bridge) {
            (Ok(permit), Some(bridge)) => (permit, bridge),
            (permit, bridge) => {
                if let Some(remote) = self.remote.as_mut() {
                    remote.bridge = bridge;
                }
                if let Work::Commands(exec) = work {
                    let why = permit.err().unwrap_or_default();
                    let reports = exec
                        .commands
                        .iter()
                        .map(|c| ExecutionReport::Rejected {
                            id: c.order_id().clone(),
                            reason: why.clone(),
                            ts: exec.now,
                        })
                        .collect();
                    self.settle(reports, now, ticket);
                }
                return;
            }
        };
        let job = async move {
            let result = AssertUnwindSafe(async {
                match &work {
                    Work::Bar(bar) => bridge.sync(&bar.candle.symbol, now).await,
                    Work::Commands(exec) => bridge.execute(&exec.commands, now).await,
                }
            })
            .catch_unwind()
            .await;
            let failures = bridge.take_failures();
            (bridge, result, failures)
        };
        ctx.wait(job.into_actor(self).map(move |(bridge, result, failures), act, _| {
            let transitions = act.guard.end(permit, now, failures == 0);
            act.breaker_changed(&transitions);
            let Some(remote) = act.remote.as_mut() else {
                return;
            };
            remote.bridge = Some(bridge);
            match result {
                Ok(Ok(reports)) => act.settle(reports, now, ticket),
                Ok(Err(PersistError(why))) => {
                    error!(actor = "execution", error = %why, "the venue book cannot be journalled: trading on the venue halted");
                    remote.halted = Some(format!("the venue book cannot be journalled: {why}"));
                }
                Err(_) => {
                    error!(actor = "execution", "the venue bridge panicked: rebuilding it from the journal");
                    if let Err(why) = act.rehydrate_remote() {
                        if let Some(remote) = act.remote.as_mut() {
                            remote.halted = Some(why);
                        }
                    }
                }
            }
        }));
    }

    fn settle(&self, reports: Vec<ExecutionReport>, now: Timestamp, ticket: Ticket) {
        if !reports.is_empty() {
            self.om.send(Settle {
                reports,
                now,
                ticket,
            });
        }
    }
}
