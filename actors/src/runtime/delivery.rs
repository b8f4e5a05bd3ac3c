//! Delivering one message under supervision: the handler runs with its panics contained; a
//! failure is reported to the tree, the actor restarted (rehydrated) and the message delivered
//! again, at once or after the restart's backoff, until it is handled, quarantined as poison,
//! or trading stops. The tree's state and decisions are in [`supervise`](super::supervise).

use std::cell::RefCell;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use keel_supervision::{ExitReason, SupervisionEvent};
use tracing::error;

use super::failpoints;
use super::panics::contained;
use super::poison::{DeadLetter, PoisonPolicy, POISON_ATTEMPTS};
use super::sabotage::Sabotage;
use super::supervise::{ActorHandle, Chaos, Rehydrate, RehydrateError, Supervision};
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
            sup.record(SupervisionEvent::started(handle.name()));
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

/// Counts `failure` in the tree's statistics, records it and has the tree decide: the
/// backoff before the restart, or `None` when trading stopped.
fn report_failure(handle: &ActorHandle, failure: &Failure) -> Option<Duration> {
    let sup = &handle.supervision;
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
        }
    }
    sup.record(SupervisionEvent::exited(handle.name(), &failure.reason));
    sup.on_failure(&handle.cell, &failure.reason, failure.injected)
}

/// A supervised task's work failed with a panic (`payload`, caught by
/// [`contained_future`](super::contained_future)): a loop that is not an actor, such as the
/// news poller. The failure goes to the tree like a handler's (restart intensity, escalation;
/// an injected one counts against neither). The task then restores its state from before the
/// failed work and does it again after the returned backoff; `None`: trading stopped, the
/// task ends.
pub(crate) fn task_failed(
    handle: &ActorHandle,
    payload: &(dyn std::any::Any + Send),
) -> Option<Duration> {
    let backoff = report_failure(handle, &Failure::of_panic(payload))?;
    handle.cell.restart_pending.set(false);
    Some(backoff)
}

/// A supervised task restored after [`task_failed`] works again (after its backoff).
pub(crate) fn task_resumed(handle: &ActorHandle) {
    handle
        .supervision
        .record(SupervisionEvent::started(handle.name()));
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
        let chaos = handle.take_strike();
        delivery.poisoned |= chaos == Some(Chaos::Poison);
        let redelivery = delivery.attempts > 0;
        delivery.attempts += 1;
        let outcome = match chaos {
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
    delivery.failed_at.get_or_insert_with(Instant::now);
    if !failure.injected {
        delivery.failures.push(failure.reason.to_string());
    }
    let Some(backoff) = report_failure(handle, &failure) else {
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
    sup.record(SupervisionEvent::started(handle.name()));
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
    sup.board().quarantined(format!(
        "a message to {} failed {} deliveries and was quarantined ({})",
        letter.actor,
        letter.failures.len(),
        match letter.policy {
            PoisonPolicy::Skip => "skipped",
            PoisonPolicy::Escalate => "trading stopped",
        }
    ));
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
