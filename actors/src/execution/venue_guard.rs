//! The circuit breaker around the venue (DESIGN §4): every call to the venue is a success or
//! a failure; past the failure-rate threshold the breaker opens, calls are refused without
//! reaching the venue, and risk goes reduce-only until trial calls succeed again. It runs on
//! event time, so a replay behaves as a live run would.

use std::ops::Range;

use keel_supervision::{BreakerConfig, BreakerState, CircuitBreaker, Permit, Transition};

use crate::model::{EventInstants, Timestamp};

/// Venue calls to fail on purpose (tests and chaos runs): the calls numbered in the range,
/// counting from 0.
pub type VenueFaults = Range<u64>;

/// The breaker, its clock and the fault plan.
pub struct VenueGuard {
    breaker: CircuitBreaker,
    faults: Option<VenueFaults>,
    calls: u64,
    instants: EventInstants,
}

impl VenueGuard {
    /// A closed breaker; `faults` makes some calls fail.
    pub fn new(config: BreakerConfig, faults: Option<VenueFaults>) -> Self {
        Self {
            breaker: CircuitBreaker::new(config),
            faults,
            calls: 0,
            instants: EventInstants::default(),
        }
    }

    /// The breaker's state.
    pub fn state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Starts a call (its outcome is known only when the venue has answered): `Err` with why
    /// when the breaker refuses it, or when it is one of the calls to fail on purpose (that
    /// one counts as a failure). End a permitted call with [`end`](Self::end). Returns the
    /// state changes too.
    pub fn begin(&mut self, now: Timestamp) -> (Result<Permit, &'static str>, Vec<Transition>) {
        let at = self.instants.at(now);
        let permit = match self.breaker.allow(at) {
            Ok(permit) => permit,
            Err(rejected) => {
                return (
                    Err("the venue's circuit breaker is open"),
                    rejected.transition.into_iter().collect(),
                )
            }
        };
        let mut transitions: Vec<Transition> = permit.transition().into_iter().collect();
        let number = self.calls;
        self.calls += 1;
        if self.faults.as_ref().is_some_and(|f| f.contains(&number)) {
            transitions.extend(self.breaker.on_failure(permit, at));
            return (
                Err("the venue could not be reached (injected fault)"),
                transitions,
            );
        }
        (Ok(permit), transitions)
    }

    /// Ends a call started with [`begin`](Self::begin): whether the venue answered as it
    /// should. Returns the state changes.
    pub fn end(&mut self, permit: Permit, now: Timestamp, succeeded: bool) -> Vec<Transition> {
        let at = self.instants.at(now);
        let transition = if succeeded {
            self.breaker.on_success(permit, at)
        } else {
            self.breaker.on_failure(permit, at)
        };
        transition.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> VenueGuard {
        VenueGuard::new(
            BreakerConfig {
                window_size: 4,
                failure_rate_threshold: 0.5,
                minimum_calls: 2,
                open_cooldown_ms: 1_000,
                half_open_trial_calls: 1,
            },
            None,
        )
    }

    #[test]
    fn asynchronous_calls_open_the_breaker_and_a_later_trial_closes_it() {
        let mut guard = guard();
        for t in 0..2 {
            let (permit, _) = guard.begin(Timestamp(t));
            guard.end(permit.unwrap(), Timestamp(t), false);
        }
        assert_eq!(guard.state(), BreakerState::Open);
        let (refused, _) = guard.begin(Timestamp(500));
        assert_eq!(refused.unwrap_err(), "the venue's circuit breaker is open");
        // After the cool-down (event time) one call is the trial; its success closes it.
        let (trial, moved) = guard.begin(Timestamp(1_600));
        assert_eq!(moved.last().map(|t| t.to), Some(BreakerState::HalfOpen));
        let closed = guard.end(trial.unwrap(), Timestamp(1_600), true);
        assert_eq!(closed.last().map(|t| t.to), Some(BreakerState::Closed));
    }
}
