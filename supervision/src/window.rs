//! The count-based sliding window of call outcomes behind the circuit breaker.

/// The outcomes (failed or not) of the last `capacity` calls, with a running failure count.
/// O(1) per call, no allocation after construction.
#[derive(Debug, Clone)]
pub(crate) struct OutcomeWindow {
    outcomes: Vec<bool>,
    next: usize,
    len: usize,
    failures: usize,
}

impl OutcomeWindow {
    /// An empty window of `capacity` (at least 1) calls.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            outcomes: vec![false; capacity.max(1)],
            next: 0,
            len: 0,
            failures: 0,
        }
    }

    /// Records one call; the oldest falls out once the window is full.
    pub(crate) fn record(&mut self, failed: bool) {
        if self.len == self.outcomes.len() {
            if self.outcomes[self.next] {
                self.failures -= 1;
            }
        } else {
            self.len += 1;
        }
        self.outcomes[self.next] = failed;
        if failed {
            self.failures += 1;
        }
        self.next = (self.next + 1) % self.outcomes.len();
    }

    /// Calls recorded (at most the capacity).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Failed calls / recorded calls, 0 when empty.
    pub(crate) fn failure_rate(&self) -> f64 {
        if self.len == 0 {
            0.0
        } else {
            self.failures as f64 / self.len as f64
        }
    }

    /// Forgets every outcome.
    pub(crate) fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_calls_count() {
        let mut window = OutcomeWindow::new(4);
        for failed in [true, true, false, false] {
            window.record(failed);
        }
        assert_eq!(window.failure_rate(), 0.5);
        window.record(false); // pushes out the first failure
        window.record(false); // and the second
        assert_eq!(window.failure_rate(), 0.0);
        assert_eq!(window.len(), 4);
        window.record(true);
        assert_eq!(window.failure_rate(), 0.25);
        window.clear();
        assert_eq!((window.len(), window.failure_rate()), (0, 0.0));
        let mut tiny = OutcomeWindow::new(0);
        tiny.record(true);
        assert_eq!(tiny.failure_rate(), 1.0);
    }
}
