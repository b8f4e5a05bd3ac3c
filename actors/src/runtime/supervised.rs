//! Every actor handler runs through [`supervise`]: its failures are contained and its actor
//! restarted by the tree, and when a restart waits for its backoff only this actor's mailbox
//! waits (the message is delivered again after the delay); the thread every actor shares
//! never sleeps.

use std::fmt::Debug;

use actix::prelude::*;

use super::supervise::{step, Delivery, Step};
use super::Rehydrate;

/// A handler's body: the actor, the message, the actor's context. A plain function (a
/// closure that captures nothing), so that a delayed redelivery can run it again.
pub type Body<A, M> = fn(&mut A, &M, &mut Context<A>);

/// Handles `message` with `body` under supervision (see [`contain`](super::contain) for what
/// a failure leads to). A restart delayed by backoff pauses this actor's mailbox with
/// `ctx.wait` and delivers the message again when the delay is over, while every other actor
/// goes on.
pub fn supervise<A, M>(actor: &mut A, message: M, ctx: &mut Context<A>, body: Body<A, M>)
where
    A: Rehydrate + Actor<Context = Context<A>>,
    M: Debug + 'static,
{
    deliver(actor, message, ctx, body, Delivery::first());
}

fn deliver<A, M>(actor: &mut A, message: M, ctx: &mut Context<A>, body: Body<A, M>, at: Delivery)
where
    A: Rehydrate + Actor<Context = Context<A>>,
    M: Debug + 'static,
{
    let later = match step(actor, &message, at, |actor| body(actor, &message, ctx)) {
        Step::Done(_) => return,
        Step::Later(later) => later,
    };
    let delay = actix::clock::sleep(later.backoff);
    ctx.wait(
        delay
            .into_actor(actor)
            .map(move |(), actor, ctx| deliver(actor, message, ctx, body, later)),
    );
}
