//! Sending to an actor while counting its mailbox: the sender counts a message in, the
//! receiver's supervision wrapper counts it out when it starts handling it, so the health
//! registry knows every actor's mailbox depth. An inbox to a supervised actor goes through
//! the actor's route (see [`route`](super::route)): it reaches the fresh instance after a
//! real kill, and whatever the dead instance had not handled is sent again.

use std::rc::Rc;

use actix::dev::ToEnvelope;
use actix::prelude::*;
use keel_supervision::MailboxGauge;

use super::route::Route;
use super::ActorHandle;

/// A recipient of one message type with the receiver's mailbox gauge: how one stage addresses
/// the next without naming its actor type.
pub struct Inbox<M: Message + Send>
where
    M::Result: Send,
{
    route: Rc<Route<M>>,
    gauge: MailboxGauge,
    /// The supervised receiver, which acknowledges what it handled: `None` for a plain
    /// recipient (a test's sink), which keeps nothing to send again.
    receiver: Option<ActorHandle>,
}

impl<M: Message + Send> Clone for Inbox<M>
where
    M::Result: Send,
{
    fn clone(&self) -> Self {
        Self {
            route: self.route.clone(),
            gauge: self.gauge.clone(),
            receiver: self.receiver.clone(),
        }
    }
}

impl<M: Message + Send + Clone + 'static> Inbox<M>
where
    M::Result: Send,
{
    /// Sends to a plain `recipient` (not a supervised actor: nothing is kept to send again),
    /// counting into `gauge`.
    pub fn new(recipient: Recipient<M>, gauge: MailboxGauge) -> Self {
        Self {
            route: Rc::new(Route::new(recipient)),
            gauge,
            receiver: None,
        }
    }

    /// The inbox of the supervised actor at `addr` (joined to the tree as `receiver`) for
    /// `M`: every inbox to it for `M` shares one route, which follows the actor across kills.
    pub fn of<A>(addr: &Addr<A>, receiver: &ActorHandle) -> Self
    where
        A: Actor + Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        Self {
            route: receiver.routes().route(addr),
            gauge: receiver.mailbox(),
            receiver: Some(receiver.clone()),
        }
    }

    /// Queues `msg` (never blocks; the lockstep feed bounds what is in flight).
    pub fn send(&self, msg: M) {
        self.gauge.increment();
        if let Some(receiver) = self.receiver.as_ref().filter(|r| r.keeps_copies()) {
            receiver.routes().keep(&self.route, msg.clone());
        }
        self.route.send(msg);
    }

    /// Asks the actor where it is now (a query: awaited, not counted into the mailbox, not
    /// kept); asked again of the fresh instance when a kill closed the mailbox first.
    pub async fn ask(&self, msg: M) -> Result<M::Result, MailboxError> {
        loop {
            match self.route.recipient().send(msg.clone()).await {
                Err(MailboxError::Closed)
                    if self
                        .receiver
                        .as_ref()
                        .is_some_and(ActorHandle::may_be_replaced) =>
                {
                    // Killed before it answered: its fresh instance is asked once it is up.
                    actix::clock::sleep(std::time::Duration::from_millis(1)).await;
                }
                answered => return answered,
            }
        }
    }
}
