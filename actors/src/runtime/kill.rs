//! Real kills: the actor's context stops, its mailbox and the message it was about to handle
//! are dropped, and the supervisor starts a fresh instance, built from the dead one's wiring
//! and checkpoint ([`Respawn`]), after the restart's backoff. Senders reach it through their
//! routes, re-pointed to it, and everything the dead instance had not handled is sent again
//! (see [`route`](super::route)): at least once by the routes, exactly once because a
//! handled message is acknowledged before the next one starts.

use std::cell::{Cell, RefCell};
use std::task::{Poll, Waker};
use std::time::Instant;

use actix::prelude::*;
use keel_supervision::{ExitReason, SupervisionEvent};
use tracing::{error, info, warn};

use super::delivery::fail_rehydration;
use super::supervise::ActorHandle;
use super::Rehydrate;

/// An actor the supervisor can replace by a fresh instance after a real kill.
pub trait Respawn: Rehydrate + Actor<Context = Context<Self>> + Sized {
    /// A fresh instance wired like this one (same outputs, settings and supervision handle)
    /// holding this one's checkpoint (what [`rehydrate`](Rehydrate::rehydrate) rebuilds the
    /// state from), never its working state: the supervisor rehydrates it before it starts.
    fn respawn(&mut self) -> Self;

    /// Work a handler started is still running in the context (answers awaited): a kill
    /// waits until it is done, since the message that started it was acknowledged.
    fn busy(&self) -> bool {
        false
    }
}

impl ActorHandle {
    /// Watches for a [`kill`](ActorHandle::kill) of the instance whose context is `ctx`: call
    /// it from the actor's `started`, so that every instance, the fresh ones included, can be
    /// killed while idle.
    pub fn arm<A: Respawn>(&self, ctx: &mut Context<A>) {
        let wake = self.cell.kill_wake.clone();
        let watch = Watch(self.clone());
        ctx.spawn(
            actix::fut::wrap_future::<_, A>(async move {
                std::future::poll_fn(|cx| wake.poll_woken(cx)).await;
                watch
            })
            .map(|_: Watch, actor: &mut A, ctx| {
                // A handler that has just begun awaiting work (`hold`) has its mailbox paused
                // only once the context takes that work up, which may be after this watch runs
                // in the same turn: `ctx.waiting()` sees it already. Killing now would drop
                // the work half done; the kill is left due for the next message instead.
                let waiting = ctx.waiting() || actor.supervision().cell.holding.get();
                if !actor.busy() && !waiting && actor.supervision().cell.kill_due.take() {
                    die(actor, ctx);
                } else {
                    // A wake left over from a kill done at a message, or a kill that must wait
                    // for the work in hand: watch again.
                    actor.supervision().clone().arm(ctx);
                }
            }),
        );
    }
}

/// Wakes an instance's kill watch ([`ActorHandle::arm`]): a wake-up left for the watch (kept
/// until a watch takes it, like a permit) and the waker of the watch waiting now. The watch is
/// polled with its actor's every turn, so polling it must cost next to nothing: a flag and a
/// waker comparison, no lock (everything runs on the runtime's one thread).
#[derive(Default)]
pub(super) struct KillWake {
    woken: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl KillWake {
    /// Wakes the watch waiting now, or leaves the wake-up for the next one.
    pub(super) fn wake(&self) {
        self.woken.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Ready once woken (taking the wake-up); otherwise remembers `cx`'s waker.
    fn poll_woken(&self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if self.woken.replace(false) {
            return Poll::Ready(());
        }
        let mut waker = self.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Notices an instance that dies without its supervisor: its context dropped while a panic
/// unwinds (a panic escaped every containment, and the runtime dropped the task), not
/// stopped by [`die`] or by the end of the run. The tree has lost an actor it cannot replace,
/// so trading stops safely (as past the root's restart intensity), and nothing will handle
/// what the actor's routes keep: they let it go (its in-flight tickets with it) and queries
/// are answered "closed", instead of the run waiting forever.
struct Watch(ActorHandle);

impl Drop for Watch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let name = self.0.name().to_string();
            error!(actor = %name, "the actor died outside its supervisor (a panic escaped every containment): trading stops");
            self.0.cell.routes.abandon();
            self.0
                .supervision
                .give_up(format!("{name} died outside its supervisor"));
        }
    }
}

/// Kills `actor` now if a kill is due: call before handling a message, which is then dropped
/// with the mailbox (and sent again to the fresh instance). Returns whether it was killed.
pub(super) fn kill_if_due<A: Respawn>(actor: &mut A, ctx: &mut Context<A>) -> bool {
    if actor.busy() || !actor.supervision().cell.kill_due.take() {
        return false;
    }
    die(actor, ctx);
    true
}

/// Kills `actor` for real (the monkey's stop, an operator's kill).
fn die<A: Respawn>(actor: &mut A, ctx: &mut Context<A>) {
    if ctx.state() != ActorState::Running {
        return;
    }
    let name = actor.supervision().name().to_string();
    let stats = &actor.supervision().supervision.0.stats;
    stats.borrow_mut().injected.entry(name).or_default().1 += 1;
    replace(actor, ctx, ExitReason::Killed, true);
}

/// Stops `actor`'s context (its mailbox and whatever work it was waiting for are dropped) and
/// has the supervisor start its successor, after the restart's backoff. A `deliberate` exit
/// (a kill, an injected hang) counts against no restart intensity.
pub(super) fn replace<A: Respawn>(
    actor: &mut A,
    ctx: &mut Context<A>,
    reason: ExitReason,
    deliberate: bool,
) {
    if ctx.state() != ActorState::Running {
        return;
    }
    let handle = actor.supervision().clone();
    ctx.stop();
    let sup = handle.supervision.clone();
    let name = handle.name().to_string();
    handle.cell.killed_at.set(Some(Instant::now()));
    *sup.0
        .stats
        .borrow_mut()
        .failures
        .entry(name.clone())
        .or_default() += 1;
    sup.record(SupervisionEvent::exited(&name, &reason));
    let Some(backoff) = sup.on_failure(&handle.cell, &reason, deliberate) else {
        // Trading stopped: no successor will handle what the actor was sent. Let it go (its
        // in-flight tickets with it), so that the run drains and exits.
        handle.cell.routes.abandon();
        return;
    };
    let mut fresh = actor.respawn();
    if let Err(why) = fresh.rehydrate() {
        fail_rehydration::<()>(&sup, &handle, why);
        return;
    }
    if backoff.is_zero() {
        start(fresh, &handle);
    } else {
        // Dead for the backoff: what is sent meanwhile waits in the routes' queue.
        actix::spawn(async move {
            actix::clock::sleep(backoff).await;
            start(fresh, &handle);
        });
    }
}

/// Starts `fresh` and points `handle`'s routes at it, sending it what was not handled.
fn start<A: Respawn>(fresh: A, handle: &ActorHandle) {
    if handle.tree_gave_up() {
        return;
    }
    let addr = fresh.start();
    let cell = &handle.cell;
    cell.instance.set(cell.instance.get() + 1);
    cell.holding.set(false);
    if let Some((due, detected)) = cell.hung_at.take() {
        let mut stats = handle.supervision.0.stats.borrow_mut();
        stats.hang_replacements.push(detected.elapsed());
        stats.hang_overshoots.push(due.elapsed());
    }
    let unacked = cell.routes.unacked();
    cell.mailbox.set(unacked);
    let resent = cell.routes.repoint(&addr);
    handle
        .supervision
        .record(SupervisionEvent::started(cell.name.to_string()));
    if resent > 0 {
        warn!(actor = %cell.name, resent, "messages the killed instance had not handled sent to its successor");
    } else {
        info!(actor = %cell.name, "successor of the killed instance started");
    }
}
