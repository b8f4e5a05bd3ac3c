//! Counting the messages of a step that are still in flight.
//!
//! Every message a step causes carries a [`Ticket`]: creating or cloning one counts up,
//! dropping it counts down. A handler that forwards work clones its ticket into the new
//! message before its own is dropped, so the count only reaches zero when the whole cascade
//! (and every message lost with a crashed handler) is done. The lockstep feed awaits
//! [`Inflight::idle`] between steps; the high-water mark measures the mailboxes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use futures_util::task::AtomicWaker;

#[derive(Debug, Default)]
struct Shared {
    count: AtomicUsize,
    high_water: AtomicUsize,
    /// The highest limit anyone has waited for ([`Inflight::below`]): a decrement wakes the
    /// waiter only when it leaves the count at or below it, not on every message.
    watched: AtomicUsize,
    /// The task waiting (the feed; one at a time): a lock-free slot, since the feed waits
    /// after every step and a mutex-guarded notifier cost more than the step's messages.
    waiter: AtomicWaker,
}

/// The in-flight counter of one runtime.
#[derive(Debug, Clone, Default)]
pub struct Inflight(Arc<Shared>);

impl Inflight {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A ticket for a new message.
    pub fn ticket(&self) -> Ticket {
        self.up();
        Ticket(self.0.clone())
    }

    /// Messages in flight now.
    pub fn count(&self) -> usize {
        self.0.count.load(Ordering::SeqCst)
    }

    /// The most messages ever in flight at once.
    pub fn high_water(&self) -> usize {
        self.0.high_water.load(Ordering::Relaxed)
    }

    /// Resolves once no message is in flight.
    pub async fn idle(&self) {
        self.below(0).await;
    }

    /// Resolves once at most `limit` messages are in flight (backpressure for free-running
    /// feeds). One task waits at a time (the feed): a second waiter would take the first's
    /// place.
    pub async fn below(&self, limit: usize) {
        // Before the first check: a decrement that reaches `limit` after it then wakes us.
        self.0.watched.fetch_max(limit, Ordering::SeqCst);
        std::future::poll_fn(|cx| {
            // Register before checking, so a decrement in between is not missed.
            self.0.waiter.register(cx.waker());
            if self.count() <= limit {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }

    fn up(&self) {
        up(&self.0);
    }
}

/// Counts one more message in flight.
fn up(shared: &Shared) {
    let n = shared.count.fetch_add(1, Ordering::SeqCst) + 1;
    // Read first: the mark rarely moves, and a read is cheaper than a read-modify-write.
    if n > shared.high_water.load(Ordering::Relaxed) {
        shared.high_water.fetch_max(n, Ordering::Relaxed);
    }
}

/// Proof that a message is in flight; counts down when dropped.
pub struct Ticket(Arc<Shared>);

impl std::fmt::Debug for Ticket {
    /// Just the name: the counters are the tracker's, not the message's (a dead letter
    /// prints its message).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticket")
    }
}

impl Clone for Ticket {
    fn clone(&self) -> Self {
        up(&self.0);
        Ticket(self.0.clone())
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let left = self.0.count.fetch_sub(1, Ordering::SeqCst) - 1;
        if left <= self.0.watched.load(Ordering::SeqCst) {
            self.0.waiter.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_clones_and_drops() {
        let inflight = Inflight::new();
        let a = inflight.ticket();
        let b = a.clone();
        assert_eq!(inflight.count(), 2);
        drop(a);
        assert_eq!(inflight.count(), 1);
        drop(b);
        assert_eq!(inflight.count(), 0);
        assert_eq!(inflight.high_water(), 2);
    }

    #[actix_rt::test]
    async fn idle_waits_for_the_last_ticket() {
        let inflight = Inflight::new();
        let ticket = inflight.ticket();
        let waiter = {
            let inflight = inflight.clone();
            actix_rt::spawn(async move {
                inflight.idle().await;
                inflight.count()
            })
        };
        actix_rt::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(ticket);
        assert_eq!(waiter.await.unwrap(), 0);
    }

    #[actix_rt::test]
    async fn below_wakes_when_the_count_reaches_its_limit_not_only_at_zero() {
        let inflight = Inflight::new();
        let mut tickets: Vec<Ticket> = (0..5).map(|_| inflight.ticket()).collect();
        let waiter = {
            let inflight = inflight.clone();
            actix_rt::spawn(async move {
                inflight.below(2).await;
                inflight.count()
            })
        };
        actix_rt::task::yield_now().await;
        tickets.pop();
        tickets.pop();
        actix_rt::task::yield_now().await;
        assert!(!waiter.is_finished(), "3 in flight is above the limit");
        tickets.pop();
        let woken = tokio::time::timeout(std::time::Duration::from_secs(180), waiter).await;
        assert_eq!(woken.expect("never woken at its limit").unwrap(), 2);
    }
}
