//! A venue call that panics after the execution actor awaited it fails like any handler: the
//! supervisor restarts the actor (its venue reloaded) and delivers the work again; a call that
//! panics on every delivery is poison and escalates. One failure path, whatever the venue.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use keel_supervision::{BreakerConfig, HealthRegistry, Strategy, SupervisorConfig};

use super::actor::{ExecutionActor, VenueBreaker};
use super::{Venue, VenueAnswer, VenueFuture, VenueGuard, VenueHalt};
use crate::messages::{Execute, Settle, VenueHealth};
use crate::model::{Candle, ClientOrderId, ExecutionReport, Symbol, Timestamp};
use crate::runtime::{
    ActorHandle, Inbox, Inflight, PoisonPolicy, RehydrateError, Supervision, TreeSpec,
};
use keel_core::execution::VenueSnapshot;
use keel_core::order_manager::OrderCommand;

/// What the venue saw.
#[derive(Default)]
struct Seen {
    calls: Cell<u32>,
    reloads: Cell<u32>,
    /// Calls still to fail.
    failures_left: Cell<u32>,
}

/// A venue that answers only after a turn of the event loop (as a remote one does) and
/// panics in its adapter while `failures_left` lasts.
struct PanickyVenue(Rc<Seen>);

impl Venue for PanickyVenue {
    fn name(&self) -> &'static str {
        "panicky"
    }

    fn execute<'a>(
        &'a mut self,
        commands: &'a [OrderCommand],
        now: Timestamp,
    ) -> VenueFuture<'a, VenueAnswer> {
        let seen = self.0.clone();
        seen.calls.set(seen.calls.get() + 1);
        let fail = seen.failures_left.get() > 0;
        if fail {
            seen.failures_left.set(seen.failures_left.get() - 1);
        }
        let reports = commands
            .iter()
            .map(|c| ExecutionReport::Accepted {
                id: c.order_id().clone(),
                ts: now,
            })
            .collect();
        Box::pin(async move {
            tokio::task::yield_now().await;
            if fail {
                panic!("venue adapter bug");
            }
            Ok(VenueAnswer::of(reports))
        })
    }

    fn bar_closed<'a>(&'a mut self, _: &'a Candle) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(async { Ok(VenueAnswer::default()) })
    }

    fn bar_is_call(&self, _: &Symbol) -> bool {
        false
    }

    fn probe<'a>(&'a mut self, _: &'a Symbol) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(async { Ok(VenueAnswer::default()) })
    }

    fn snapshot<'a>(&'a mut self, _: &'a [Symbol], _: Timestamp) -> VenueFuture<'a, VenueSnapshot> {
        Box::pin(async { Ok(VenueSnapshot::default()) })
    }

    fn reload(&mut self) -> Result<(), RehydrateError> {
        self.0.reloads.set(self.0.reloads.get() + 1);
        Ok(())
    }

    fn resume(&mut self) -> VenueFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// A venue whose book cannot be journalled while `disk_full`: each call still reaches the
/// venue (and answers), but reports the halt; `resume` succeeds once the disk takes writes.
#[derive(Default)]
struct DiskVenue {
    disk_full: Rc<Cell<bool>>,
    /// The commands that reached the venue.
    reached: Rc<RefCell<Vec<ClientOrderId>>>,
}

impl DiskVenue {
    fn halt(&self) -> Result<(), VenueHalt> {
        match self.disk_full.get() {
            true => Err(VenueHalt::new(
                "journalling the venue book failed: disk full",
            )),
            false => Ok(()),
        }
    }
}

impl Venue for DiskVenue {
    fn name(&self) -> &'static str {
        "disk"
    }

    fn execute<'a>(
        &'a mut self,
        commands: &'a [OrderCommand],
        now: Timestamp,
    ) -> VenueFuture<'a, VenueAnswer> {
        let reports: Vec<ExecutionReport> = commands
            .iter()
            .map(|c| {
                self.reached.borrow_mut().push(c.order_id().clone());
                ExecutionReport::Accepted {
                    id: c.order_id().clone(),
                    ts: now,
                }
            })
            .collect();
        let answer = match self.halt() {
            Ok(()) => Ok(VenueAnswer::of(reports)),
            Err(halt) => Err(VenueHalt { reports, ..halt }),
        };
        Box::pin(async move {
            tokio::task::yield_now().await;
            answer
        })
    }

    fn bar_closed<'a>(&'a mut self, _: &'a Candle) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(async { Ok(VenueAnswer::default()) })
    }

    fn bar_is_call(&self, _: &Symbol) -> bool {
        false
    }

    fn probe<'a>(&'a mut self, _: &'a Symbol) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(async { Ok(VenueAnswer::default()) })
    }

    fn snapshot<'a>(&'a mut self, _: &'a [Symbol], _: Timestamp) -> VenueFuture<'a, VenueSnapshot> {
        Box::pin(async { Ok(VenueSnapshot::default()) })
    }

    fn reload(&mut self) -> Result<(), RehydrateError> {
        Ok(())
    }

    fn resume(&mut self) -> VenueFuture<'_, ()> {
        let resumed = self.halt();
        Box::pin(async move { resumed })
    }
}

/// Stands for the order manager and risk: keeps the reports it is sent.
struct Listener(Rc<RefCell<Vec<ExecutionReport>>>);

impl Actor for Listener {
    type Context = Context<Self>;
}

impl Handler<Settle> for Listener {
    type Result = ();

    fn handle(&mut self, msg: Settle, _: &mut Context<Self>) {
        self.0.borrow_mut().extend(msg.reports);
    }
}

impl Handler<VenueHealth> for Listener {
    type Result = ();

    fn handle(&mut self, _: VenueHealth, _: &mut Context<Self>) {}
}

/// Runs `body` against an execution actor over `venue` (its commands through the inbox, each
/// with a ticket of the in-flight count); returns the tree and the reports that reached the
/// order manager.
fn with_execution<F, Fut>(venue: Box<dyn Venue>, body: F) -> (Supervision, Vec<ExecutionReport>)
where
    F: FnOnce(Inbox<Execute>, Inflight, ActorHandle) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut config = SupervisorConfig::default();
    config.intensity.max_restarts = 100;
    config.backoff.base_ms = 0;
    config.backoff.cap_ms = 0;
    let supervision = Supervision::new(
        &config,
        &TreeSpec::flat("root", Strategy::OneForOne, &["execution"]),
        HealthRegistry::new(config.intensity.window()),
        Rc::new(Cell::new(false)),
        1,
    );
    let reports = Rc::new(RefCell::new(Vec::new()));
    let system = System::new();
    system.block_on(async {
        let listener = Listener(reports.clone()).start();
        let om = Inbox::new(
            listener.clone().recipient(),
            supervision.health().mailbox_gauge("om"),
        );
        let handle = supervision.register("execution");
        let exec = ExecutionActor::new(
            venue,
            om,
            None,
            handle.clone(),
            VenueBreaker {
                guard: VenueGuard::new(BreakerConfig::default(), None),
                risk: Inbox::new(
                    listener.recipient(),
                    supervision.health().mailbox_gauge("risk"),
                ),
            },
        )
        .start();
        body(Inbox::of(&exec, &handle), Inflight::new(), handle).await;
    });
    let reports = reports.borrow().clone();
    (supervision, reports)
}

/// `commands` as one message, waited for until execution is done with it.
async fn execute(inbox: &Inbox<Execute>, inflight: &Inflight, commands: Vec<OrderCommand>) {
    inbox.send(Execute {
        commands,
        now: Timestamp(0),
        born: None,
        ticket: inflight.ticket(),
    });
    let drained = tokio::time::timeout(Duration::from_secs(120), inflight.idle()).await;
    assert!(drained.is_ok(), "the command was never done with");
}

fn cancel(id: &str) -> OrderCommand {
    OrderCommand::Cancel {
        id: ClientOrderId(id.into()),
    }
}

/// Sends one command through an execution actor over a venue that fails `failures` calls;
/// returns the tree, what the venue saw and the reports that reached the order manager.
fn execute_once(failures: u32) -> (Supervision, Rc<Seen>, Vec<ExecutionReport>) {
    let seen = Rc::new(Seen::default());
    seen.failures_left.set(failures);
    let venue = Box::new(PanickyVenue(seen.clone()));
    let (supervision, reports) = with_execution(venue, |inbox, inflight, _| async move {
        execute(&inbox, &inflight, vec![cancel("bt-BTCUSDT-000001")]).await;
    });
    (supervision, seen, reports)
}

#[test]
fn a_venue_call_that_panics_after_the_await_restarts_the_actor_and_is_delivered_again() {
    let (supervision, seen, reports) = execute_once(1);
    assert_eq!(seen.calls.get(), 2, "the failed call was made again");
    assert_eq!(seen.reloads.get(), 1, "the venue was rebuilt once");
    assert_eq!(
        reports.len(),
        1,
        "the order manager heard once: {reports:?}"
    );
    let stats = supervision.stats();
    assert_eq!(stats.failures.get("execution"), Some(&1));
    assert_eq!(stats.restarts.get("execution"), Some(&1));
    assert_eq!(stats.real_failures, 1, "a panic of keel's own code is real");
    assert_eq!(supervision.escalated(), None);
}

#[test]
fn a_venue_call_that_panics_on_every_delivery_is_quarantined_and_escalates() {
    let (supervision, seen, reports) = execute_once(u32::MAX);
    assert!(
        reports.is_empty(),
        "{reports:?} after {} calls, {:?}",
        seen.calls.get(),
        supervision.stats()
    );
    assert_eq!(
        seen.calls.get(),
        3,
        "delivered until the poison rule gave up"
    );
    let stats = supervision.stats();
    assert_eq!(stats.dead_letters.len(), 1);
    assert_eq!(stats.dead_letters[0].actor, "execution");
    assert_eq!(stats.dead_letters[0].policy, PoisonPolicy::Escalate);
    let escalated = supervision.escalated().expect("trading stopped");
    assert!(escalated.contains("execution"), "{escalated}");
}

/// A disk that refuses the venue book's writes halts trading on the venue without losing what
/// the call learnt; commands meanwhile are refused unsent (the order manager is told); the
/// first message after the disk heals journals the book and trading resumes in place, the
/// operator told both ways.
#[test]
fn a_book_that_cannot_be_journalled_halts_the_venue_until_it_can_then_trading_resumes() {
    let venue = DiskVenue::default();
    let (disk_full, reached) = (venue.disk_full.clone(), venue.reached.clone());
    let told = Rc::new(RefCell::new(Vec::new()));
    let (supervision, reports) = with_execution(Box::new(venue), {
        let told = told.clone();
        |inbox, inflight, handle| async move {
            disk_full.set(true);
            execute(&inbox, &inflight, vec![cancel("a")]).await;
            told.borrow_mut().push(handle.board().journal_failure());
            execute(&inbox, &inflight, vec![cancel("b")]).await;
            disk_full.set(false);
            execute(&inbox, &inflight, vec![cancel("c")]).await;
            told.borrow_mut().push(handle.board().journal_failure());
        }
    });
    assert_eq!(
        *reached.borrow(),
        [ClientOrderId("a".into()), ClientOrderId("c".into())],
        "nothing reached the venue while its book could not be journalled"
    );
    let summary: Vec<(String, &str)> = reports
        .iter()
        .map(|r| match r {
            ExecutionReport::Accepted { id, .. } => (id.0.to_string(), "accepted"),
            ExecutionReport::Rejected { id, reason, .. } => {
                assert!(
                    reason.starts_with("trading halted: journalling the venue book failed"),
                    "{reason}"
                );
                (id.0.to_string(), "refused unsent")
            }
            other => panic!("unexpected report {other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("a".to_string(), "accepted"),
            ("b".to_string(), "refused unsent"),
            ("c".to_string(), "accepted"),
        ],
        "what the failed call learnt still reached the order manager"
    );
    let told = told.borrow();
    assert_eq!(
        told[0].as_deref(),
        Some("execution: journalling the venue book failed: disk full")
    );
    assert_eq!(
        told[1], None,
        "the failure is over once the book is journalled"
    );
    assert_eq!(supervision.escalated(), None);
    assert_eq!(supervision.stats().restarts.get("execution"), None);
}
