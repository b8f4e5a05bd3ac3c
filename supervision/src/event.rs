//! `SupervisionEvent`: one plain value per supervision event, for the caller to log (one
//! structured tracing event each) and to feed to the [`HealthRegistry`](crate::HealthRegistry).

use std::fmt;
use std::time::Duration;

use crate::breaker::{BreakerState, Transition};
use crate::restart::ExitReason;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// An actor (re)started and handles messages.
    Started,
    /// An actor stopped without panicking (normal, shutdown, error, killed).
    Stopped,
    /// A handler panicked; the actor stopped.
    Panicked,
    /// A restart was scheduled (after `backoff_ms`).
    Restarted,
    /// A supervisor exceeded its restart intensity and gave up.
    Escalated,
    /// A breaker opened: calls to its dependency are refused.
    BreakerOpened,
    /// A breaker let trial calls through.
    BreakerHalfOpen,
    /// A breaker closed: its dependency is healthy again.
    BreakerClosed,
}

impl EventKind {
    /// The log spelling: `started`, `stopped`, `panicked`, `restarted`, `escalated`,
    /// `breaker_opened`, `breaker_half_open`, `breaker_closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Stopped => "stopped",
            Self::Panicked => "panicked",
            Self::Restarted => "restarted",
            Self::Escalated => "escalated",
            Self::BreakerOpened => "breaker_opened",
            Self::BreakerHalfOpen => "breaker_half_open",
            Self::BreakerClosed => "breaker_closed",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One supervision event with the fields DESIGN §4 asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionEvent {
    /// The actor, supervisor or breaker concerned.
    pub actor: String,
    /// What happened.
    pub event: EventKind,
    /// Why (the exit reason, escalation reason or breaker transition); empty if none.
    pub reason: String,
    /// Whether this records a failure (abnormal exit, escalation, breaker opening).
    pub abnormal: bool,
    /// Restarts within the supervisor's window (for `restarted` / `escalated`), else 0.
    pub restarts_in_window: u32,
    /// Delay before the restart in milliseconds (for `restarted`), else 0.
    pub backoff_ms: u64,
}

impl SupervisionEvent {
    fn new(actor: impl Into<String>, event: EventKind, reason: String, abnormal: bool) -> Self {
        Self {
            actor: actor.into(),
            event,
            reason,
            abnormal,
            restarts_in_window: 0,
            backoff_ms: 0,
        }
    }

    /// The actor started (or restarted and is running again).
    pub fn started(actor: impl Into<String>) -> Self {
        Self::new(actor, EventKind::Started, String::new(), false)
    }

    /// The actor exited: `panicked` for a panic, `stopped` otherwise.
    pub fn exited(actor: impl Into<String>, reason: &ExitReason) -> Self {
        let kind = match reason {
            ExitReason::Panic(_) => EventKind::Panicked,
            _ => EventKind::Stopped,
        };
        Self::new(actor, kind, reason.to_string(), reason.is_abnormal())
    }

    /// A restart of the actor was scheduled because of `reason`.
    pub fn restarted(
        actor: impl Into<String>,
        reason: &ExitReason,
        restarts_in_window: u32,
        backoff: Duration,
    ) -> Self {
        Self {
            restarts_in_window,
            backoff_ms: u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
            ..Self::new(actor, EventKind::Restarted, reason.to_string(), false)
        }
    }

    /// The supervisor gave up (the `reason` of `SupervisorAction::Escalate`).
    pub fn escalated(
        supervisor: impl Into<String>,
        reason: impl Into<String>,
        restarts_in_window: u32,
    ) -> Self {
        Self {
            restarts_in_window,
            ..Self::new(supervisor, EventKind::Escalated, reason.into(), true)
        }
    }

    /// The breaker called `name` changed state.
    pub fn breaker(name: impl Into<String>, transition: &Transition) -> Self {
        let kind = match transition.to {
            BreakerState::Open => EventKind::BreakerOpened,
            BreakerState::HalfOpen => EventKind::BreakerHalfOpen,
            BreakerState::Closed => EventKind::BreakerClosed,
        };
        let abnormal = transition.to == BreakerState::Open;
        Self::new(name, kind, transition.to_string(), abnormal)
    }
}

impl fmt::Display for SupervisionEvent {
    /// `supervision event: actor=risk event=panicked reason="panic: boom" restarts_in_window=0 backoff_ms=0`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "supervision event: actor={} event={} reason=",
            self.actor, self.event
        )?;
        write_quoted(f, &self.reason)?;
        write!(
            f,
            " restarts_in_window={} backoff_ms={}",
            self.restarts_in_window, self.backoff_ms
        )
    }
}

/// Writes `text` in double quotes, escaping quotes, backslashes and line breaks so that a
/// log line stays one line and greppable.
pub(crate) fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_reads_as_one_greppable_line() {
        let event =
            SupervisionEvent::exited("risk", &ExitReason::Panic("bad \"qty\"\nat line 3".into()));
        assert_eq!(event.event, EventKind::Panicked);
        assert!(event.abnormal);
        assert_eq!(
            event.to_string(),
            r#"supervision event: actor=risk event=panicked reason="panic: bad \"qty\"\nat line 3" restarts_in_window=0 backoff_ms=0"#
        );
    }

    #[test]
    fn restarts_carry_the_window_count_and_backoff() {
        let event = SupervisionEvent::restarted(
            "fusion",
            &ExitReason::Killed,
            3,
            Duration::from_millis(40),
        );
        assert_eq!(
            event.to_string(),
            r#"supervision event: actor=fusion event=restarted reason="killed" restarts_in_window=3 backoff_ms=40"#
        );
    }

    #[test]
    fn exits_and_breaker_transitions_map_to_the_design_vocabulary() {
        assert_eq!(
            SupervisionEvent::exited("a", &ExitReason::Normal).event,
            EventKind::Stopped
        );
        let killed = SupervisionEvent::exited("a", &ExitReason::Killed);
        assert_eq!((killed.event, killed.abnormal), (EventKind::Stopped, true));
        assert_eq!(SupervisionEvent::started("a").event.as_str(), "started");
        let escalated = SupervisionEvent::escalated("trading", "gave up", 11);
        assert_eq!(
            (escalated.event.as_str(), escalated.restarts_in_window),
            ("escalated", 11)
        );
        let opened = SupervisionEvent::breaker(
            "venue",
            &Transition {
                from: BreakerState::Closed,
                to: BreakerState::Open,
                failure_rate: 0.6,
            },
        );
        assert_eq!(
            opened.to_string(),
            r#"supervision event: actor=venue event=breaker_opened reason="closed -> open failure_rate=0.60" restarts_in_window=0 backoff_ms=0"#
        );
        let closed = Transition {
            from: BreakerState::HalfOpen,
            to: BreakerState::Closed,
            failure_rate: 0.0,
        };
        assert_eq!(
            SupervisionEvent::breaker("llm", &closed).event.as_str(),
            "breaker_closed"
        );
    }
}
