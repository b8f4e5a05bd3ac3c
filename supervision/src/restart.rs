//! Restart types and exit reasons, with OTP's rule for which exits lead to a restart.
//!
//! | type        | normal / shutdown exit | abnormal exit (panic, error, killed, escalated) |
//! |-------------|------------------------|-------------------------------------------------|
//! | `Permanent` | restarted              | restarted                                       |
//! | `Transient` | not restarted          | restarted                                       |
//! | `Temporary` | not restarted          | not restarted                                   |

use std::fmt;

use serde::{Deserialize, Serialize};

/// When a child is restarted after it exits (OTP's `restart` child-spec field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartType {
    /// Always restarted, whatever the exit reason.
    Permanent,
    /// Restarted only after an abnormal exit (panic, error, kill, escalation).
    Transient,
    /// Never restarted; removed from its supervisor when it exits.
    Temporary,
}

impl RestartType {
    /// The config / log spelling: `permanent`, `transient` or `temporary`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Permanent => "permanent",
            Self::Transient => "transient",
            Self::Temporary => "temporary",
        }
    }
}

impl fmt::Display for RestartType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a child stopped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// It finished its work and stopped by itself.
    Normal,
    /// Its supervisor (or the operator) asked it to stop, e.g. during a graceful shutdown.
    Shutdown,
    /// A handler panicked; the payload's message (or a placeholder when it was not a string).
    Panic(String),
    /// It stopped itself because of an error it could not handle.
    Error(String),
    /// It was killed from outside (chaos monkey, operator kill) without a chance to clean up.
    Killed,
    /// It is a supervisor that gave up (restart intensity exceeded); the reason says why.
    Escalated(String),
    /// It did not finish a message within its deadline and was replaced; what it was doing.
    Hung(String),
}

impl ExitReason {
    /// Whether the exit counts as a failure (everything except `Normal` and `Shutdown`).
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, Self::Normal | Self::Shutdown)
    }

    /// The one-word kind for structured logs: `normal`, `shutdown`, `panic`, `error`,
    /// `killed`, `escalated` or `hung`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Shutdown => "shutdown",
            Self::Panic(_) => "panic",
            Self::Error(_) => "error",
            Self::Killed => "killed",
            Self::Escalated(_) => "escalated",
            Self::Hung(_) => "hung",
        }
    }

    /// Turns a panic payload (from `catch_unwind` or a `JoinError`) into `Panic(message)`.
    pub fn from_panic_payload(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
            (*text).to_string()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "non-string panic payload".to_string()
        };
        Self::Panic(message)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Panic(message)
            | Self::Error(message)
            | Self::Escalated(message)
            | Self::Hung(message) => {
                write!(f, "{}: {message}", self.kind())
            }
            _ => f.write_str(self.kind()),
        }
    }
}

/// OTP's rule: whether a child of this restart type is restarted after exiting for `reason`.
pub fn should_restart(restart: RestartType, reason: &ExitReason) -> bool {
    match restart {
        RestartType::Permanent => true,
        RestartType::Transient => reason.is_abnormal(),
        RestartType::Temporary => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_reasons() -> Vec<ExitReason> {
        vec![
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::Panic("boom".into()),
            ExitReason::Error("io".into()),
            ExitReason::Killed,
            ExitReason::Escalated("too many restarts".into()),
            ExitReason::Hung("no answer within 2s".into()),
        ]
    }

    #[test]
    fn permanent_children_are_restarted_after_every_exit() {
        for reason in all_reasons() {
            assert!(should_restart(RestartType::Permanent, &reason), "{reason}");
        }
    }

    #[test]
    fn transient_children_are_restarted_only_after_abnormal_exits() {
        let restarted: Vec<&str> = all_reasons()
            .iter()
            .filter(|reason| should_restart(RestartType::Transient, reason))
            .map(ExitReason::kind)
            .collect();
        assert_eq!(restarted, ["panic", "error", "killed", "escalated", "hung"]);
    }

    #[test]
    fn temporary_children_are_never_restarted() {
        for reason in all_reasons() {
            assert!(!should_restart(RestartType::Temporary, &reason), "{reason}");
        }
    }

    #[test]
    fn reasons_display_their_kind_and_message() {
        assert_eq!(ExitReason::Panic("boom".into()).to_string(), "panic: boom");
        assert_eq!(ExitReason::Killed.to_string(), "killed");
        assert_eq!(
            ExitReason::Hung("no answer within 2s".into()).to_string(),
            "hung: no answer within 2s"
        );
        assert_eq!(
            ExitReason::Escalated("limit".into()).to_string(),
            "escalated: limit"
        );
    }

    #[test]
    fn panic_payloads_become_panic_reasons() {
        let caught = std::panic::catch_unwind(|| panic!("handler failed on {}", 7)).unwrap_err();
        assert_eq!(
            ExitReason::from_panic_payload(caught.as_ref()),
            ExitReason::Panic("handler failed on 7".into())
        );
        let caught = std::panic::catch_unwind(|| std::panic::panic_any(42u8)).unwrap_err();
        assert_eq!(
            ExitReason::from_panic_payload(caught.as_ref()),
            ExitReason::Panic("non-string panic payload".into())
        );
    }

    #[test]
    fn restart_types_parse_from_snake_case() {
        let parsed: RestartType = serde_json::from_str("\"transient\"").unwrap();
        assert_eq!(parsed, RestartType::Transient);
        assert_eq!(RestartType::Temporary.to_string(), "temporary");
    }
}
