//! Restart intensity (at most `max_restarts` in `window` per supervisor) and the jittered,
//! capped exponential backoff between restarts of one child.
//!
//! Intensity follows OTP: every restart is timestamped; when a restart would make more than
//! `max_restarts` restarts within the sliding `window`, the supervisor gives up and escalates.
//!
//! Backoff is per child. The first restart after a quiet period is immediate (as in OTP, so
//! a one-off crash costs no delay); the n-th consecutive restart of the same child waits
//! `base * factor^(n-2)`, capped at `cap`, then shortened by up to `jitter` (a fraction) so
//! that siblings do not restart in lock-step. A child whose previous restart is at least
//! `reset_after` old starts again from an immediate restart.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::{in_range, ConfigError};
use crate::jitter::Jitter;

/// The longest backoff, window or quiet period accepted anywhere: one day.
const MAX_CONFIG_MS: u64 = 86_400_000;

/// How many restarts a supervisor tolerates before escalating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntensityConfig {
    /// Restarts allowed within `window_ms`; one more escalates. `0` escalates on any failure.
    pub max_restarts: u32,
    /// Length of the sliding window, in milliseconds.
    pub window_ms: u64,
}

impl Default for IntensityConfig {
    /// 10 restarts in 60 s (DESIGN §4).
    fn default() -> Self {
        Self {
            max_restarts: 10,
            window_ms: 60_000,
        }
    }
}

impl IntensityConfig {
    /// Checks every field, naming `section.field` and the allowed range on error.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "max_restarts", self.max_restarts, 0, 1_000_000)?;
        in_range(section, "window_ms", self.window_ms, 1, MAX_CONFIG_MS)
    }

    /// The window as a `Duration`.
    pub fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms)
    }
}

/// The delay between consecutive restarts of the same child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackoffConfig {
    /// Delay before the second consecutive restart, in milliseconds.
    pub base_ms: u64,
    /// Growth per further consecutive restart (2 doubles the delay).
    pub factor: f64,
    /// Upper bound of any delay, in milliseconds.
    pub cap_ms: u64,
    /// Fraction (0..=1) by which a delay may be randomly shortened.
    pub jitter: f64,
    /// A child that has not been restarted for this long (ms) starts over with no delay.
    pub reset_after_ms: u64,
}

impl Default for BackoffConfig {
    /// 10 ms, doubling, capped at 5 s, 20 % jitter, reset after 30 s quiet.
    fn default() -> Self {
        Self {
            base_ms: 10,
            factor: 2.0,
            cap_ms: 5_000,
            jitter: 0.2,
            reset_after_ms: 30_000,
        }
    }
}

impl BackoffConfig {
    /// Checks every field, naming `section.field` and the allowed range on error.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "base_ms", self.base_ms, 0, MAX_CONFIG_MS)?;
        in_range(section, "factor", self.factor, 1.0, 16.0)?;
        in_range(section, "cap_ms", self.cap_ms, self.base_ms, MAX_CONFIG_MS)?;
        in_range(section, "jitter", self.jitter, 0.0, 1.0)?;
        in_range(
            section,
            "reset_after_ms",
            self.reset_after_ms,
            1,
            MAX_CONFIG_MS,
        )
    }

    /// The un-jittered delay before the `consecutive`-th restart in a row (1 = first).
    pub fn nominal_delay(&self, consecutive: u32) -> Duration {
        let cap = Duration::from_millis(self.cap_ms);
        if consecutive <= 1 {
            return Duration::ZERO;
        }
        // Exponent bounded so that `powi` stays finite for any factor we accept.
        let exponent = (consecutive - 2).min(64) as i32;
        let nanos = self.base_ms as f64 * 1e6 * self.factor.powi(exponent);
        // `!(a < b)` so that NaN and infinity fall back to the cap too.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(nanos < cap.as_nanos() as f64) {
            return cap;
        }
        Duration::from_nanos(nanos.round() as u64)
    }
}

/// The per-child memory needed for backoff: how many restarts in a row, and when the last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildBackoff {
    consecutive: u32,
    last_restart: Option<Instant>,
}

impl ChildBackoff {
    /// Restarts in a row so far (0 after a quiet period or a reset).
    pub fn consecutive(&self) -> u32 {
        self.consecutive
    }

    /// Forgets the history: the next restart is immediate.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Counts one more restart at `now` and returns the delay to wait before it.
    pub fn next_delay(
        &mut self,
        now: Instant,
        config: &BackoffConfig,
        jitter: &mut Jitter,
    ) -> Duration {
        let quiet = Duration::from_millis(config.reset_after_ms);
        if let Some(last) = self.last_restart {
            if now.saturating_duration_since(last) >= quiet {
                self.consecutive = 0;
            }
        }
        self.consecutive = self.consecutive.saturating_add(1);
        self.last_restart = Some(now);
        let nominal = config.nominal_delay(self.consecutive);
        if nominal.is_zero() || config.jitter <= 0.0 {
            return nominal;
        }
        let shrink = (config.jitter * jitter.next_unit()).clamp(0.0, 1.0);
        nominal.mul_f64(1.0 - shrink)
    }
}

/// What to do about one failed child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Restart after `backoff`; this restart is the `restarts_in_window`-th in the window.
    Restart {
        /// Restarts within the window, this one included.
        restarts_in_window: u32,
        /// How long to wait before starting the child again.
        backoff: Duration,
    },
    /// The limit is exceeded: give up and escalate to the parent.
    Escalate {
        /// Restarts within the window, the refused one included.
        restarts_in_window: u32,
    },
}

/// A supervisor's restart budget: timestamps of recent restarts and the backoff settings.
#[derive(Debug, Clone)]
pub struct RestartIntensity {
    intensity: IntensityConfig,
    backoff: BackoffConfig,
    jitter: Jitter,
    recent: VecDeque<Instant>,
}

impl RestartIntensity {
    /// A fresh budget. Configs should have been validated; out-of-range values are not
    /// rejected here but never panic (a zero window simply counts nothing).
    pub fn new(intensity: IntensityConfig, backoff: BackoffConfig, jitter: Jitter) -> Self {
        Self {
            intensity,
            backoff,
            jitter,
            recent: VecDeque::new(),
        }
    }

    /// Records a failure at `now` of the child whose backoff memory is `child` and decides.
    pub fn record(&mut self, now: Instant, child: &mut ChildBackoff) -> Decision {
        self.prune(now);
        let restarts_in_window = u32::try_from(self.recent.len() + 1).unwrap_or(u32::MAX);
        if restarts_in_window > self.intensity.max_restarts {
            return Decision::Escalate { restarts_in_window };
        }
        self.recent.push_back(now);
        let backoff = child.next_delay(now, &self.backoff, &mut self.jitter);
        Decision::Restart {
            restarts_in_window,
            backoff,
        }
    }

    /// Restarts granted within the window ending at `now`.
    pub fn restarts_in_window(&mut self, now: Instant) -> u32 {
        self.prune(now);
        u32::try_from(self.recent.len()).unwrap_or(u32::MAX)
    }

    /// Forgets every recorded restart (a restarted supervisor starts with a full budget).
    pub fn reset(&mut self) {
        self.recent.clear();
    }

    /// The intensity settings.
    pub fn config(&self) -> &IntensityConfig {
        &self.intensity
    }

    fn prune(&mut self, now: Instant) {
        let window = self.intensity.window();
        while let Some(&oldest) = self.recent.front() {
            if now.saturating_duration_since(oldest) >= window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
#[path = "intensity_tests.rs"]
mod tests;
