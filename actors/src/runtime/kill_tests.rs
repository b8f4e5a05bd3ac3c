//! Real kills: the context stops, the mailbox is dropped, a fresh instance takes over, and
//! every message the dead instance had not handled reaches the fresh one exactly once.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;

use super::test_wait::until;
use keel_supervision::{HealthRegistry, Strategy, SupervisorConfig};

use super::{
    hold, supervise, ActorHandle, Inbox, OnHang, Rehydrate, RehydrateError, Respawn, Supervision,
    TreeSpec,
};

/// Logs each message it handles with the number of its instance (1 for the first).
struct Counter {
    handle: ActorHandle,
    instance: u32,
    log: Rc<RefCell<Vec<String>>>,
    stopped: Rc<Cell<u32>>,
    /// Opens the work an [`AwaitWork`] message waits for.
    gate: std::sync::Arc<tokio::sync::Notify>,
}

impl Actor for Counter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.handle.arm(ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.stopped.set(self.stopped.get() + 1);
    }
}

impl Rehydrate for Counter {
    fn supervision(&self) -> &ActorHandle {
        &self.handle
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        Ok(())
    }
}

impl Respawn for Counter {
    fn respawn(&mut self) -> Self {
        Self {
            handle: self.handle.clone(),
            instance: self.instance + 1,
            log: self.log.clone(),
            stopped: self.stopped.clone(),
            gate: self.gate.clone(),
        }
    }
}

#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
struct Note(&'static str);

impl Handler<Note> for Counter {
    type Result = ();

    fn handle(&mut self, msg: Note, ctx: &mut Context<Self>) {
        supervise(self, msg, ctx, |this, msg, _| {
            this.log
                .borrow_mut()
                .push(format!("{}:{}", this.instance, msg.0));
        });
    }
}

/// Starts work the handler awaits (the mailbox held, as the execution actor awaits the
/// venue), and is told of a kill while it waits.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
struct AwaitWork;

impl Handler<AwaitWork> for Counter {
    type Result = ();

    fn handle(&mut self, msg: AwaitWork, ctx: &mut Context<Self>) {
        supervise(self, msg, ctx, |this, _, ctx| {
            let gate = this.gate.clone();
            let work = async move { gate.notified().await };
            hold(this, ctx, work, OnHang::Replace, |(), this, _| {
                this.log
                    .borrow_mut()
                    .push(format!("{}:work done", this.instance));
            });
            // A kill asked for in the same turn: the watch runs before the context has taken
            // the awaited work up.
            this.handle.kill();
        });
    }
}

struct Fixture {
    supervision: Supervision,
    log: Rc<RefCell<Vec<String>>>,
    stopped: Rc<Cell<u32>>,
    gate: std::sync::Arc<tokio::sync::Notify>,
}

impl Fixture {
    fn new(config: &SupervisorConfig) -> Self {
        let supervision = Supervision::new(
            config,
            &TreeSpec::flat("root", Strategy::OneForOne, &["counter"]),
            HealthRegistry::new(config.intensity.window()),
            Rc::new(Cell::new(false)),
            1,
        );
        supervision.allow_kills().unwrap();
        Self {
            supervision,
            log: Rc::new(RefCell::new(Vec::new())),
            stopped: Rc::new(Cell::new(0)),
            gate: Default::default(),
        }
    }

    fn start(&self) -> (Inbox<Note>, ActorHandle, Addr<Counter>) {
        let handle = self.supervision.register("counter");
        let addr = Counter {
            handle: handle.clone(),
            instance: 1,
            log: self.log.clone(),
            stopped: self.stopped.clone(),
            gate: self.gate.clone(),
        }
        .start();
        (Inbox::of(&addr, &handle), handle, addr)
    }
}

#[test]
fn a_message_sent_while_the_actor_is_dead_reaches_its_successor_once() {
    let mut config = SupervisorConfig::default();
    // Kills count like failures here, so the restart waits for its backoff: the actor is
    // dead for 300 ms.
    config.backoff.base_ms = 300;
    config.backoff.cap_ms = 300;
    config.backoff.jitter = 0.0;
    let fixture = Fixture::new(&config);
    fixture.supervision.count_kills();
    System::new().block_on(async {
        let (inbox, handle, _) = fixture.start();
        inbox.send(Note("before"));
        until("the first instance handled its message", || {
            fixture.log.borrow().len() == 1
        })
        .await;
        // The first restart in a row is at once; the second waits for the backoff.
        handle.kill();
        until("the first instance's context stopped", || {
            fixture.stopped.get() == 1
        })
        .await;
        inbox.send(Note("second"));
        until("the second instance handled its message", || {
            fixture.log.borrow().len() == 2
        })
        .await;
        handle.kill();
        until("the second instance's context stopped", || {
            fixture.stopped.get() == 2
        })
        .await;
        inbox.send(Note("while dead"));
        assert_eq!(
            handle.unacked(),
            1,
            "the route keeps what the dead cannot take"
        );
        until("the successor handled the message sent while dead", || {
            fixture.log.borrow().len() == 3
        })
        .await;
        // Anything sent twice would have been handled by now: the successor is idle.
        inbox.send(Note("after"));
        until("the successor handled the next message", || {
            fixture.log.borrow().len() == 4
        })
        .await;
        assert_eq!(handle.unacked(), 0);
    });
    assert_eq!(
        *fixture.log.borrow(),
        ["1:before", "2:second", "3:while dead", "3:after"],
        "delivered once, to the fresh instance"
    );
    let stats = fixture.supervision.stats();
    assert_eq!(stats.restarts.get("counter"), Some(&2));
    assert_eq!(stats.injected.get("counter"), Some(&(0, 2)));
    let waited = stats.recovery.iter().max().copied().unwrap_or_default();
    assert!(
        waited >= Duration::from_millis(300),
        "the second successor started only after the backoff: {:?}",
        stats.recovery
    );
}

#[test]
fn a_kill_drops_the_mailbox_and_the_successor_gets_every_message_in_order() {
    let fixture = Fixture::new(&SupervisorConfig::default());
    System::new().block_on(async {
        let (inbox, handle, first) = fixture.start();
        // The kill is due before the instance runs again: it dies at the first of these
        // messages, with the other two still in its mailbox.
        handle.kill();
        for note in ["a", "b", "c"] {
            inbox.send(Note(note));
        }
        until("the successor handled all three messages", || {
            fixture.log.borrow().len() >= 3
        })
        .await;
        assert!(!first.connected(), "the first instance's mailbox is gone");
        inbox.send(Note("d"));
        until("the successor handled the fourth message", || {
            fixture.log.borrow().len() >= 4
        })
        .await;
        assert_eq!(handle.unacked(), 0);
        assert_eq!(
            fixture.stopped.get(),
            1,
            "one instance stopped, its successor runs"
        );
    });
    assert_eq!(
        *fixture.log.borrow(),
        ["2:a", "2:b", "2:c", "2:d"],
        "nothing handled by the dead instance, nothing lost, nothing twice"
    );
}

/// Asks which instance answers.
#[derive(Debug, Clone, Message)]
#[rtype(result = "u32")]
struct WhoAnswers;

impl Handler<WhoAnswers> for Counter {
    type Result = u32;

    fn handle(&mut self, msg: WhoAnswers, _: &mut Context<Self>) -> u32 {
        super::answer(self, &msg, |this| this.instance).unwrap_or(0)
    }
}

#[test]
fn a_query_through_a_route_made_after_a_kill_is_answered_by_the_successor() {
    let fixture = Fixture::new(&SupervisorConfig::default());
    let answer = System::new().block_on(async {
        let (_, handle, first) = fixture.start();
        handle.kill();
        until("the first instance's context stopped", || {
            fixture.stopped.get() == 1
        })
        .await;
        // Made from the first instance's address, which is dead: the route points at the
        // successor all the same.
        Inbox::of(&first, &handle).ask(WhoAnswers).await
    });
    assert_eq!(answer.ok(), Some(2));
}

#[test]
fn a_tree_that_does_not_allow_kills_refuses_one_and_keeps_no_copies() {
    let config = SupervisorConfig::default();
    let supervision = Supervision::new(
        &config,
        &TreeSpec::flat("root", Strategy::OneForOne, &["counter"]),
        HealthRegistry::new(config.intensity.window()),
        Rc::new(Cell::new(false)),
        1,
    );
    let fixture = Fixture {
        supervision,
        log: Rc::new(RefCell::new(Vec::new())),
        stopped: Rc::new(Cell::new(0)),
        gate: Default::default(),
    };
    System::new().block_on(async {
        let (inbox, handle, first) = fixture.start();
        inbox.send(Note("a"));
        assert_eq!(handle.unacked(), 0, "nothing kept: nobody can kill");
        handle.kill();
        inbox.send(Note("b"));
        until("both messages handled", || fixture.log.borrow().len() == 2).await;
        assert!(
            first.connected(),
            "the refused kill left the instance alive"
        );
        assert_eq!(fixture.stopped.get(), 0);
    });
    assert_eq!(*fixture.log.borrow(), ["1:a", "1:b"]);
    assert!(
        fixture.supervision.allow_kills().is_err(),
        "too late once a message was sent without a copy kept"
    );
}

/// Panics outside the supervisor: a handler that does not go through `supervise`.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
struct Escape;

impl Handler<Escape> for Counter {
    type Result = ();

    fn handle(&mut self, _: Escape, _: &mut Context<Self>) {
        panic!("a bug outside every containment");
    }
}

#[test]
fn an_actor_that_dies_outside_its_supervisor_stops_trading_and_holds_nothing() {
    let fixture = Fixture::new(&SupervisorConfig::default());
    System::new().block_on(async {
        let (inbox, handle, addr) = fixture.start();
        inbox.send(Note("before"));
        addr.do_send(Escape);
        until("the tree noticed the dead actor", || handle.tree_gave_up()).await;
        inbox.send(Note("after"));
        assert_eq!(
            handle.unacked(),
            0,
            "nothing kept for an actor that will never handle it"
        );
    });
    let why = fixture.supervision.escalated().unwrap_or_default();
    assert!(why.contains("counter died outside its supervisor"), "{why}");
    assert_eq!(*fixture.log.borrow(), ["1:before"]);
}

#[test]
fn a_kill_past_the_restart_intensity_stops_trading_and_keeps_nothing_more() {
    let mut config = SupervisorConfig::default();
    config.intensity.max_restarts = 0;
    let fixture = Fixture::new(&config);
    fixture.supervision.count_kills();
    System::new().block_on(async {
        let (inbox, handle, _) = fixture.start();
        inbox.send(Note("before"));
        until("the first instance handled its message", || {
            fixture.log.borrow().len() == 1
        })
        .await;
        handle.kill();
        until("trading stopped", || {
            fixture.supervision.escalated().is_some()
        })
        .await;
        // Nothing will handle it: kept, it would hold its in-flight ticket forever and the
        // run would never drain.
        inbox.send(Note("after"));
        assert_eq!(handle.unacked(), 0, "nothing kept once trading stopped");
    });
    assert_eq!(*fixture.log.borrow(), ["1:before"]);
}

/// A kill that comes while a handler awaits its work (a venue call in flight) waits for the
/// work to finish: killing at once would drop it half done (the execution actor's successor
/// was left without its venue, and fills the call had journalled never reached the order
/// manager). The instance dies once the work is done, and its successor takes what follows.
#[test]
fn a_kill_while_a_handler_awaits_its_work_waits_until_the_work_is_done() {
    let fixture = Fixture::new(&SupervisorConfig::default());
    System::new().block_on(async {
        let (inbox, handle, addr) = fixture.start();
        let work = Inbox::<AwaitWork>::of(&addr, &handle);
        work.send(AwaitWork);
        until("the handler awaiting its work", || handle.unacked() == 1).await;
        actix_rt::task::yield_now().await;
        assert_eq!(fixture.stopped.get(), 0, "killed with its work in hand");
        fixture.gate.notify_one();
        until("the first instance dead once its work is done", || {
            fixture.stopped.get() == 1
        })
        .await;
        inbox.send(Note("after"));
        until("the successor handled the next message", || {
            fixture.log.borrow().len() == 2
        })
        .await;
        assert_eq!(handle.unacked(), 0);
    });
    assert_eq!(
        *fixture.log.borrow(),
        ["1:work done", "2:after"],
        "the work finished by the instance that began it, nothing done twice"
    );
}
