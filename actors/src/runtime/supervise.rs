//! The supervision tree's state (DESIGN §4): its members, their statistics and their place in
//! the tree; restart decisions, intensity and escalation come from `keel-supervision`. How one
//! message is delivered under it is in [`delivery`](super::delivery); real kills in
//! [`kill`](super::kill).
//!
//! The tree is declared as data ([`TreeSpec`]; DESIGN §2 is [`TreeSpec::pipeline`]). A failed
//! handler is restarted in place: the actor keeps its mailbox and is rehydrated before the
//! message is delivered again; siblings the strategy restarts rehydrate before their next
//! message. A killed actor is replaced by a fresh instance. Past a supervisor's restart
//! intensity the failure escalates to its parent; past the root's, trading stops safely and
//! the process exits with code 70.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::rc::Rc;
use std::time::{Duration, Instant};

use keel_supervision::{
    ChildId, ExitReason, HealthRegistry, Jitter, RestartType, SupervisionEvent, SupervisorAction,
    SupervisorConfig, SupervisorCore,
};
use tracing::{error, warn};

use super::kill::KillWake;
use super::poison::{DeadLetter, PoisonPolicy};
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
    /// Hang on the next message: its handling stalls until the actor's deadline, when the
    /// instance is declared hung and replaced (see [`hang`](super::hang)).
    Hang,
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
    /// Hangs: instances that did not finish a message within their deadline, by actor.
    pub hangs: std::collections::BTreeMap<String, u64>,
    /// Of those, the hangs the monkey injected, by actor.
    pub injected_hangs: std::collections::BTreeMap<String, u64>,
    /// From a hang's detection (its deadline's timer firing) to its successor accepting
    /// messages.
    pub hang_replacements: Vec<Duration>,
    /// How long after its deadline each hung instance's successor accepted messages (timer
    /// resolution and scheduling included).
    pub hang_overshoots: Vec<Duration>,
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
    pub(super) chaos: Cell<Option<Chaos>>,
    pub(super) restart_pending: Cell<bool>,
    node: usize,
    child: ChildId,
    /// How senders reach the actor's current instance, and what it has not handled yet.
    pub(super) routes: Routes,
    /// A real kill is due (the monkey asked for one).
    pub(super) kill_due: Cell<bool>,
    /// Wakes the instance's kill watch ([`ActorHandle::arm`]).
    pub(super) kill_wake: Rc<KillWake>,
    /// When the instance was last killed, until its successor has handled a message.
    pub(super) killed_at: Cell<Option<Instant>>,
    /// Its handlers' latency (a sample: see [`ActorHandle::start_timer`]).
    latency: std::sync::Arc<crate::board::LatencyHistogram>,
    /// Messages until the next one timed.
    until_timed: Cell<u32>,
    /// The message being handled is not done when its handler returns: work it awaits (or its
    /// redelivery after a backoff) goes on with it, and acknowledges it when done.
    pub(super) holding: Cell<bool>,
    /// The instance now serving the actor: 1 for the first, one more for each successor.
    pub(super) instance: Cell<u64>,
    /// When the last instance's deadline fell due and when its hang was detected, until its
    /// successor started.
    pub(super) hung_at: Cell<Option<(Instant, Instant)>>,
}

/// One message in this many is timed for the handler latency histogram: two clock reads per
/// message would cost the lockstep replay several percent.
const TIME_ONE_IN: u32 = 16;

pub(super) struct Inner {
    health: HealthRegistry,
    board: crate::board::Board,
    nodes: RefCell<Vec<Node>>,
    /// Every actor the tree declares, by name: its supervisor node and child id.
    declared: std::collections::HashMap<String, (usize, ChildId)>,
    pub(super) escalated: RefCell<Option<String>>,
    shutdown: Rc<Cell<bool>>,
    pub(super) stats: RefCell<SupervisionStats>,
    pub(super) on_delivery: RefCell<Option<Box<dyn FnMut()>>>,
    /// Where quarantined messages are written (the journal), if anywhere.
    pub(super) dead_letter_sink: RefCell<Option<DeadLetterSink>>,
    sabotage: Cell<Option<Sabotage>>,
    /// The monkey's kills count against the restart intensity like real failures.
    count_kills: Cell<bool>,
    /// Actors may be killed for real ([`Supervision::allow_kills`]).
    kills_allowed: Cell<bool>,
    /// A message was sent: whether kills are allowed can no longer change.
    kills_decided: Cell<bool>,
    /// How long a message's handling may take before its actor is declared hung.
    pub(super) deadlines: RefCell<super::hang::Deadlines>,
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

    /// What the run shows its operator.
    pub fn board(&self) -> &crate::board::Board {
        self.supervision.board()
    }

    /// Starts timing a handler if this message is one of the sample (one in
    /// [`TIME_ONE_IN`]); give the result to [`stop_timer`](Self::stop_timer).
    pub(super) fn start_timer(&self) -> Option<Instant> {
        match self.cell.until_timed.get() {
            0 => {
                self.cell.until_timed.set(TIME_ONE_IN - 1);
                Some(Instant::now())
            }
            n => {
                self.cell.until_timed.set(n - 1);
                None
            }
        }
    }

    /// Records the handler time since `started`, when it was timed.
    pub(super) fn stop_timer(&self, started: Option<Instant>) {
        if let Some(started) = started {
            self.cell.latency.observe(started.elapsed());
        }
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

    /// The strike the chaos monkey armed for the actor's next message (or a supervised
    /// task's next piece of work), counted as an injected panic; never a stop, which is a
    /// real [`kill`](Self::kill), nor a hang ([`take_hang`](Self::take_hang)).
    pub(crate) fn take_strike(&self) -> Option<Chaos> {
        if self.cell.chaos.get() == Some(Chaos::Hang) {
            // Only a message delivered through `supervise` can hang: it waits for one.
            return None;
        }
        let chaos = self.cell.chaos.take()?;
        let mut stats = self.supervision.0.stats.borrow_mut();
        stats.injected.entry(self.name().to_string()).or_default().0 += 1;
        Some(chaos)
    }

    /// Takes the hang the chaos monkey armed for the actor's next message, counting it.
    pub(super) fn take_hang(&self) {
        self.cell.chaos.set(None);
        let mut stats = self.supervision.0.stats.borrow_mut();
        *stats
            .injected_hangs
            .entry(self.name().to_string())
            .or_default() += 1;
    }

    /// Kills the actor for real (when the tree [allows kills](Supervision::allow_kills)): at
    /// its next turn (at once when idle; after the message it is
    /// handling otherwise) its context stops, its mailbox is dropped with the messages in it,
    /// and the supervisor starts a fresh instance to which the senders' routes are re-pointed
    /// and every message not handled is sent again (see [`arm`](Self::arm)).
    pub fn kill(&self) {
        if !self.supervision.0.kills_allowed.get() {
            error!(actor = %self.cell.name, "kill refused: this run does not allow kills (Supervision::allow_kills)");
            return;
        }
        self.cell.kill_due.set(true);
        self.cell.kill_wake.wake();
    }

    /// Whether a closed mailbox of this actor may still get a successor: kills are allowed and
    /// trading has not stopped. Otherwise nothing will ever answer there again.
    pub fn may_be_replaced(&self) -> bool {
        self.supervision.0.kills_allowed.get() && !self.tree_gave_up()
    }

    /// Whether a message sent to this actor now is kept until handled.
    pub(super) fn keeps_copies(&self) -> bool {
        self.supervision.keeps_copies()
    }

    /// How senders reach this actor (for [`Inbox::of`](super::Inbox::of)).
    pub(super) fn routes(&self) -> &Routes {
        &self.cell.routes
    }

    /// Messages sent to the actor and not yet handled to the end.
    pub fn unacked(&self) -> usize {
        self.cell.routes.unacked()
    }

    /// The sabotage the actor's tree suffers, if any (`keel chaos --sabotage`).
    pub fn sabotaged(&self) -> Option<Sabotage> {
        self.supervision.sabotaged()
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
        Self::with_board(
            config,
            spec,
            health,
            shutdown,
            seed,
            crate::board::Board::new(),
        )
    }

    /// As [`new`](Self::new), publishing on `board`, which a caller watching the run (a
    /// dashboard, `keel chaos` stepping a venue's clock) keeps a clone of.
    pub fn with_board(
        config: &SupervisorConfig,
        spec: &TreeSpec,
        health: HealthRegistry,
        shutdown: Rc<Cell<bool>>,
        seed: u64,
        board: crate::board::Board,
    ) -> Self {
        let mut nodes = Vec::new();
        let mut declared = std::collections::HashMap::new();
        build(spec, None, config, seed, &mut nodes, &mut declared);
        Self(Rc::new(Inner {
            health,
            board,
            nodes: RefCell::new(nodes),
            declared,
            escalated: RefCell::new(None),
            shutdown,
            stats: RefCell::new(SupervisionStats::default()),
            on_delivery: RefCell::new(None),
            dead_letter_sink: RefCell::new(None),
            sabotage: Cell::new(None),
            count_kills: Cell::new(false),
            kills_allowed: Cell::new(false),
            kills_decided: Cell::new(false),
            deadlines: RefCell::new(super::hang::Deadlines::default()),
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
            kill_wake: Rc::default(),
            killed_at: Cell::new(None),
            latency: self.0.board.handler_latency(name),
            until_timed: Cell::new(0),
            holding: Cell::new(false),
            instance: Cell::new(1),
            hung_at: Cell::new(None),
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

    /// What the run shows its operator (the control plane reads it from its own threads).
    pub fn board(&self) -> &crate::board::Board {
        &self.0.board
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

    /// Lets actors be killed for real ([`ActorHandle::kill`]: the chaos monkey, an operator).
    /// Every message sent to a supervised actor is then kept until it is handled, so that a
    /// kill loses none: a copy per message, which a run nobody can kill does not pay. Only
    /// before the first message is sent (an error, and no effect, after it).
    pub fn allow_kills(&self) -> Result<(), &'static str> {
        if self.0.kills_decided.get() && !self.0.kills_allowed.get() {
            return Err("kills must be allowed before the first message is sent");
        }
        self.0.kills_allowed.set(true);
        Ok(())
    }

    /// Whether a message sent now must be kept until handled; fixes the answer for the run.
    pub(super) fn keeps_copies(&self) -> bool {
        self.0.kills_decided.set(true);
        self.0.kills_allowed.get()
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
            warn!(actor = %event.actor, event = %event.event, reason = %event.reason, restarts_in_window = event.restarts_in_window, backoff_ms = event.backoff_ms, "supervision event");
        } else {
            tracing::info!(actor = %event.actor, event = %event.event, reason = %event.reason, restarts_in_window = event.restarts_in_window, backoff_ms = event.backoff_ms, "supervision event");
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
        self.0.board.set_trading_stopped(&why);
        // Also called while a panic unwinds: never a second panic over a borrowed cell.
        if let Ok(mut escalated) = self.0.escalated.try_borrow_mut() {
            *escalated = Some(why);
        }
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
