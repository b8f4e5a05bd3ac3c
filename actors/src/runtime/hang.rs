//! Hangs: an actor instance that has not finished a message within its deadline.
//!
//! Every actor shares the runtime's one thread, so a handler's own code cannot run long
//! without freezing all of them; what can stall is work a handler starts and awaits with its
//! mailbox held ([`hold`]: a venue call), or a message the chaos monkey makes hang. While one
//! instance waits, every other actor goes on. When the deadline passes the instance is
//! declared hung and fenced: its context stops, and the work it was waiting for is dropped
//! with it, so nothing it would have produced can arrive later. Then, per [`OnHang`], the
//! supervisor starts a fresh instance (the message, never acknowledged, is sent to it again
//! by its routes), or trading stops safely where sending the message again could do harm.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use actix::prelude::*;
use keel_supervision::{ExitReason, SupervisionEvent};
use tracing::error;

use super::kill::{replace, Respawn};
use super::supervise::{ActorHandle, Chaos, Supervision};

/// Every actor's deadline per message unless [`Supervision::set_deadlines`] says otherwise.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// How long each actor may take over one message.
#[derive(Debug, Clone)]
pub struct Deadlines {
    /// The deadline of every actor not named in `by_actor`.
    pub default: Duration,
    /// Deadlines by actor name.
    pub by_actor: HashMap<String, Duration>,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            default: DEFAULT_DEADLINE,
            by_actor: HashMap::new(),
        }
    }
}

/// What becomes of an instance declared hung.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnHang {
    /// A fresh instance takes over and is sent the message again: right when handling it
    /// again cannot repeat an effect the hung instance may have had. In a run that allows no
    /// kills (whose routes keep no copies to send again) it stops trading instead.
    Replace,
    /// Trading stops safely (exit 70): the hung work may have had effects outside keel that
    /// handling the message again would repeat (a venue call); the journal and the
    /// reconciliation at the next start resolve what is in doubt.
    Stop,
}

impl Supervision {
    /// Sets every actor's deadline per message.
    pub fn set_deadlines(&self, deadlines: Deadlines) {
        *self.0.deadlines.borrow_mut() = deadlines;
    }
}

impl ActorHandle {
    /// How long this actor may take over one message before it is declared hung.
    pub fn deadline(&self) -> Duration {
        let deadlines = self.supervision.0.deadlines.borrow();
        deadlines
            .by_actor
            .get(self.name())
            .copied()
            .unwrap_or(deadlines.default)
    }

    /// The instance now serving the actor: 1 for the first, one more for each successor.
    pub fn instance(&self) -> u64 {
        self.cell.instance.get()
    }
}

/// Awaits `work`, which the handler of the message being delivered started, with `actor`'s
/// mailbox held, then goes on with `then`; the message is acknowledged once `then` is done
/// with it. Past the actor's [deadline](ActorHandle::deadline) the instance is declared hung
/// and `work` dropped: see [`OnHang`].
pub fn hold<A, W, T>(actor: &mut A, ctx: &mut Context<A>, work: W, on_hang: OnHang, then: T)
where
    A: Respawn,
    W: Future + 'static,
    T: FnOnce(W::Output, &mut A, &mut Context<A>) + 'static,
{
    let handle = actor.supervision().clone();
    let deadline = handle.deadline();
    let began = Instant::now();
    handle.cell.holding.set(true);
    let timed = actix::clock::timeout(deadline, work);
    ctx.wait(timed.into_actor(actor).map(move |outcome, act, ctx| {
        let handle = act.supervision().clone();
        handle.cell.holding.set(false);
        match outcome {
            Ok(output) => {
                then(output, act, ctx);
                // Unless `then` handed the message on (held again, or due after a backoff).
                if !handle.cell.holding.get() {
                    handle.routes().ack();
                    // A kill that waited for this work is carried out now.
                    if handle.cell.kill_due.get() {
                        handle.cell.kill_wake.wake();
                    }
                }
            }
            Err(_) => hung(act, ctx, began + deadline, deadline, on_hang, false),
        }
    }));
}

/// Makes the message about to be delivered hang if the monkey struck it so: its handling
/// stalls, before it changed anything, until the deadline declares the instance hung and a
/// successor is sent the message again. Returns whether it hangs.
pub(super) fn hang_if_struck<A: Respawn>(actor: &mut A, ctx: &mut Context<A>) -> bool {
    // Every message passes here: the cheap look at the strike comes first.
    let struck = actor.supervision().cell.chaos.get() == Some(Chaos::Hang);
    if !struck || !actor.supervision().may_be_replaced() {
        return false;
    }
    let handle = actor.supervision().clone();
    handle.take_hang();
    // Taken from the mailbox; its successor counts it in again when it is sent there.
    handle.cell.mailbox.decrement();
    let deadline = handle.deadline();
    let due = Instant::now() + deadline;
    handle.cell.holding.set(true);
    ctx.wait(
        actix::clock::sleep(deadline)
            .into_actor(actor)
            .map(move |(), act, ctx| hung(act, ctx, due, deadline, OnHang::Replace, true)),
    );
    true
}

/// Declares `actor`'s instance hung after `deadline` (which fell `due` then) and fences it
/// (see [`OnHang`]). An `injected` hang counts against no restart intensity.
fn hung<A: Respawn>(
    actor: &mut A,
    ctx: &mut Context<A>,
    due: Instant,
    deadline: Duration,
    on_hang: OnHang,
    injected: bool,
) {
    let handle = actor.supervision().clone();
    let name = handle.name().to_string();
    let instance = handle.instance();
    let what = format!(
        "instance {instance} did not finish a message within its deadline of {} ms",
        deadline.as_millis()
    );
    error!(actor = %name, instance, deadline_ms = deadline.as_millis() as u64, injected, policy = ?on_hang, "actor hung: {what}");
    *handle
        .supervision
        .0
        .stats
        .borrow_mut()
        .hangs
        .entry(name.clone())
        .or_default() += 1;
    handle.board().actor_hung(&name);
    let reason = ExitReason::Hung(what);
    // Without the routes' copies (a run that allows no kills) a successor would never get
    // the message: it would be lost.
    let on_hang = if handle.may_be_replaced() {
        on_hang
    } else {
        OnHang::Stop
    };
    match on_hang {
        OnHang::Replace => {
            handle.cell.hung_at.set(Some((due, Instant::now())));
            replace(actor, ctx, reason, injected);
        }
        OnHang::Stop => {
            ctx.stop();
            // Nothing will handle what the actor was sent: let it go (its in-flight tickets
            // with it), so that the run drains and exits instead of waiting forever.
            handle.cell.routes.abandon();
            handle
                .supervision
                .record(SupervisionEvent::exited(&name, &reason));
            handle.supervision.give_up(format!(
                "{name} hung and cannot be replaced safely ({reason}): trading stops safely, \
                 and the next start reconciles what is in doubt"
            ));
        }
    }
}
