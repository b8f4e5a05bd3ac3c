//! A count-based circuit breaker for one external dependency (exchange REST / WS, LLM API,
//! news source).
//!
//! - **Closed**: calls pass; the outcomes of the last `window_size` calls are kept. Once at
//!   least `minimum_calls` are recorded and the failure rate reaches
//!   `failure_rate_threshold`, the breaker opens.
//! - **Open**: calls are rejected with the time left until `open_cooldown_ms` has passed;
//!   the first `allow` after that moves to half-open.
//! - **Half-open**: `half_open_trial_calls` trial calls are let through. All succeed →
//!   closed (with an empty window); any fails → open again. If the trials are all out and
//!   none has reported within another cool-down, they count as lost and the breaker reopens
//!   (a hung dependency must not keep the breaker half-open forever).
//!
//! Every call needs a [`Permit`] from [`CircuitBreaker::allow`], handed back with its outcome.
//! A permit issued before the last state change is stale and its outcome is ignored, so a
//! slow call started while closed cannot reopen a breaker that has since recovered.
//! Every state change is returned as a [`Transition`] value for the caller to log
//! (`breaker_opened`, `breaker_closed`). Time is always passed in: tests control it.

use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::{in_range, ConfigError};
use crate::window::OutcomeWindow;

/// A breaker's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// How many of the most recent calls the failure rate is computed over.
    pub window_size: u32,
    /// Failure rate (0..=1) at or above which the breaker opens.
    pub failure_rate_threshold: f64,
    /// Calls that must be recorded before the breaker may open.
    pub minimum_calls: u32,
    /// How long the breaker stays open before trying again, in milliseconds.
    pub open_cooldown_ms: u64,
    /// Trial calls let through while half-open; all must succeed to close.
    pub half_open_trial_calls: u32,
}

impl Default for BreakerConfig {
    /// Last 20 calls, opens at 50 % failures after 10 calls, 30 s cool-down, 3 trial calls.
    fn default() -> Self {
        Self {
            window_size: 20,
            failure_rate_threshold: 0.5,
            minimum_calls: 10,
            open_cooldown_ms: 30_000,
            half_open_trial_calls: 3,
        }
    }
}

impl BreakerConfig {
    /// A breaker that opens after `failures` failures in a row (a window of that many calls,
    /// all failed), stays open `cooldown_ms`, then lets one trial call decide.
    pub fn consecutive(failures: u32, cooldown_ms: u64) -> Self {
        let failures = failures.max(1);
        Self {
            window_size: failures,
            failure_rate_threshold: 1.0,
            minimum_calls: failures,
            open_cooldown_ms: cooldown_ms,
            half_open_trial_calls: 1,
        }
    }

    /// Checks every field, naming `section.field` and the allowed range on error.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "window_size", self.window_size, 1, 10_000)?;
        in_range(
            section,
            "failure_rate_threshold",
            self.failure_rate_threshold,
            0.01,
            1.0,
        )?;
        in_range(
            section,
            "minimum_calls",
            self.minimum_calls,
            1,
            self.window_size,
        )?;
        in_range(
            section,
            "open_cooldown_ms",
            self.open_cooldown_ms,
            1,
            86_400_000,
        )?;
        in_range(
            section,
            "half_open_trial_calls",
            self.half_open_trial_calls,
            1,
            1_000,
        )
    }

    /// The cool-down as a `Duration`.
    pub fn open_cooldown(&self) -> Duration {
        Duration::from_millis(self.open_cooldown_ms)
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls are rejected.
    Open,
    /// A few trial calls pass.
    HalfOpen,
}

impl BreakerState {
    /// The log spelling: `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state change, reported for logging.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
    /// The failure rate (0..=1) that caused it: the window's when opening from closed, the
    /// trials' when leaving half-open, the opening rate when moving from open to half-open.
    pub failure_rate: f64,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} failure_rate={:.2}",
            self.from, self.to, self.failure_rate
        )
    }
}

/// Permission for one call. Hand it back with the call's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use = "report the call's outcome with on_success / on_failure"]
pub struct Permit {
    generation: u64,
    transition: Option<Transition>,
}

impl Permit {
    /// The state change that granting this permit caused (open → half-open), if any.
    pub fn transition(&self) -> Option<Transition> {
        self.transition
    }
}

/// A refused call.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("circuit breaker {state}: call refused, retry in {} ms", retry_in.as_millis())]
pub struct Rejected {
    /// `Open`, or `HalfOpen` when all trial calls are already out.
    pub state: BreakerState,
    /// When a call may be allowed again (an estimate when half-open).
    pub retry_in: Duration,
    /// The state change that this refusal caused (lost half-open trials → open), if any.
    pub transition: Option<Transition>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Closed,
    Open {
        since: Instant,
        rate: f64,
        /// How long it stays open: the configured cool-down, or a forced span.
        cooldown: Duration,
    },
    HalfOpen {
        since: Instant,
        issued: u32,
        succeeded: u32,
    },
}

/// A circuit breaker for one dependency. Not thread-safe by itself: keep it inside the actor
/// that makes the calls.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    phase: Phase,
    window: OutcomeWindow,
    generation: u64,
}

impl CircuitBreaker {
    /// A closed breaker. `config` should have been validated at startup; bad values never
    /// panic (a zero window size counts as one call).
    pub fn new(config: BreakerConfig) -> Self {
        let window = OutcomeWindow::new(config.window_size.max(1) as usize);
        Self {
            config,
            phase: Phase::Closed,
            window,
            generation: 0,
        }
    }

    /// The current state (an open breaker past its cool-down reports `Open` until the next
    /// `allow`).
    pub fn state(&self) -> BreakerState {
        match self.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// The failure rate over the closed-state window (0 when empty).
    pub fn failure_rate(&self) -> f64 {
        self.window.failure_rate()
    }

    /// Outcomes currently in the closed-state window.
    pub fn calls_in_window(&self) -> usize {
        self.window.len()
    }

    /// The settings.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Asks to make one call at `now`.
    pub fn allow(&mut self, now: Instant) -> Result<Permit, Rejected> {
        let cooldown = self.config.open_cooldown();
        match self.phase {
            Phase::Closed => Ok(self.permit(None)),
            Phase::Open {
                since,
                rate,
                cooldown,
            } => {
                let waited = now.saturating_duration_since(since);
                if waited < cooldown {
                    return Err(Rejected {
                        state: BreakerState::Open,
                        retry_in: cooldown - waited,
                        transition: None,
                    });
                }
                let transition = self.enter(
                    Phase::HalfOpen {
                        since: now,
                        issued: 1,
                        succeeded: 0,
                    },
                    rate,
                );
                Ok(self.permit(Some(transition)))
            }
            Phase::HalfOpen {
                since,
                issued,
                succeeded,
            } => {
                if issued < self.config.half_open_trial_calls {
                    self.phase = Phase::HalfOpen {
                        since,
                        issued: issued + 1,
                        succeeded,
                    };
                    return Ok(self.permit(None));
                }
                let waited = now.saturating_duration_since(since);
                if waited < cooldown {
                    return Err(Rejected {
                        state: BreakerState::HalfOpen,
                        retry_in: cooldown - waited,
                        transition: None,
                    });
                }
                // The trials never reported: count the missing ones as failures.
                let lost = issued.saturating_sub(succeeded);
                let rate = f64::from(lost) / f64::from(issued.max(1));
                let transition = self.enter(self.open_now(now, rate), rate);
                Err(Rejected {
                    state: BreakerState::Open,
                    retry_in: cooldown,
                    transition: Some(transition),
                })
            }
        }
    }

    /// Reports that the call made under `permit` succeeded.
    pub fn on_success(&mut self, permit: Permit, _now: Instant) -> Option<Transition> {
        if permit.generation != self.generation {
            return None;
        }
        match self.phase {
            Phase::Closed => {
                self.window.record(false);
                None
            }
            Phase::Open { .. } => None,
            Phase::HalfOpen {
                since,
                issued,
                succeeded,
            } => {
                let succeeded = succeeded + 1;
                if succeeded >= self.config.half_open_trial_calls {
                    return Some(self.enter(Phase::Closed, 0.0));
                }
                self.phase = Phase::HalfOpen {
                    since,
                    issued,
                    succeeded,
                };
                None
            }
        }
    }

    /// Reports that the call made under `permit` failed.
    pub fn on_failure(&mut self, permit: Permit, now: Instant) -> Option<Transition> {
        if permit.generation != self.generation {
            return None;
        }
        match self.phase {
            Phase::Closed => {
                self.window.record(true);
                let rate = self.window.failure_rate();
                let enough = self.window.len() >= self.config.minimum_calls as usize;
                if enough && rate >= self.config.failure_rate_threshold {
                    return Some(self.enter(self.open_now(now, rate), rate));
                }
                None
            }
            Phase::Open { .. } => None,
            Phase::HalfOpen { succeeded, .. } => {
                let rate = 1.0 / f64::from(succeeded.saturating_add(1));
                Some(self.enter(self.open_now(now, rate), rate))
            }
        }
    }

    /// Opens the breaker at `now` for `span` instead of the cool-down, whatever its state: the
    /// dependency is known to be unusable until then (a spent daily budget, a ban). Calls
    /// made before are forgotten. The transition, unless it was open already.
    pub fn force_open(&mut self, now: Instant, span: Duration) -> Option<Transition> {
        let phase = Phase::Open {
            since: now,
            rate: 1.0,
            cooldown: span,
        };
        if let Phase::Open { .. } = self.phase {
            self.phase = phase;
            return None;
        }
        Some(self.enter(phase, 1.0))
    }

    /// How long until an open breaker lets a trial through (zero unless open).
    pub fn open_for(&self, now: Instant) -> Duration {
        match self.phase {
            Phase::Open {
                since, cooldown, ..
            } => cooldown.saturating_sub(now.saturating_duration_since(since)),
            _ => Duration::ZERO,
        }
    }

    fn open_now(&self, now: Instant, rate: f64) -> Phase {
        Phase::Open {
            since: now,
            rate,
            cooldown: self.config.open_cooldown(),
        }
    }

    fn permit(&self, transition: Option<Transition>) -> Permit {
        Permit {
            generation: self.generation,
            transition,
        }
    }

    /// Moves to `phase`, invalidating outstanding permits, and describes the change.
    fn enter(&mut self, phase: Phase, failure_rate: f64) -> Transition {
        let from = self.state();
        self.phase = phase;
        self.generation = self.generation.wrapping_add(1);
        self.window.clear();
        Transition {
            from,
            to: self.state(),
            failure_rate,
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
