//! Hangs: an instance past its deadline is fenced and replaced (or trading stops, per its
//! policy) while every other actor goes on, and the message it hung on is handled once.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use actix::prelude::*;

use super::test_wait::until;
use keel_supervision::{HealthRegistry, Strategy, SupervisorConfig};

use super::{
    hold, supervise, ActorHandle, Chaos, Deadlines, Inbox, OnHang, Rehydrate, RehydrateError,
    Respawn, Supervision, TreeSpec,
};

/// Logs each message it handles with its instance number. A message named `stall` is held
/// for work that never ends while `stalls` is set (the first time only: the flag is taken).
struct Worker {
    handle: ActorHandle,
    log: Rc<RefCell<Vec<String>>>,
    stalls: Rc<Cell<bool>>,
    on_hang: OnHang,
}

impl Actor for Worker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.handle.arm(ctx);
    }
}

impl Rehydrate for Worker {
    fn supervision(&self) -> &ActorHandle {
        &self.handle
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        Ok(())
    }
}

impl Respawn for Worker {
    fn respawn(&mut self) -> Self {
        Self {
            handle: self.handle.clone(),
            log: self.log.clone(),
            stalls: self.stalls.clone(),
            on_hang: self.on_hang,
        }
    }
}

#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
struct Note(&'static str);

impl Handler<Note> for Worker {
    type Result = ();

    fn handle(&mut self, msg: Note, ctx: &mut Context<Self>) {
        supervise(self, msg, ctx, |this, msg, ctx| {
            let line = format!(
                "{}:{}#{}",
                this.handle.name(),
                msg.0,
                this.handle.instance()
            );
            if msg.0 == "stall" && this.stalls.take() {
                let on_hang = this.on_hang;
                hold(
                    this,
                    ctx,
                    std::future::pending::<()>(),
                    on_hang,
                    |(), _, _| unreachable!("the stalled work never ends"),
                );
                return;
            }
            this.log.borrow_mut().push(line);
        });
    }
}

struct Fixture {
    supervision: Supervision,
    log: Rc<RefCell<Vec<String>>>,
    stalls: Rc<Cell<bool>>,
}

impl Fixture {
    /// Actors `a` and `b`; `a` has a deadline of `a_deadline`, `b` the default; kills (and
    /// the routes' copies) allowed.
    fn new(a_deadline: Duration) -> Self {
        let fixture = Self::without_kills(a_deadline);
        fixture.supervision.allow_kills().unwrap();
        fixture
    }

    /// As [`new`](Self::new), in a run that allows no kills: nothing is kept to send again.
    fn without_kills(a_deadline: Duration) -> Self {
        let config = SupervisorConfig::default();
        let supervision = Supervision::new(
            &config,
            &TreeSpec::flat("root", Strategy::OneForOne, &["a", "b"]),
            HealthRegistry::new(config.intensity.window()),
            Rc::new(Cell::new(false)),
            1,
        );
        supervision.set_deadlines(Deadlines {
            by_actor: HashMap::from([("a".to_string(), a_deadline)]),
            ..Deadlines::default()
        });
        Self {
            supervision,
            log: Rc::new(RefCell::new(Vec::new())),
            stalls: Rc::new(Cell::new(false)),
        }
    }

    fn start(&self, name: &str, on_hang: OnHang) -> (Inbox<Note>, ActorHandle) {
        let handle = self.supervision.register(name);
        let addr = Worker {
            handle: handle.clone(),
            log: self.log.clone(),
            stalls: self.stalls.clone(),
            on_hang,
        }
        .start();
        (Inbox::of(&addr, &handle), handle)
    }

    fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }
}

#[test]
fn an_injected_hang_is_replaced_at_the_deadline_while_the_others_keep_working() {
    let fixture = Fixture::new(Duration::from_millis(1_000));
    System::new().block_on(async {
        let (a, a_handle) = fixture.start("a", OnHang::Replace);
        let (b, _) = fixture.start("b", OnHang::Replace);
        a_handle.inject(Chaos::Hang);
        a.send(Note("first"));
        a.send(Note("second"));
        b.send(Note("meanwhile"));
        until("a's successor handled both messages", || {
            fixture.log().len() == 3
        })
        .await;
        // `b` was served while `a` hung; `a`'s messages reached its successor once, in order.
        assert_eq!(
            fixture.log(),
            ["b:meanwhile#1", "a:first#2", "a:second#2"],
            "b must not wait for a's hang, and a's messages must arrive once each"
        );
        let stats = fixture.supervision.stats();
        assert_eq!(stats.hangs.get("a"), Some(&1));
        assert_eq!(stats.injected_hangs.get("a"), Some(&1));
        assert_eq!(stats.hang_replacements.len(), 1);
        assert_eq!(a_handle.unacked(), 0, "every message acknowledged");
        let a_health = fixture
            .supervision
            .health()
            .actor("a", std::time::Instant::now())
            .unwrap();
        assert!(
            a_health
                .last_error
                .as_deref()
                .unwrap_or("")
                .contains("hung"),
            "the health registry says why a was replaced: {:?}",
            a_health.last_error
        );
    });
}

#[test]
fn work_held_past_the_deadline_is_dropped_and_the_message_handled_by_the_successor() {
    let fixture = Fixture::new(Duration::from_millis(300));
    fixture.stalls.set(true);
    System::new().block_on(async {
        let (a, a_handle) = fixture.start("a", OnHang::Replace);
        a.send(Note("stall"));
        a.send(Note("after"));
        until("a's successor handled both messages", || {
            fixture.log().len() == 2
        })
        .await;
        assert_eq!(fixture.log(), ["a:stall#2", "a:after#2"]);
        let stats = fixture.supervision.stats();
        assert_eq!(stats.hangs.get("a"), Some(&1));
        assert!(
            stats.injected_hangs.is_empty(),
            "a real hang is not an injected one"
        );
        assert_eq!(stats.restarts.get("a"), Some(&1));
        assert_eq!(a_handle.unacked(), 0);
        assert_eq!(fixture.supervision.escalated(), None);
    });
}

#[test]
fn a_hang_whose_policy_is_stop_stops_trading_and_names_the_actor() {
    let fixture = Fixture::new(Duration::from_millis(300));
    fixture.stalls.set(true);
    System::new().block_on(async {
        let (a, _) = fixture.start("a", OnHang::Stop);
        a.send(Note("stall"));
        until("trading stopped", || {
            fixture.supervision.escalated().is_some()
        })
        .await;
        let why = fixture.supervision.escalated().unwrap();
        assert!(why.starts_with("a hung"), "{why}");
        assert!(why.contains("trading stops safely"), "{why}");
        assert_eq!(fixture.supervision.stats().hangs.get("a"), Some(&1));
        assert!(fixture.log().is_empty(), "{:?}", fixture.log());
    });
}

#[test]
fn a_hang_where_nothing_is_kept_to_send_again_stops_trading_rather_than_lose_the_message() {
    let fixture = Fixture::without_kills(Duration::from_millis(300));
    fixture.stalls.set(true);
    System::new().block_on(async {
        let (a, _) = fixture.start("a", OnHang::Replace);
        a.send(Note("stall"));
        until("trading stopped", || {
            fixture.supervision.escalated().is_some()
        })
        .await;
        let why = fixture.supervision.escalated().unwrap();
        assert!(why.contains("cannot be replaced safely"), "{why}");
        assert_eq!(fixture.supervision.stats().hang_replacements.len(), 0);
    });
}
