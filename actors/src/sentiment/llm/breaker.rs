//! A small circuit breaker for the model provider. Pure: the time is given.
//!
//! Closed: requests go out; `threshold` consecutive failures open it. Open: requests fail
//! at once until the cooldown (or the budget's UTC midnight) has passed. Half-open: one
//! trial request goes out; its success closes the breaker, its failure opens it again.
//! (keel-supervision will carry a generic breaker; this one is the analyst's own.)

use std::fmt;

use crate::model::Timestamp;

/// Where the breaker stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests go out.
    Closed,
    /// Requests fail at once until `until`.
    Open {
        /// When a trial request is allowed again.
        until: Timestamp,
        /// Why it opened (for the log).
        reason: String,
    },
    /// One trial request may go out.
    HalfOpen,
}

/// A change of state worth logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Now open until the given time.
    Opened {
        /// When a trial is allowed.
        until: Timestamp,
        /// Why.
        reason: String,
    },
    /// The cooldown passed: one trial request goes out.
    HalfOpened,
    /// A request succeeded: closed again.
    Closed,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transition::Opened { until, reason } => write!(f, "open until {until}: {reason}"),
            Transition::HalfOpened => f.write_str("half-open: one trial request"),
            Transition::Closed => f.write_str("closed"),
        }
    }
}

/// The answer to "may a request go out now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Yes (the transition is `HalfOpened` when this is the trial).
    Go(Option<Transition>),
    /// No: open until then (or a trial is already in flight).
    Refused {
        /// When to ask again.
        until: Timestamp,
    },
}

/// Counts consecutive failures and stops requests while the provider is unwell.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown_ms: i64,
    failures: u32,
    state: BreakerState,
    trial_in_flight: bool,
}

impl CircuitBreaker {
    /// A closed breaker that opens after `threshold` consecutive failures for `cooldown_ms`.
    pub fn new(threshold: u32, cooldown_ms: i64) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown_ms: cooldown_ms.max(0),
            failures: 0,
            state: BreakerState::Closed,
            trial_in_flight: false,
        }
    }

    /// The current state.
    pub fn state(&self) -> &BreakerState {
        &self.state
    }

    /// Whether requests are being refused (open, or half-open with the trial out).
    pub fn is_open(&self) -> bool {
        !matches!(self.state, BreakerState::Closed)
    }

    /// Asks to send a request at `now`.
    pub fn admit(&mut self, now: Timestamp) -> Admission {
        match &self.state {
            BreakerState::Closed => Admission::Go(None),
            BreakerState::Open { until, .. } if now < *until => {
                Admission::Refused { until: *until }
            }
            BreakerState::Open { .. } => {
                self.state = BreakerState::HalfOpen;
                self.trial_in_flight = true;
                Admission::Go(Some(Transition::HalfOpened))
            }
            BreakerState::HalfOpen if self.trial_in_flight => Admission::Refused { until: now },
            BreakerState::HalfOpen => {
                self.trial_in_flight = true;
                Admission::Go(None)
            }
        }
    }

    /// A request succeeded.
    pub fn on_success(&mut self) -> Option<Transition> {
        self.failures = 0;
        self.trial_in_flight = false;
        match self.state {
            BreakerState::Closed => None,
            _ => {
                self.state = BreakerState::Closed;
                Some(Transition::Closed)
            }
        }
    }

    /// A request failed at `now` because of `reason`.
    pub fn on_failure(&mut self, now: Timestamp, reason: &str) -> Option<Transition> {
        self.failures = self.failures.saturating_add(1);
        let trial_failed = matches!(self.state, BreakerState::HalfOpen);
        self.trial_in_flight = false;
        let open_now = match self.state {
            BreakerState::Closed => self.failures >= self.threshold,
            BreakerState::HalfOpen => true,
            BreakerState::Open { .. } => false,
        };
        if !open_now {
            return None;
        }
        let reason = if trial_failed {
            format!("the trial request failed: {reason}")
        } else {
            format!("{} consecutive failures, the last: {reason}", self.failures)
        };
        Some(self.open(now.plus_ms(self.cooldown_ms), reason))
    }

    /// Opens the breaker until `until` whatever its state (the daily budget is spent).
    pub fn force_open(&mut self, until: Timestamp, reason: &str) -> Option<Transition> {
        match &self.state {
            BreakerState::Open { until: known, .. } if *known >= until => None,
            _ => Some(self.open(until, reason.to_string())),
        }
    }

    fn open(&mut self, until: Timestamp, reason: String) -> Transition {
        self.trial_in_flight = false;
        self.state = BreakerState::Open {
            until,
            reason: reason.clone(),
        };
        Transition::Opened { until, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_and_recovers_through_half_open() {
        let t0 = Timestamp(1_000_000);
        let mut breaker = CircuitBreaker::new(3, 60_000);
        assert_eq!(breaker.admit(t0), Admission::Go(None));
        assert_eq!(breaker.on_failure(t0, "503"), None);
        assert_eq!(breaker.on_success(), None, "a success resets the count");
        assert_eq!(breaker.on_failure(t0, "503"), None);
        assert_eq!(breaker.on_failure(t0, "503"), None);
        let opened = breaker.on_failure(t0, "timeout").unwrap();
        assert_eq!(
            opened.to_string(),
            format!(
                "open until {}: 3 consecutive failures, the last: timeout",
                t0.plus_ms(60_000)
            )
        );
        assert!(breaker.is_open());
        assert_eq!(
            breaker.admit(t0.plus_ms(59_999)),
            Admission::Refused {
                until: t0.plus_ms(60_000)
            }
        );
        let later = t0.plus_ms(60_000);
        assert_eq!(
            breaker.admit(later),
            Admission::Go(Some(Transition::HalfOpened))
        );
        assert!(
            matches!(breaker.admit(later), Admission::Refused { .. }),
            "one trial at a time"
        );
        assert_eq!(breaker.on_success(), Some(Transition::Closed));
        assert_eq!(breaker.state(), &BreakerState::Closed);
        assert_eq!(breaker.admit(later), Admission::Go(None));
    }

    #[test]
    fn a_failed_trial_opens_it_again() {
        let t0 = Timestamp(0);
        let mut breaker = CircuitBreaker::new(1, 1000);
        assert!(breaker.on_failure(t0, "500").is_some());
        assert!(matches!(breaker.admit(t0.plus_ms(1000)), Admission::Go(_)));
        let again = breaker.on_failure(t0.plus_ms(1000), "500").unwrap();
        assert!(matches!(again, Transition::Opened { until, .. } if until == t0.plus_ms(2000)));
    }

    #[test]
    fn forced_open_lasts_until_the_given_time() {
        let t0 = Timestamp(0);
        let mut breaker = CircuitBreaker::new(5, 1000);
        let midnight = Timestamp(86_400_000);
        assert!(breaker.force_open(midnight, "budget spent").is_some());
        assert_eq!(breaker.force_open(midnight, "budget spent"), None);
        assert_eq!(
            breaker.admit(t0.plus_ms(5000)),
            Admission::Refused { until: midnight }
        );
        assert!(matches!(breaker.admit(midnight), Admission::Go(_)));
    }
}
