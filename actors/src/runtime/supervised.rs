//! Every actor handler runs through [`supervise`]: its failures are contained and its actor
//! restarted by the tree, and when a restart waits for its backoff only this actor's mailbox
//! waits (the message is delivered again after the delay); the thread every actor shares
//! never sleeps.

use std::fmt::Debug;

use actix::prelude::*;

use super::delivery::{step, step_after_failure, Delivery, DeliveryHistory, Step};
use super::hang::hang_if_struck;
use super::kill::{kill_if_due, Respawn};
use super::Rehydrate;

/// Handles `message` with `body` (the actor, the message, the actor's context; a closure
/// that captures nothing, so that a delayed redelivery can run it again) under supervision (see [`contain`](super::contain) for what
/// a failure leads to). A restart delayed by backoff pauses this actor's mailbox with
/// `ctx.wait` and delivers the message again when the delay is over, while every other actor
/// goes on. When a real kill is due the actor dies instead, and `message` goes with its
/// mailbox (its sender's route sends it again to the successor). A supervised actor must be
/// sent its messages only through [`Inbox::of`](super::Inbox::of): each one handled here
/// acknowledges the oldest message its routes keep.
pub fn supervise<A, M, B>(actor: &mut A, message: M, ctx: &mut Context<A>, body: B)
where
    A: Respawn,
    M: Debug + 'static,
    B: Fn(&mut A, &M, &mut Context<A>) + Copy + 'static,
{
    if kill_if_due(actor, ctx) || hang_if_struck(actor, ctx) {
        return;
    }
    deliver(actor, message, ctx, body, Delivery::first());
}

/// Goes on with `message` after its handling failed once the handler had returned: a call it
/// started and awaited with [`hold`](super::hold) (call this from `hold`'s `then`) panicked
/// with `payload`; `history` is the
/// [`delivery_history`](super::delivery_history) the handler took along when it started the
/// call. The failure goes to the tree like a handler's own (restart intensity, escalation,
/// the poison rule; an injected fault counts against neither), the actor is rehydrated, and
/// `message` is handled again with `body`.
pub fn supervise_failed<A, M, B>(
    actor: &mut A,
    message: M,
    history: DeliveryHistory,
    payload: Box<dyn std::any::Any + Send>,
    ctx: &mut Context<A>,
    body: B,
) where
    A: Rehydrate + Actor<Context = Context<A>>,
    M: Debug + 'static,
    B: Fn(&mut A, &M, &mut Context<A>) + Copy + 'static,
{
    let step = step_after_failure(actor, &message, history, payload, |actor| {
        body(actor, &message, ctx)
    });
    if let Step::Later(later) = step {
        redeliver_later(actor, message, ctx, body, later);
    }
}

#[inline(always)]
fn deliver<A, M, B>(actor: &mut A, message: M, ctx: &mut Context<A>, body: B, at: Delivery)
where
    A: Rehydrate + Actor<Context = Context<A>>,
    M: Debug + 'static,
    B: Fn(&mut A, &M, &mut Context<A>) + Copy + 'static,
{
    let timer = actor.supervision().start_timer();
    actor.supervision().cell.holding.set(false);
    match step(actor, &message, at, |actor| body(actor, &message, ctx)) {
        Step::Later(later) => redeliver_later(actor, message, ctx, body, later),
        // Handled to the end, or given up: its sender need not send it again. Unless the
        // handler holds it for work it awaits ([`hold`](super::hold)), which acknowledges it.
        Step::Done(_) => {
            if !actor.supervision().cell.holding.get() {
                actor.supervision().routes().ack()
            }
        }
    }
    actor.supervision().stop_timer(timer);
}

/// Holds the actor's mailbox until the restart's backoff is over, then delivers again.
#[cold]
#[inline(never)]
fn redeliver_later<A, M, B>(
    actor: &mut A,
    message: M,
    ctx: &mut Context<A>,
    body: B,
    later: Delivery,
) where
    A: Rehydrate + Actor<Context = Context<A>>,
    M: Debug + 'static,
    B: Fn(&mut A, &M, &mut Context<A>) + Copy + 'static,
{
    // Not done: the delivery after the delay acknowledges it.
    actor.supervision().cell.holding.set(true);
    let delay = actix::clock::sleep(later.backoff);
    ctx.wait(
        delay
            .into_actor(actor)
            .map(move |(), actor, ctx| deliver(actor, message, ctx, body, later)),
    );
}
