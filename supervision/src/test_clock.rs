//! A hand-advanced clock for this crate's tests. The pure types never read a clock: they take
//! `now: Instant`, and the runtime gives them event time as instants (`keel-actors`'
//! `EventInstants`), so keel has one clock abstraction, the model's `Clock`.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    elapsed: Cell<Duration>,
}

impl ManualClock {
    /// A clock standing at an arbitrary fixed origin.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed: Cell::new(Duration::ZERO),
        }
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.elapsed.set(self.elapsed.get() + by);
    }

    /// The current instant.
    pub fn now(&self) -> Instant {
        self.start + self.elapsed.get()
    }
}
