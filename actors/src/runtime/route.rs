//! Routes: how senders reach a supervised actor across its real kills.
//!
//! Senders never hold a supervised actor's address. They hold a [`Route`] per message type,
//! shared by every [`Inbox`](super::Inbox) to that actor, which the supervisor re-points to
//! the fresh instance after a kill. Every message sent through a route is also kept, until
//! the receiver has handled it to the end: a clone in the route's queue (its in-flight ticket
//! keeps the step open), and the route in the receiver's [`Routes`] queue of unacknowledged
//! messages, which holds their order across message types. The actor's mailbox is one FIFO queue and every
//! counted message is handled (or given up) exactly once by a live instance, so a handled
//! message is always the oldest unacknowledged one: the receiver acknowledges by popping the
//! front, no sequence number needed. A kill drops the dead instance's mailbox and the message
//! it was about to handle; the fresh instance is sent every unacknowledged message again, in
//! order, before anything newer. Nothing the dead instance handled is sent again (it was
//! acknowledged), and nothing it dropped is lost.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use actix::dev::ToEnvelope;
use actix::prelude::*;

/// Where messages of one type to one actor go now, and those of them not yet handled.
pub(super) struct Route<M: Message + Send>
where
    M::Result: Send,
{
    target: RefCell<Recipient<M>>,
    /// Copies of the messages sent through this route and not yet acknowledged, oldest first.
    kept: RefCell<VecDeque<M>>,
    /// How many of `kept` a resend has sent again so far.
    resent: Cell<usize>,
}

impl<M: Message + Send + 'static> Route<M>
where
    M::Result: Send,
{
    pub(super) fn new(target: Recipient<M>) -> Self {
        Self {
            target: RefCell::new(target),
            kept: RefCell::new(VecDeque::new()),
            resent: Cell::new(0),
        }
    }

    /// Queues `msg` at the current instance (a dead one drops it: it is resent from the
    /// unacknowledged queue when the fresh instance starts).
    pub(super) fn send(&self, msg: M) {
        self.target.borrow().do_send(msg);
    }

    /// The current instance's recipient (for queries, which are awaited, not queued here).
    pub(super) fn recipient(&self) -> Recipient<M> {
        self.target.borrow().clone()
    }
}

/// A route's side of the unacknowledged queue, whatever its message type.
trait Kept {
    /// Forgets the oldest message kept (it was handled).
    fn forget_oldest(&self);
    /// Forgets every message kept.
    fn forget_all(&self);
    /// Starts a resend from the oldest message kept.
    fn rewind(&self);
    /// Sends the next message kept again, to where the route points now.
    fn resend_next(&self);
}

impl<M: Message + Send + Clone + 'static> Kept for Route<M>
where
    M::Result: Send,
{
    fn forget_oldest(&self) {
        self.kept.borrow_mut().pop_front();
    }

    fn forget_all(&self) {
        self.kept.borrow_mut().clear();
    }

    fn rewind(&self) {
        self.resent.set(0);
    }

    fn resend_next(&self) {
        let i = self.resent.get();
        self.resent.set(i + 1);
        let msg = self.kept.borrow().get(i).cloned();
        if let Some(msg) = msg {
            self.send(msg);
        }
    }
}

/// Points one route at a fresh instance, given as `&Addr<A>`.
type Repointer = Box<dyn Fn(&dyn Any)>;

/// One supervised actor's routes (by message type) and its unacknowledged messages.
#[derive(Default)]
pub(super) struct Routes {
    by_type: RefCell<HashMap<TypeId, Rc<dyn Any>>>,
    repointers: RefCell<Vec<Repointer>>,
    /// The route of every message sent and not yet acknowledged, oldest first (its copy is
    /// in the route's own queue: nothing is allocated per message).
    unacked: RefCell<VecDeque<Rc<dyn Kept>>>,
    /// The address of the instance started last after a kill (an `Addr<A>`), for routes made
    /// after it (a query's); `None` while the first instance lives.
    current: RefCell<Option<Box<dyn Any>>>,
    abandoned: Cell<bool>,
}

impl Routes {
    /// The route for `M` to the actor first started at `addr`, made on first use (pointing
    /// at its current instance).
    pub(super) fn route<A, M>(&self, addr: &Addr<A>) -> Rc<Route<M>>
    where
        A: Actor + Handler<M>,
        A::Context: ToEnvelope<A, M>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        let key = TypeId::of::<M>();
        if let Some(route) = self.by_type.borrow().get(&key) {
            if let Ok(route) = route.clone().downcast::<Route<M>>() {
                return route;
            }
        }
        let current = self.current.borrow();
        let addr = current
            .as_ref()
            .and_then(|c| c.downcast_ref::<Addr<A>>())
            .unwrap_or(addr);
        let route = Rc::new(Route::new(addr.clone().recipient()));
        drop(current);
        self.by_type.borrow_mut().insert(key, route.clone());
        let repointed = Rc::downgrade(&route);
        self.repointers
            .borrow_mut()
            .push(Box::new(move |fresh: &dyn Any| {
                if let (Some(route), Some(addr)) =
                    (repointed.upgrade(), fresh.downcast_ref::<Addr<A>>())
                {
                    *route.target.borrow_mut() = addr.clone().recipient();
                }
            }));
        route
    }

    /// Keeps a copy of `msg`, sent through `route`, until it is acknowledged.
    pub(super) fn keep<M: Message + Send + Clone + 'static>(&self, route: &Rc<Route<M>>, msg: M)
    where
        M::Result: Send,
    {
        if self.abandoned.get() {
            // Nothing will handle it: keeping it would hold its in-flight ticket forever.
            return;
        }
        route.kept.borrow_mut().push_back(msg);
        self.unacked.borrow_mut().push_back(route.clone());
    }

    /// The oldest unacknowledged message was handled to the end.
    pub(super) fn ack(&self) {
        if let Some(route) = self.unacked.borrow_mut().pop_front() {
            route.forget_oldest();
        }
    }

    /// The actor died where no supervisor saw it: nothing kept will ever be handled, and
    /// queries get no answer.
    pub(super) fn abandon(&self) {
        self.abandoned.set(true);
        for route in self.unacked.borrow_mut().drain(..) {
            route.forget_all();
        }
    }

    /// Whether the actor died unsupervised ([`abandon`](Self::abandon)).
    pub(super) fn abandoned(&self) -> bool {
        self.abandoned.get()
    }

    /// Messages sent and not yet handled.
    pub(super) fn unacked(&self) -> usize {
        self.unacked.borrow().len()
    }

    /// Points every route at the fresh instance at `addr` and sends it every unacknowledged
    /// message, oldest first. Returns how many were sent again.
    pub(super) fn repoint<A: Actor>(&self, addr: &Addr<A>) -> usize {
        *self.current.borrow_mut() = Some(Box::new(addr.clone()));
        self.abandoned.set(false);
        for repoint in self.repointers.borrow().iter() {
            repoint(addr);
        }
        let unacked = self.unacked.borrow();
        for route in unacked.iter() {
            route.rewind();
        }
        for route in unacked.iter() {
            route.resend_next();
        }
        unacked.len()
    }
}
