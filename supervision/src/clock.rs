//! An injectable monotonic clock: the wall clock in production, a hand-advanced one in tests.
//!
//! The pure types of this crate never read a clock; they take `now: Instant` as an argument.
//! The actor shells own a `Clock` and pass `clock.now()` in, so tests swap in a
//! [`ManualClock`] and control time exactly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source of monotonic time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// The process's monotonic clock (`Instant::now()`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to. Clones share the same time, so a test keeps one
/// handle and gives another to the code under test.
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    elapsed_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at an arbitrary fixed origin ([`ManualClock::start`]).
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The origin: what `now()` returned before any `advance`.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Moves time forward by `by` (saturating at about 584 years of total advance).
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // `fetch_update` with a saturating add never fails because the closure always
        // returns `Some`; the result is ignored on purpose.
        let _ = self
            .elapsed_nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                Some(current.saturating_add(nanos))
            });
    }

    /// How far the clock has been advanced since its origin.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos.load(Ordering::Acquire))
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced_and_clones_share_time() {
        let clock = ManualClock::new();
        let handle = clock.clone();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        handle.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - t0, Duration::from_millis(1500));
        assert_eq!(clock.elapsed(), Duration::from_millis(1500));
        assert_eq!(clock.start(), t0);
    }

    #[test]
    fn shared_clock_works_through_arc_and_reference() {
        let clock = Arc::new(ManualClock::new());
        let as_dyn: Arc<dyn Clock> = clock.clone();
        clock.advance(Duration::from_secs(2));
        assert_eq!(as_dyn.now() - clock.start(), Duration::from_secs(2));
        fn read(clock: impl Clock) -> Instant {
            clock.now()
        }
        let manual = ManualClock::new();
        assert_eq!(read(&manual), manual.start());
        assert!(read(SystemClock) <= SystemClock.now());
    }
}
