//! Supervision of the actor shells (DESIGN §4): a panic inside a handler is contained, the
//! actor's state is rehydrated, and the message it was handling is delivered again, so a
//! restart neither drops nor repeats anything; restart decisions, intensity and escalation
//! come from `keel-supervision`.
//!
//! The tree is declared as data ([`TreeSpec`]; DESIGN §2 is [`TreeSpec::pipeline`]). A
//! restart happens in place: the actor keeps its address and mailbox; siblings the strategy
//! restarts rehydrate before their next message. Past a supervisor's restart intensity the
//! failure escalates to its parent; past the root's, trading stops safely and the process
//! exits with code 70.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::rc::Rc;
use std::time::{Duration, Instant};

use keel_supervision::{
    ChildId, ExitReason, HealthRegistry, Jitter, RestartType, SupervisionEvent, SupervisorAction,
    SupervisorConfig, SupervisorCore,
};
use tracing::{error, warn};

use super::failpoints;
use super::panics::contained;
use super::poison::{DeadLetter, PoisonPolicy, POISON_ATTEMPTS};
use super::route::Routes;
use super::sabotage::Sabotage;
use super::tree::{ChildSpec, TreeSpec};
use crate::journal::JournalError;

/// What the chaos monkey does to an actor's next message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chaos {
    /// Panic inside the handler.
    Panic,
    /// Stop the actor (it is restarted like after a crash).
    Stop,
    /// Poison the next message: it fails on every delivery, like a message that makes the
    /// handler panic every time, and is quarantined.
    Poison,
}

/// An actor whose state can be rebuilt after a failure; when it cannot, the failure escalates.
pub trait Rehydrate {
    /// The actor's supervision handle.
    fn supervision(&self) -> &ActorHandle;
    /// Rebuilds the actor's state as it was before the message being handled (from a
    /// checkpoint, the journal, or its upstream history).
    fn rehydrate(&mut self) -> Result<(), RehydrateError>;
    /// What to do with a message that keeps failing: escalate unless the actor says a
    /// message of its can be skipped without losing anything that matters.
    fn poison_policy(&self) -> PoisonPolicy {
        PoisonPolicy::Escalate
    }
}

/// Why an actor's state could not be rebuilt. Never recoverable by retrying: a state that
/// cannot be rebuilt cannot be trusted, so the failure escalates to a safe stop.
#[derive(Debug, thiserror::Error)]
pub enum RehydrateError {
    /// The run keeps no journal to rebuild `.0` from.
    #[error("no journal to rebuild {0} from")]
    NoJournal(&'static str),
    /// The journal could not be read.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// What the journal holds does not make a valid state.
    #[error("the journalled state of {what} is invalid: {why}")]
    Invalid {
        /// Whose state.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The journal and the venue disagree and keel will not guess.
    #[error("reconciliation unresolved:\n{0}")]
    Unreconciled(String),
}

/// Restarts and recovery latency, for reports.
#[derive(Debug, Clone, Default)]
pub struct SupervisionStats {
    /// Failures (panics and stops), by actor.
    pub failures: std::collections::BTreeMap<String, u64>,
    /// Restarts, by actor (a sibling restarted by the strategy counts too).
    pub restarts: std::collections::BTreeMap<String, u64>,
    /// From a failure to the successful handling of the message it interrupted.
    pub recovery: Vec<Duration>,
    /// Panics the handlers raised (contained).
    pub panics: u64,
    /// Chaos taken, by actor: (panics, stops) injected and actually suffered.
    pub injected: std::collections::BTreeMap<String, (u64, u64)>,
    /// Failed deliveries the monkey did not strike: the handlers' own panics and a poisoned
    /// message's deliveries (what the poison rule counts).
    pub real_failures: u64,
    /// Messages quarantined after failing every delivery.
    pub dead_letters: Vec<DeadLetter>,
    /// Failpoints that fired inside a handler (and were contained), by name.
    pub failpoints: std::collections::BTreeMap<String, u64>,
}

struct Node {
    core: SupervisorCore,
    /// This supervisor as a child of its parent.
    parent: Option<(usize, ChildId)>,
    /// Actors and sub-supervisors, by child id.
    members: Vec<(ChildId, Member)>,
}

#[derive(Clone)]
enum Member {
    Actor(Rc<ActorCell>),
    Group(usize),
}

pub(super) struct ActorCell {
    pub(super) name: Rc<str>,
    pub(super) mailbox: keel_supervision::MailboxGauge,
    chaos: Cell<Option<Chaos>>,
    restart_pending: Cell<bool>,
    node: usize,
    child: ChildId,
    /// How senders reach the actor's current instance, and what it has not handled yet.
    pub(super) routes: Routes,
    /// A real kill is due (the monkey asked for one).
    pub(super) kill_due: Cell<bool>,
    /// Wakes the instance's kill watch ([`ActorHandle::arm`]).
    pub(super) kill_wake: Rc<tokio::sync::Notify>,
    /// The supervisor is replacing the instance (its context stops on purpose).
    pub(super) replacing: Cell<bool>,
    /// When the instance was last killed, until its successor has handled a message.
    pub(super) killed_at: Cell<Option<Instant>>,
}

pub(super) struct Inner {
    health: HealthRegistry,
    nodes: RefCell<Vec<Node>>,
    /// Every actor the tree declares, by name: its supervisor node and child id.
    declared: std::collections::HashMap<String, (usize, ChildId)>,
    escalated: RefCell<Option<String>>,
    shutdown: Rc<Cell<bool>>,
    pub(super) stats: RefCell<SupervisionStats>,
    on_delivery: RefCell<Option<Box<dyn FnMut()>>>,
    /// Where quarantined messages are written (the journal), if anywhere.
    dead_letter_sink: RefCell<Option<DeadLetterSink>>,
    sabotage: Cell<Option<Sabotage>>,
    /// The monkey's kills count against the restart intensity like real failures.
    count_kills: Cell<bool>,
}

/// Writes a dead letter durably; `Err` says why it could not.
pub type DeadLetterSink = Box<dyn FnMut(&DeadLetter) -> Result<(), String>>;

/// The supervision tree of one runtime (single-threaded: every actor shares one arbiter).
#[derive(Clone)]
pub struct Supervision(pub(super) Rc<Inner>);

/// An actor's link to the tree: its chaos switch and restart flag.
#[derive(Clone)]
pub struct ActorHandle {
    pub(super) cell: Rc<ActorCell>,
    pub(super) supervision: Supervision,
}

impl ActorHandle {
    /// The actor's name in events and reports.
    pub fn name(&self) -> &str {
        &self.cell.name
    }

    /// The actor's mailbox gauge: give it to the senders' [`Inbox`](super::Inbox).
    pub fn mailbox(&self) -> keel_supervision::MailboxGauge {
        self.cell.mailbox.clone()
    }

    /// Lists a circuit breaker this actor guards in the health registry (closed).
    pub fn register_breaker(&self, breaker: &str) {
        self.supervision
            .health()
            .register_breaker(breaker, keel_supervision::BreakerState::Closed);
    }

    /// Records a circuit breaker's state change as a supervision event.
    pub fn breaker_changed(&self, breaker: &str, transition: &keel_supervision::Transition) {
        self.supervision
            .record(SupervisionEvent::breaker(breaker, transition));
    }

    /// Makes the actor's next message fail this way (the chaos monkey); a [`Chaos::Stop`]
    /// is a real kill ([`kill`](Self::kill)).
    pub fn inject(&self, chaos: Chaos) {
        match chaos {
            Chaos::Stop => self.kill(),
            _ => self.cell.chaos.set(Some(chaos)),
        }
    }

    /// Kills the actor for real: at its next turn (at once when idle; after the message it is
    /// handling otherwise) its context stops, its mailbox is dropped with the messages in it,
    /// and the supervisor starts a fresh instance to which the senders' routes are re-pointed
    /// and every message not handled is sent again (see [`arm`](Self::arm)).
    pub fn kill(&self) {
        self.cell.kill_due.set(true);
        self.cell.kill_wake.notify_one();
    }

    /// How senders reach this actor (for [`Inbox::of`](super::Inbox::of)).
    pub(super) fn routes(&self) -> &Routes {
        &self.cell.routes
    }

    /// Messages sent to the actor and not yet handled to the end.
    pub fn unacked(&self) -> usize {
        self.cell.routes.unacked()
    }

    /// The root supervisor gave up, or the actor died where no supervisor saw it: nothing
    /// will be handled any more.
    pub fn tree_gave_up(&self) -> bool {
        self.supervision.escalated().is_some() || self.cell.routes.abandoned()
    }
}

impl Supervision {
    /// The tree `spec` declares, whose supervisors all use `config`'s intensity and backoff
    /// (each its own strategy); an escalation past the root sets `shutdown`. Its actors join
    /// with [`register`](Self::register).
    pub fn new(
        config: &SupervisorConfig,
        spec: &TreeSpec,
        health: HealthRegistry,
        shutdown: Rc<Cell<bool>>,
        seed: u64,
    ) -> Self {
        let mut nodes = Vec::new();
        let mut declared = std::collections::HashMap::new();
        build(spec, None, config, seed, &mut nodes, &mut declared);
        Self(Rc::new(Inner {
            health,
            nodes: RefCell::new(nodes),
            declared,
            escalated: RefCell::new(None),
            shutdown,
            stats: RefCell::new(SupervisionStats::default()),
            on_delivery: RefCell::new(None),
            dead_letter_sink: RefCell::new(None),
            sabotage: Cell::new(None),
            count_kills: Cell::new(false),
        }))
    }

    /// Joins the actor the tree declares as `name` to it. Panics when the tree declares no
    /// such actor or it joined already: the wiring and the tree disagree, a programming error.
    pub fn register(&self, name: &str) -> ActorHandle {
        let Some(&(node, child)) = self.0.declared.get(name) else {
            panic!("actor {name} is not in the supervision tree");
        };
        let mut nodes = self.0.nodes.borrow_mut();
        let joined = nodes[node].members.iter().any(|(id, _)| *id == child);
        assert!(!joined, "actor {name} registered twice");
        let mailbox = self.0.health.mailbox_gauge(name);
        mailbox.set(0);
        let cell = Rc::new(ActorCell {
            name: name.into(),
            mailbox,
            chaos: Cell::new(None),
            restart_pending: Cell::new(false),
            node,
            child,
            routes: Routes::default(),
            kill_due: Cell::new(false),
            replacing: Cell::new(false),
            kill_wake: Rc::new(tokio::sync::Notify::new()),
            killed_at: Cell::new(None),
        });
        nodes[node]
            .members
            .push((child, Member::Actor(cell.clone())));
        self.0.health.register_actor(name);
        self.record(SupervisionEvent::started(name));
        ActorHandle {
            cell,
            supervision: self.clone(),
        }
    }

    /// The health registry (states, restarts, last errors).
    pub fn health(&self) -> &HealthRegistry {
        &self.0.health
    }

    /// Why the root gave up, if it did.
    pub fn escalated(&self) -> Option<String> {
        self.0.escalated.borrow().clone()
    }

    /// Calls `hook` once before each message a supervised actor handles (redeliveries after
    /// a restart excluded): the chaos monkey strikes by message count, so what it does
    /// depends on the run, never on how fast the machine is. Replaces any earlier hook.
    pub fn on_delivery(&self, hook: impl FnMut() + 'static) {
        *self.0.on_delivery.borrow_mut() = Some(Box::new(hook));
    }

    /// Removes the delivery hook (it may hold actor handles, and with them this tree).
    pub fn clear_delivery_hook(&self) {
        self.0.on_delivery.borrow_mut().take();
    }

    /// Writes every quarantined message with `sink` (the journal's dead-letter records).
    pub fn on_dead_letter(&self, sink: impl FnMut(&DeadLetter) -> Result<(), String> + 'static) {
        *self.0.dead_letter_sink.borrow_mut() = Some(Box::new(sink));
    }

    /// Makes the chaos monkey's kills count against the restart intensity like real failures
    /// (`keel chaos --max-restarts`, to see escalation); by default they do not, so that a
    /// chaos run measures recovery.
    pub fn count_kills(&self) {
        self.0.count_kills.set(true);
    }

    /// Breaks supervision on purpose (`keel chaos --sabotage`, for the invariant tests).
    pub fn sabotage(&self, sabotage: Sabotage) {
        self.0.sabotage.set(Some(sabotage));
    }

    /// The sabotage this tree suffers, if any.
    pub fn sabotaged(&self) -> Option<Sabotage> {
        self.0.sabotage.get()
    }

    /// Restart counts and recovery latencies so far.
    pub fn stats(&self) -> SupervisionStats {
        self.0.stats.borrow().clone()
    }

    pub(super) fn record(&self, event: SupervisionEvent) {
        let abnormal = event.abnormal;
        if abnormal {
            warn!(actor = %event.actor, event = %event.event, reason = %event.reason, restarts_in_window = event.restarts_in_window, backoff_ms = event.backoff_ms, "{event}");
        } else {
            tracing::info!(actor = %event.actor, event = %event.event, reason = %event.reason, restarts_in_window = event.restarts_in_window, backoff_ms = event.backoff_ms, "{event}");
        }
        self.0.health.record(&event, Instant::now());
    }

    /// Decides what a failure of `cell` leads to, walking up the tree past each supervisor
    /// that gives up. Returns the failed actor's backoff, or `None` once the root gave up.
    /// A `deliberate` failure (the monkey's kill) restarts the same actors but counts
    /// against no intensity, unless [`count_kills`](Self::count_kills) said otherwise.
    pub(super) fn on_failure(
        &self,
        cell: &ActorCell,
        reason: &ExitReason,
        deliberate: bool,
    ) -> Option<Duration> {
        let now = Instant::now();
        let mut node = cell.node;
        let mut child = cell.child;
        let mut reason = reason.clone();
        let deliberate = deliberate && !self.0.count_kills.get();
        loop {
            let mut nodes = self.0.nodes.borrow_mut();
            let action = if deliberate {
                nodes[node].core.on_deliberate_exit(child, now)
            } else {
                nodes[node].core.on_exit(child, &reason, now)
            };
            drop(nodes);
            match action {
                SupervisorAction::Restart {
                    children,
                    restarts_in_window,
                    ..
                } => {
                    let mut backoff = Duration::ZERO;
                    for (id, delay) in children {
                        if id == child {
                            backoff = delay;
                        }
                        self.mark_restart(node, id, &reason, restarts_in_window, delay, cell);
                    }
                    return Some(backoff);
                }
                SupervisorAction::Ignore => return Some(Duration::ZERO),
                SupervisorAction::Escalate { reason: why } => {
                    let name = self.0.nodes.borrow()[node].core.name().to_string();
                    self.record(SupervisionEvent::escalated(name, why.clone(), 0));
                    let parent = self.0.nodes.borrow()[node].parent;
                    match parent {
                        Some((up, id)) => {
                            node = up;
                            child = id;
                            reason = ExitReason::Escalated(why);
                        }
                        None => {
                            error!(reason = %why, "root supervisor gave up: stopping trading safely (exit code 70)");
                            self.give_up(why);
                            return None;
                        }
                    }
                }
            }
        }
    }

    /// Stops trading safely for `why`: no message is handled any more, and the runtime exits
    /// with code 70.
    pub(super) fn give_up(&self, why: String) {
        *self.0.escalated.borrow_mut() = Some(why);
        self.0.shutdown.set(true);
    }

    /// Schedules the restart of child `id` of `node`: the failed actor restarts now, every
    /// other actor under that child before its next message.
    fn mark_restart(
        &self,
        node: usize,
        id: ChildId,
        reason: &ExitReason,
        in_window: u32,
        delay: Duration,
        failed: &ActorCell,
    ) {
        let members: Vec<Member> = self.0.nodes.borrow()[node]
            .members
            .iter()
            .filter(|(cid, _)| *cid == id)
            .map(|(_, m)| m.clone())
            .collect();
        for member in members {
            match member {
                Member::Actor(actor) => {
                    if !std::ptr::eq(actor.as_ref(), failed) {
                        actor.restart_pending.set(true);
                    }
                    *self
                        .0
                        .stats
                        .borrow_mut()
                        .restarts
                        .entry(actor.name.to_string())
                        .or_default() += 1;
                    self.record(SupervisionEvent::restarted(
                        actor.name.to_string(),
                        reason,
                        in_window,
                        delay,
                    ));
                }
                Member::Group(group) => {
                    self.0.nodes.borrow_mut()[group].core.reset();
                    let ids: Vec<ChildId> = self.0.nodes.borrow()[group]
                        .members
                        .iter()
                        .map(|(c, _)| *c)
                        .collect();
                    for child in ids {
                        self.mark_restart(group, child, reason, in_window, delay, failed);
                    }
                }
            }
        }
    }
}

/// Adds the supervisor of `spec` (and, depth first, those under it) to `nodes`, declaring its
/// actors in `declared`; returns its node index.
fn build(
    spec: &TreeSpec,
    parent: Option<(usize, ChildId)>,
    config: &SupervisorConfig,
    seed: u64,
    nodes: &mut Vec<Node>,
    declared: &mut std::collections::HashMap<String, (usize, ChildId)>,
) -> usize {
    let index = nodes.len();
    let mut own = config.clone();
    own.strategy = spec.strategy;
    nodes.push(Node {
        core: SupervisorCore::new(spec.name.clone(), own, Jitter::seeded(seed ^ index as u64)),
        parent,
        members: Vec::new(),
    });
    for child in &spec.children {
        let (name, restart) = match child {
            ChildSpec::Actor { name, restart } => (name.as_str(), *restart),
            ChildSpec::Supervisor(group) => (group.name.as_str(), RestartType::Permanent),
        };
        let Ok(id) = nodes[index].core.add_child(name, restart) else {
            panic!("{name} appears twice under supervisor {}", spec.name);
        };
        match child {
            ChildSpec::Actor { name, .. } => {
                let unique = declared.insert(name.clone(), (index, id)).is_none();
                assert!(unique, "actor {name} appears twice in the supervision tree");
            }
            ChildSpec::Supervisor(group) => {
                let group_index = build(group, Some((index, id)), config, seed, nodes, declared);
                nodes[index].members.push((id, Member::Group(group_index)));
            }
        }
    }
    index
}

/// Handles one message with panics contained, for code that is not an actor (tests,
/// benchmarks): like [`supervise`](super::supervise), but a restart's backoff sleeps on the
/// calling thread. Returns `None` when the message was not handled: skipped as poison, or
/// trading stopped after an escalation.
pub fn contain<A: Rehydrate, M: Debug + ?Sized, R>(
    actor: &mut A,
    message: &M,
    body: impl FnMut(&mut A) -> R,
) -> Option<R> {
    deliver_now(actor, message, Delivery::first(), body, std::thread::sleep)
}

/// Answers a query (a message that changes nothing and was awaited, not counted into the
/// mailbox) under supervision: a failure is contained and restarts the actor like any
/// handler's (restart intensity, escalation, the poison rule), and the query is asked again
/// at once: it changes nothing, so the restart's backoff need not hold it. `None` when it was
/// not answered: it failed every delivery, or trading stopped.
pub fn answer<A: Rehydrate, M: Debug + ?Sized, R>(
    actor: &mut A,
    query: &M,
    body: impl FnMut(&mut A) -> R,
) -> Option<R> {
    let mut delivery = Delivery::first();
    delivery.counted = false;
    deliver_now(actor, query, delivery, body, |_| {})
}

/// Delivers `message` until it is done with, calling `wait` with each restart's backoff.
fn deliver_now<A: Rehydrate, M: Debug + ?Sized, R>(
    actor: &mut A,
    message: &M,
    mut delivery: Delivery,
    mut body: impl FnMut(&mut A) -> R,
    wait: impl Fn(Duration),
) -> Option<R> {
    loop {
        match step(actor, message, delivery, &mut body) {
            Step::Done(result) => return result,
            Step::Later(later) => {
                wait(later.backoff);
                delivery = later;
            }
        }
    }
}

/// Where one message stands across its deliveries.
pub(super) struct Delivery {
    /// Not yet counted out of the mailbox nor seen by the delivery hook.
    first: bool,
    /// Its sender counted it into the mailbox gauge (an [`Inbox`](super::Inbox)); a query
    /// awaited with `send` is not.
    counted: bool,
    /// When its first delivery failed.
    failed_at: Option<Instant>,
    /// How its deliveries failed, the injected kills aside (the poison rule).
    failures: Vec<String>,
    /// The monkey poisoned it: every delivery fails.
    poisoned: bool,
    /// Deliveries so far (a failpoint never strikes a redelivery).
    attempts: u32,
    /// The restart is due after this delay (the actor's backoff).
    pub(super) backoff: Duration,
}

impl Delivery {
    /// A message just taken from the mailbox.
    pub(super) fn first() -> Self {
        Self {
            first: true,
            counted: true,
            failed_at: None,
            failures: Vec::new(),
            poisoned: false,
            attempts: 0,
            backoff: Duration::ZERO,
        }
    }
}

/// What became of a message for now.
pub(super) enum Step<R> {
    /// Handled (`Some`), or not and never will be (`None`: skipped as poison, or trading
    /// stopped).
    Done(Option<R>),
    /// It failed and its actor restarts after `backoff`: deliver it again then with
    /// [`step`], the actor's mailbox held meanwhile.
    Later(Delivery),
}

/// Delivers one message until it is handled or given up, or its actor's restart must wait
/// for a backoff. A sibling restart due is done first; a failure (panic, or an injected stop)
/// is reported to the tree, the actor rehydrated, and the same message handled again. A
/// message that fails [`POISON_ATTEMPTS`] deliveries in a row (injected faults aside) is
/// quarantined and skipped or escalated per the actor's [`PoisonPolicy`].
pub(super) fn step<A: Rehydrate, M: Debug + ?Sized, R>(
    actor: &mut A,
    message: &M,
    mut delivery: Delivery,
    body: impl FnMut(&mut A) -> R,
) -> Step<R> {
    let handle = actor.supervision().clone();
    let sup = &handle.supervision;
    let first = std::mem::replace(&mut delivery.first, false);
    if first && delivery.counted {
        handle.cell.mailbox.decrement();
    }
    if sup.0.escalated.borrow().is_some() {
        return Step::Done(None);
    }
    if first {
        if let Some(hook) = sup.0.on_delivery.borrow_mut().as_mut() {
            hook();
        }
        if handle.cell.restart_pending.take() {
            if let Err(why) = actor.rehydrate() {
                return Step::Done(fail_rehydration(sup, &handle, why));
            }
        }
    } else if let Some(done) = restart(actor, &handle, message, &mut delivery) {
        // The delayed restart of the failed actor found the message done with.
        return Step::Done(done);
    }
    attempts(actor, &handle, message, delivery, body)
}

/// What a message's deliveries went through so far: a handler that starts a call and awaits
/// it takes this along ([`delivery_history`]), so that the call's failure
/// ([`supervise_failed`](super::supervise_failed)) goes on counting towards the poison rule
/// instead of starting again.
#[derive(Debug, Clone, Default)]
pub struct DeliveryHistory {
    failed_at: Option<Instant>,
    failures: Vec<String>,
    attempts: u32,
}

thread_local! {
    /// The history of the message being redelivered on this thread, while its handler runs.
    static HISTORY: RefCell<Option<DeliveryHistory>> = const { RefCell::new(None) };
}

/// The history of the message whose handler is running on this thread: empty on a first
/// delivery.
pub fn delivery_history() -> DeliveryHistory {
    HISTORY.with(|h| h.borrow().clone().unwrap_or_default())
}

/// Shows a redelivered message's history to its handler, until dropped.
struct HistoryShown;

impl HistoryShown {
    fn show(delivery: &Delivery) -> Self {
        let history = DeliveryHistory {
            failed_at: delivery.failed_at,
            failures: delivery.failures.clone(),
            attempts: delivery.attempts,
        };
        HISTORY.with(|h| *h.borrow_mut() = Some(history));
        Self
    }
}

impl Drop for HistoryShown {
    fn drop(&mut self) {
        HISTORY.with(|h| h.borrow_mut().take());
    }
}

/// Goes on with a message whose handling failed after its handler returned (an awaited
/// call panicked with `payload`; `history` is what the message went through before that
/// call): the failure is reported to the tree like any other, the actor rehydrated, and the
/// message delivered again with `body`, under the same rules as in [`step`].
pub(super) fn step_after_failure<A: Rehydrate, M: Debug + ?Sized, R>(
    actor: &mut A,
    message: &M,
    history: DeliveryHistory,
    payload: Box<dyn std::any::Any + Send>,
    body: impl FnMut(&mut A) -> R,
) -> Step<R> {
    let handle = actor.supervision().clone();
    let mut delivery = Delivery::first();
    delivery.first = false;
    delivery.failed_at = history.failed_at;
    delivery.failures = history.failures;
    delivery.attempts = history.attempts + 1;
    if handle.supervision.0.escalated.borrow().is_some() {
        return Step::Done(None);
    }
    let failure = Failure::of_panic(payload.as_ref());
    if let Some(step) = after_failure(actor, &handle, message, &mut delivery, failure) {
        return step;
    }
    attempts(actor, &handle, message, delivery, body)
}

/// How one delivery failed.
struct Failure {
    reason: ExitReason,
    /// Chaos injected it (a kill or a failpoint): it counts against neither the restart
    /// intensity nor the poison rule.
    injected: bool,
    /// The failpoint that fired, if one did.
    failpoint: Option<&'static str>,
}

impl Failure {
    fn of_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        match failpoints::injected(payload) {
            Some(fault) => Self {
                reason: ExitReason::Panic(fault.to_string()),
                injected: true,
                failpoint: Some(fault.0),
            },
            None => Self {
                reason: ExitReason::from_panic_payload(payload),
                injected: false,
                failpoint: None,
            },
        }
    }

    fn injected(reason: ExitReason) -> Self {
        Self {
            reason,
            injected: true,
            failpoint: None,
        }
    }
}

/// Handles the message until it is handled, or given up, or must wait for a backoff.
fn attempts<A: Rehydrate, M: Debug + ?Sized, R>(
    actor: &mut A,
    handle: &ActorHandle,
    message: &M,
    mut delivery: Delivery,
    mut body: impl FnMut(&mut A) -> R,
) -> Step<R> {
    let sup = &handle.supervision;
    loop {
        let chaos = handle.cell.chaos.take();
        if let Some(kind) = chaos {
            let mut stats = sup.0.stats.borrow_mut();
            let entry = stats.injected.entry(handle.name().to_string()).or_default();
            match kind {
                Chaos::Panic | Chaos::Poison => entry.0 += 1,
                Chaos::Stop => entry.1 += 1,
            }
        }
        delivery.poisoned |= chaos == Some(Chaos::Poison);
        let redelivery = delivery.attempts > 0;
        delivery.attempts += 1;
        let outcome = match chaos {
            Some(Chaos::Stop) => Err(Failure::injected(ExitReason::Killed)),
            Some(Chaos::Panic) if sup.sabotaged() == Some(Sabotage::EscapePanic) => {
                panic!("chaos monkey: injected panic, raised outside the supervisor (sabotage)")
            }
            Some(Chaos::Panic) => contained(|| -> R { panic!("chaos monkey: injected panic") })
                .map_err(|payload| {
                    Failure::injected(ExitReason::from_panic_payload(payload.as_ref()))
                }),
            _ if delivery.poisoned => {
                contained(|| -> R { panic!("chaos monkey: poisoned message") })
                    .map_err(|payload| Failure::of_panic(payload.as_ref()))
            }
            _ => {
                let _history = delivery
                    .failed_at
                    .is_some()
                    .then(|| HistoryShown::show(&delivery));
                contained(|| failpoints::inside_handler(redelivery, || body(actor)))
                    .map_err(|payload| Failure::of_panic(payload.as_ref()))
            }
        };
        match outcome {
            Ok(result) => {
                if let Some(at) = delivery.failed_at.or_else(|| handle.cell.killed_at.take()) {
                    sup.0.stats.borrow_mut().recovery.push(at.elapsed());
                }
                return Step::Done(Some(result));
            }
            Err(failure) => {
                if let Some(step) = after_failure(actor, handle, message, &mut delivery, failure) {
                    return step;
                }
            }
        }
    }
}

/// Reports a failed delivery to the tree and restarts the actor: `None` to deliver the
/// message again now, or what became of it (done with, or to deliver after a backoff).
fn after_failure<A: Rehydrate, M: Debug + ?Sized, R>(
    actor: &mut A,
    handle: &ActorHandle,
    message: &M,
    delivery: &mut Delivery,
    failure: Failure,
) -> Option<Step<R>> {
    let sup = &handle.supervision;
    delivery.failed_at.get_or_insert_with(Instant::now);
    {
        let mut stats = sup.0.stats.borrow_mut();
        *stats.failures.entry(handle.name().to_string()).or_default() += 1;
        if matches!(failure.reason, ExitReason::Panic(_)) {
            stats.panics += 1;
        }
        if let Some(point) = failure.failpoint {
            *stats.failpoints.entry(point.to_string()).or_default() += 1;
        }
        if !failure.injected {
            stats.real_failures += 1;
            delivery.failures.push(failure.reason.to_string());
        }
    }
    sup.record(SupervisionEvent::exited(handle.name(), &failure.reason));
    let Some(backoff) = sup.on_failure(&handle.cell, &failure.reason, failure.injected) else {
        return Some(Step::Done(None));
    };
    if !backoff.is_zero() {
        // The actor stays down for its backoff; its messages wait in its mailbox.
        delivery.backoff = backoff;
        return Some(Step::Later(std::mem::replace(delivery, Delivery::first())));
    }
    restart(actor, handle, message, delivery).map(Step::Done)
}

/// Restarts the failed actor (rehydrates it), then quarantines its message if it has failed
/// too often; `Some` when the message is done with (quarantined, or the state could not be
/// rebuilt), `None` to deliver it again.
fn restart<A: Rehydrate, M: Debug + ?Sized, R>(
    actor: &mut A,
    handle: &ActorHandle,
    message: &M,
    delivery: &mut Delivery,
) -> Option<Option<R>> {
    let sup = &handle.supervision;
    handle.cell.restart_pending.set(false);
    if let Err(why) = actor.rehydrate() {
        return Some(fail_rehydration(sup, handle, why));
    }
    if delivery.failures.len() as u32 >= POISON_ATTEMPTS {
        let letter = DeadLetter {
            actor: handle.name().to_string(),
            message: format!("{message:?}"),
            failures: std::mem::take(&mut delivery.failures),
            policy: actor.poison_policy(),
        };
        return Some(quarantine(sup, letter));
    }
    if sup.sabotaged() == Some(Sabotage::SkipRedelivery) {
        return Some(None);
    }
    None
}

/// Records a poison message and applies its policy: `None` (skipped), or trading stopped.
fn quarantine<R>(sup: &Supervision, letter: DeadLetter) -> Option<R> {
    error!(actor = %letter.actor, message = %letter.message, failures = ?letter.failures, policy = ?letter.policy, "poison message quarantined: {letter}");
    if let Some(sink) = sup.0.dead_letter_sink.borrow_mut().as_mut() {
        if let Err(why) = sink(&letter) {
            error!(actor = %letter.actor, error = %why, "dead letter not journalled");
        }
    }
    sup.0.stats.borrow_mut().dead_letters.push(letter.clone());
    if letter.policy == PoisonPolicy::Skip {
        return None;
    }
    let why = format!(
        "{}: poison message, failed {} deliveries",
        letter.actor,
        letter.failures.len()
    );
    sup.record(SupervisionEvent::escalated(
        letter.actor.clone(),
        why.clone(),
        letter.failures.len() as u32,
    ));
    sup.give_up(why);
    None
}

pub(super) fn fail_rehydration<R>(
    sup: &Supervision,
    handle: &ActorHandle,
    why: RehydrateError,
) -> Option<R> {
    error!(actor = handle.name(), reason = %why, "state cannot be rehydrated: escalating");
    let reason = ExitReason::Error(format!("rehydration failed: {why}"));
    // A state that cannot be rebuilt cannot be trusted: give up past every supervisor.
    sup.give_up(format!("{}: {reason}", handle.name()));
    None
}
