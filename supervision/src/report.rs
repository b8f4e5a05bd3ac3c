//! `SupervisionReport`: a snapshot of every actor and breaker, printed as ONE log line.
//!
//! ```text
//! supervision report: actor=risk state=running uptime_s=12 restarts=2 restarts_in_window=1 mailbox=0 last_error="panic: boom"; breaker=venue state=closed last_transition="half_open -> closed failure_rate=0.00" transition_age_s=5
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::breaker::BreakerState;
use crate::event::write_quoted;

/// An actor's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorState {
    /// Registered, not yet running.
    Starting,
    /// Handling messages.
    Running,
    /// Failed; a restart is scheduled.
    Restarting,
    /// Stopped normally (not to be restarted).
    Stopped,
    /// Stopped abnormally (panic, error, kill, escalation), no restart scheduled yet.
    Failed,
}

impl ActorState {
    /// The log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Restarting => "restarting",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for ActorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One actor's health at report time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorReport {
    /// The actor's name.
    pub name: String,
    /// Its lifecycle state.
    pub state: ActorState,
    /// When the current incarnation started running (`None` unless running).
    pub started_at: Option<Instant>,
    /// How long the current incarnation has been running (zero unless running).
    pub uptime: Duration,
    /// Restarts since registration.
    pub restarts_total: u64,
    /// Abnormal exits (panics, errors, kills) since registration.
    pub failures_total: u64,
    /// Restarts within the registry's window ending at report time.
    pub restarts_in_window: u32,
    /// The last abnormal exit or escalation, as text.
    pub last_error: Option<String>,
    /// Messages waiting in its mailbox, as last set (`None`: not measured).
    pub mailbox_depth: Option<usize>,
}

impl fmt::Display for ActorReport {
    /// `actor=risk state=running uptime_s=12 restarts=2 restarts_in_window=1 mailbox=0 last_error=none`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "actor={} state={} uptime_s={} restarts={} restarts_in_window={} mailbox=",
            self.name,
            self.state,
            self.uptime.as_secs(),
            self.restarts_total,
            self.restarts_in_window,
        )?;
        match self.mailbox_depth {
            Some(depth) => write!(f, "{depth}")?,
            None => f.write_str("n/a")?,
        }
        f.write_str(" last_error=")?;
        match &self.last_error {
            Some(error) => write_quoted(f, error),
            None => f.write_str("none"),
        }
    }
}

/// One breaker's health at report time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerReport {
    /// The breaker's name (the dependency it guards).
    pub name: String,
    /// Its state as last reported.
    pub state: BreakerState,
    /// Its last transition, as text (`closed -> open failure_rate=0.60`).
    pub last_transition: Option<String>,
    /// How long ago that transition happened.
    pub last_transition_age: Option<Duration>,
}

impl fmt::Display for BreakerReport {
    /// `breaker=venue state=open last_transition="closed -> open failure_rate=0.60" transition_age_s=3`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "breaker={} state={} last_transition=",
            self.name, self.state
        )?;
        match &self.last_transition {
            Some(transition) => write_quoted(f, transition)?,
            None => f.write_str("none")?,
        }
        if let Some(age) = self.last_transition_age {
            write!(f, " transition_age_s={}", age.as_secs())?;
        }
        Ok(())
    }
}

/// Every actor and breaker, sorted by name. `Display` is the one-line periodic report;
/// iterate `actors` and `breakers` to log one structured event each instead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SupervisionReport {
    /// Actors, by name.
    pub actors: Vec<ActorReport>,
    /// Breakers, by name.
    pub breakers: Vec<BreakerReport>,
}

impl SupervisionReport {
    /// Actors that are not running (failed, restarting, stopped or still starting).
    pub fn not_running(&self) -> impl Iterator<Item = &ActorReport> + '_ {
        self.actors
            .iter()
            .filter(|actor| actor.state != ActorState::Running)
    }

    /// Breakers that are not closed.
    pub fn not_closed(&self) -> impl Iterator<Item = &BreakerReport> + '_ {
        self.breakers
            .iter()
            .filter(|breaker| breaker.state != BreakerState::Closed)
    }
}

impl fmt::Display for SupervisionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("supervision report:")?;
        if self.actors.is_empty() && self.breakers.is_empty() {
            return f.write_str(" no actors, no breakers");
        }
        let mut separator = " ";
        for actor in &self.actors {
            write!(f, "{separator}{actor}")?;
            separator = "; ";
        }
        for breaker in &self.breakers {
            write!(f, "{separator}{breaker}")?;
            separator = "; ";
        }
        Ok(())
    }
}
