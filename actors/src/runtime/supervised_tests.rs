//! A restart's backoff holds only the failed actor's mailbox: the others go on meanwhile, and
//! the failed actor's own messages keep their order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;
use keel_supervision::{HealthRegistry, Strategy, SupervisorConfig};

use super::{supervise, ActorHandle, Rehydrate, RehydrateError, Respawn, Supervision, TreeSpec};

/// Fails its first `failures_left` deliveries, then writes what it handles into `log`.
struct Flaky {
    handle: ActorHandle,
    failures_left: u32,
    log: Rc<RefCell<Vec<String>>>,
}

impl Actor for Flaky {
    type Context = Context<Self>;
}

impl Rehydrate for Flaky {
    fn supervision(&self) -> &ActorHandle {
        &self.handle
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        Ok(())
    }
}

impl Respawn for Flaky {
    fn respawn(&mut self) -> Self {
        Self {
            handle: self.handle.clone(),
            failures_left: self.failures_left,
            log: self.log.clone(),
        }
    }
}

#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Note(&'static str);

impl Handler<Note> for Flaky {
    type Result = ();

    fn handle(&mut self, msg: Note, ctx: &mut Context<Self>) {
        supervise(self, msg, ctx, |this, msg, _| {
            if this.failures_left > 0 {
                this.failures_left -= 1;
                panic!("flaky handler");
            }
            let line = format!("{}:{}", this.handle.name(), msg.0);
            this.log.borrow_mut().push(line);
        });
    }
}

#[test]
fn a_restart_waiting_for_its_backoff_holds_only_its_own_mailbox() {
    let mut config = SupervisorConfig::default();
    // The second restart in a row waits 400 ms: long enough for the other actor's message
    // to be handled first only if nothing sleeps on the shared thread.
    config.backoff.base_ms = 400;
    config.backoff.cap_ms = 400;
    config.backoff.jitter = 0.0;
    let supervision = Supervision::new(
        &config,
        &TreeSpec::flat("root", Strategy::OneForOne, &["a", "b"]),
        HealthRegistry::new(config.intensity.window()),
        Rc::new(Cell::new(false)),
        1,
    );
    let log = Rc::new(RefCell::new(Vec::new()));
    let system = System::new();
    system.block_on(async {
        let failing = Flaky {
            handle: supervision.register("a"),
            failures_left: 2,
            log: log.clone(),
        }
        .start();
        let healthy = Flaky {
            handle: supervision.register("b"),
            failures_left: 0,
            log: log.clone(),
        }
        .start();
        failing.do_send(Note("first"));
        failing.do_send(Note("second"));
        healthy.do_send(Note("ping"));
        let all_handled = async {
            while log.borrow().len() < 3 {
                actix::clock::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(120), all_handled)
            .await
            .expect("the three messages were never all handled");
    });
    assert_eq!(
        *log.borrow(),
        ["b:ping", "a:first", "a:second"],
        "b must not wait for a's backoff; a's messages keep their order"
    );
    let stats = supervision.stats();
    assert_eq!(stats.restarts.get("a"), Some(&2));
    assert_eq!(stats.recovery.len(), 1);
    assert!(
        stats.recovery[0] >= Duration::from_millis(400),
        "the message was delivered again only after the backoff: {:?}",
        stats.recovery[0]
    );
    // What an operator sees: restarted twice, failed twice, running again.
    let a = supervision
        .health()
        .actor("a", std::time::Instant::now())
        .unwrap();
    assert_eq!(a.state, keel_supervision::ActorState::Running, "{a}");
    assert_eq!((a.restarts_total, a.failures_total), (2, 2));
}

#[test]
fn a_query_that_fails_is_answered_by_the_restarted_actor_and_leaves_the_mailbox_count_alone() {
    let mut config = SupervisorConfig::default();
    config.backoff.jitter = 0.0;
    let supervision = Supervision::new(
        &config,
        &TreeSpec::flat("root", Strategy::OneForOne, &["a"]),
        HealthRegistry::new(config.intensity.window()),
        Rc::new(Cell::new(false)),
        1,
    );
    let mut actor = Flaky {
        handle: supervision.register("a"),
        failures_left: 1,
        log: Rc::new(RefCell::new(Vec::new())),
    };
    // One counted message waits in the mailbox; the query (awaited, never counted in) must
    // not count it out.
    actor.handle.mailbox().increment();
    let answered = super::answer(&mut actor, &"how many?", |this| {
        if this.failures_left > 0 {
            this.failures_left -= 1;
            panic!("query bug");
        }
        42
    });
    assert_eq!(answered, Some(42));
    let stats = supervision.stats();
    assert_eq!(stats.failures.get("a"), Some(&1));
    assert_eq!(stats.restarts.get("a"), Some(&1));
    assert_eq!(actor.handle.mailbox().get(), Some(1));
}
