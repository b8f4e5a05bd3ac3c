//! Sending to an actor while counting its mailbox: the sender counts a message in, the
//! receiver's supervision wrapper counts it out when it starts handling it, so the health
//! registry knows every actor's mailbox depth.

use actix::prelude::*;
use keel_supervision::MailboxGauge;

/// An actor's address with its mailbox gauge.
pub struct Outbox<A: Actor> {
    addr: Addr<A>,
    gauge: MailboxGauge,
}

impl<A: Actor> Clone for Outbox<A> {
    fn clone(&self) -> Self {
        Self {
            addr: self.addr.clone(),
            gauge: self.gauge.clone(),
        }
    }
}

impl<A: Actor> Outbox<A> {
    /// Sends through `addr`, counting into `gauge` (the receiver's).
    pub fn new(addr: Addr<A>, gauge: MailboxGauge) -> Self {
        Self { addr, gauge }
    }

    /// Queues `msg` (never blocks; the lockstep feed bounds what is in flight).
    pub fn send<M>(&self, msg: M)
    where
        A: Handler<M>,
        A::Context: actix::dev::ToEnvelope<A, M>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        self.gauge.increment();
        self.addr.do_send(msg);
    }

    /// The address itself, for requests that wait for an answer.
    pub fn addr(&self) -> &Addr<A> {
        &self.addr
    }
}

/// A recipient of one message type with the receiver's mailbox gauge (what the feed holds).
pub struct Inbox<M: Message + Send>
where
    M::Result: Send,
{
    recipient: Recipient<M>,
    gauge: MailboxGauge,
}

impl<M: Message + Send> Inbox<M>
where
    M::Result: Send,
{
    /// Sends to `recipient`, counting into `gauge` (the receiver's).
    pub fn new(recipient: Recipient<M>, gauge: MailboxGauge) -> Self {
        Self { recipient, gauge }
    }

    /// Queues `msg`.
    pub fn send(&self, msg: M) {
        self.gauge.increment();
        self.recipient.do_send(msg);
    }
}
