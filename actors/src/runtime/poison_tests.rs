//! The poison rule on a small actor: real failures quarantine a message, injected kills do
//! not, and the policy decides between skipping it and stopping trading.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use keel_supervision::{HealthRegistry, Strategy, SupervisorConfig};

use super::{
    contain, ActorHandle, Chaos, DeadLetter, PoisonPolicy, Rehydrate, RehydrateError, Supervision,
    TreeSpec,
};

/// Adds the numbers it is sent; 13 makes it panic after its state changed (halfway), and a
/// flaky number fails its first `flaky_failures` deliveries.
struct Adder {
    handle: ActorHandle,
    total: u64,
    /// The last state a message left complete: what a restart rebuilds.
    checkpoint: u64,
    policy: PoisonPolicy,
    flaky_failures: u32,
    /// Kills the monkey strikes on the deliveries after a restart.
    kills_after_restart: u32,
}

impl Adder {
    fn add(&mut self, n: u64) -> Option<u64> {
        contain(self, &n, |this| {
            this.total += n;
            if n == 13 {
                panic!("thirteen is unlucky");
            }
            if n == 7 && this.flaky_failures > 0 {
                this.flaky_failures -= 1;
                panic!("seven is flaky");
            }
            this.checkpoint = this.total;
            this.total
        })
    }
}

impl Rehydrate for Adder {
    fn supervision(&self) -> &ActorHandle {
        &self.handle
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        self.total = self.checkpoint;
        if self.kills_after_restart > 0 {
            self.kills_after_restart -= 1;
            self.handle.inject(Chaos::Panic);
        }
        Ok(())
    }

    fn poison_policy(&self) -> PoisonPolicy {
        self.policy
    }
}

struct Fixture {
    supervision: Supervision,
    shutdown: Rc<Cell<bool>>,
    journalled: Rc<RefCell<Vec<DeadLetter>>>,
}

fn fixture() -> Fixture {
    let mut config = SupervisorConfig::default();
    config.intensity.max_restarts = 100;
    config.backoff.base_ms = 0;
    config.backoff.cap_ms = 0;
    let shutdown = Rc::new(Cell::new(false));
    let supervision = Supervision::new(
        &config,
        &TreeSpec::flat("root", Strategy::OneForOne, &["adder"]),
        HealthRegistry::new(config.intensity.window()),
        shutdown.clone(),
        1,
    );
    let journalled = Rc::new(RefCell::new(Vec::new()));
    let sink = journalled.clone();
    supervision.on_dead_letter(move |letter| {
        sink.borrow_mut().push(letter.clone());
        Ok(())
    });
    Fixture {
        supervision,
        shutdown,
        journalled,
    }
}

fn adder(fixture: &Fixture, policy: PoisonPolicy) -> Adder {
    Adder {
        handle: fixture.supervision.register("adder"),
        total: 0,
        checkpoint: 0,
        policy,
        flaky_failures: 0,
        kills_after_restart: 0,
    }
}

#[test]
fn a_message_that_fails_every_delivery_is_quarantined_and_skipped_without_half_applied_state() {
    let fixture = fixture();
    let mut actor = adder(&fixture, PoisonPolicy::Skip);
    assert_eq!(actor.add(1), Some(1));
    assert_eq!(actor.add(13), None, "the poison message is not handled");
    assert_eq!(
        actor.add(2),
        Some(3),
        "the next message sees the state before the poison, not its half-applied 13"
    );
    let stats = fixture.supervision.stats();
    assert_eq!(stats.dead_letters.len(), 1);
    let letter = &stats.dead_letters[0];
    assert_eq!(letter.actor, "adder");
    assert_eq!(letter.message, "13");
    assert_eq!(letter.policy, PoisonPolicy::Skip);
    assert_eq!(letter.failures.len(), 3, "{:?}", letter.failures);
    assert!(letter
        .failures
        .iter()
        .all(|f| f.contains("thirteen is unlucky")));
    assert_eq!(*fixture.journalled.borrow(), stats.dead_letters);
    assert_eq!(fixture.supervision.escalated(), None);
    assert!(!fixture.shutdown.get());
    assert_eq!(
        fixture.supervision.board().quarantine(),
        (
            1,
            Some("a message to adder failed 3 deliveries and was quarantined (skipped)".into())
        ),
        "the operator's board (and its alerts) are told"
    );
}

#[test]
fn a_poison_message_for_an_actor_that_cannot_skip_it_stops_trading() {
    let fixture = fixture();
    let mut actor = adder(&fixture, PoisonPolicy::Escalate);
    assert_eq!(actor.add(13), None);
    let why = fixture.supervision.escalated().expect("escalated");
    assert!(why.contains("adder: poison message"), "{why}");
    assert_eq!(
        fixture.supervision.board().trading_stopped().as_deref(),
        Some(why.as_str())
    );
    assert!(fixture.shutdown.get(), "trading must stop");
    assert_eq!(
        actor.add(2),
        None,
        "nothing is handled after the escalation"
    );
    assert_eq!(fixture.journalled.borrow().len(), 1);
    assert_eq!(
        fixture.journalled.borrow()[0].policy,
        PoisonPolicy::Escalate
    );
}

#[test]
fn injected_kills_do_not_count_towards_the_poison_rule() {
    let fixture = fixture();
    let mut actor = adder(&fixture, PoisonPolicy::Skip);
    // Two real failures and three kills between them: five failed deliveries, but only two
    // that the message caused, fewer than the three that make poison.
    actor.flaky_failures = 2;
    actor.kills_after_restart = 3;
    assert_eq!(actor.add(7), Some(7), "handled on its sixth delivery");
    let stats = fixture.supervision.stats();
    assert!(stats.dead_letters.is_empty(), "{:?}", stats.dead_letters);
    assert_eq!(stats.failures.get("adder"), Some(&5));
    assert_eq!(stats.injected.get("adder"), Some(&(3, 0)));
    assert_eq!(stats.real_failures, 2);
}

#[test]
fn the_same_real_failure_without_kills_is_poison() {
    // The control for the test above: the count of real failures is what decides.
    let fixture = fixture();
    let mut actor = adder(&fixture, PoisonPolicy::Skip);
    actor.flaky_failures = 3;
    assert_eq!(actor.add(7), None);
    assert_eq!(fixture.supervision.stats().dead_letters.len(), 1);
}
