//! Sending to an actor while counting its mailbox: the sender counts a message in, the
//! receiver's supervision wrapper counts it out when it starts handling it, so the health
//! registry knows every actor's mailbox depth.

use actix::dev::ToEnvelope;
use actix::prelude::*;
use keel_supervision::MailboxGauge;

/// A recipient of one message type with the receiver's mailbox gauge: how one stage addresses
/// the next without naming its actor type.
pub struct Inbox<M: Message + Send>
where
    M::Result: Send,
{
    recipient: Recipient<M>,
    gauge: MailboxGauge,
}

impl<M: Message + Send> Clone for Inbox<M>
where
    M::Result: Send,
{
    fn clone(&self) -> Self {
        Self {
            recipient: self.recipient.clone(),
            gauge: self.gauge.clone(),
        }
    }
}

impl<M: Message + Send + 'static> Inbox<M>
where
    M::Result: Send,
{
    /// Sends to `recipient`, counting into `gauge` (the receiver's).
    pub fn new(recipient: Recipient<M>, gauge: MailboxGauge) -> Self {
        Self { recipient, gauge }
    }

    /// The inbox of the actor at `addr` for `M`, counting into its `gauge`.
    pub fn of<A>(addr: &Addr<A>, gauge: &MailboxGauge) -> Self
    where
        A: Actor + Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        Self::new(addr.clone().recipient(), gauge.clone())
    }

    /// Queues `msg` (never blocks; the lockstep feed bounds what is in flight).
    pub fn send(&self, msg: M) {
        self.gauge.increment();
        self.recipient.do_send(msg);
    }
}
