//! Generic supervision for keel (no trading types, no actor framework).
//!
//! Everything here is a plain value or a pure state machine that takes the current time as an
//! argument, so the actix shells in `keel-actors` decide *when* and this crate decides *what*:
//!
//! - [`restart`]: restart types (permanent / transient / temporary) and exit reasons;
//! - [`intensity`]: restart intensity (max restarts in a window) and per-child backoff;
//! - [`strategy`]: one_for_one / rest_for_one / one_for_all;
//! - [`supervisor`]: [`SupervisorCore`], which ties the three together and escalates;
//! - [`breaker`]: a count-based circuit breaker;
//! - [`retry`]: retries for idempotent operations only (built on `backon`);
//! - [`event`]: [`SupervisionEvent`], one plain value per supervision event, to log;
//! - [`health`]: [`HealthRegistry`], every actor's and breaker's health;
//! - [`report`]: [`SupervisionReport`], the one-line periodic report;
//! - [`secrets`]: secrets named in the settings, from systemd's credentials or the environment;
//!
//! A supervisor shell's reaction to a child exit, in short:
//!
//! ```
//! use std::time::Instant;
//! use keel_supervision::*;
//!
//! let health = HealthRegistry::default();
//! let mut trading = SupervisorCore::new(
//!     "trading",
//!     SupervisorConfig { strategy: Strategy::RestForOne, ..SupervisorConfig::default() },
//!     Jitter::from_entropy(),
//! );
//! let risk = trading.add_child("risk", RestartType::Permanent).unwrap();
//! let orders = trading.add_child("orders", RestartType::Permanent).unwrap();
//!
//! let reason = ExitReason::Panic("boom".into());
//! let now = Instant::now();
//! health.record(&SupervisionEvent::exited("risk", &reason), now);
//! match trading.on_exit(risk, &reason, now) {
//!     SupervisorAction::Restart { children, restarts_in_window, .. } => {
//!         assert_eq!(children.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [risk, orders]);
//!         for (child, backoff) in children {
//!             let name = trading.child(child).unwrap().name;
//!             let event = SupervisionEvent::restarted(name, &reason, restarts_in_window, backoff);
//!             health.record(&event, now); // and log `event` with tracing
//!         }
//!     }
//!     SupervisorAction::Ignore => {}
//!     SupervisorAction::Escalate { reason } => {
//!         // stop every child, then exit towards the parent with ExitReason::Escalated(reason);
//!         // at the root: stop trading safely and exit with ROOT_ESCALATION_EXIT_CODE.
//!         let _ = reason;
//!     }
//! }
//! assert!(health.report(now).to_string().contains("actor=risk state=restarting uptime_s=0 restarts=1"));
//! ```

#![warn(missing_docs)]

pub mod breaker;
pub mod config;
pub mod event;
pub mod health;
pub mod intensity;
pub mod jitter;
pub mod report;
pub mod restart;
pub mod retry;
pub mod secrets;
pub mod strategy;
pub mod supervisor;
#[cfg(test)]
mod test_clock;
mod window;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker, Permit, Rejected, Transition};
pub use config::ConfigError;
pub use event::{EventKind, SupervisionEvent};
pub use health::{HealthRegistry, MailboxGauge, RecordedEvent, RECENT_EVENTS};
pub use intensity::{BackoffConfig, ChildBackoff, Decision, IntensityConfig, RestartIntensity};
pub use jitter::Jitter;
pub use report::{ActorReport, ActorState, BreakerReport, SupervisionReport};
pub use restart::{should_restart, ExitReason, RestartType};
pub use retry::{
    parse_retry_after, retry_idempotent, retry_idempotent_with, RetryPolicy, Transient,
};
pub use strategy::{children_to_restart, Strategy};
pub use supervisor::{
    ChildId, ChildInfo, SupervisorAction, SupervisorConfig, SupervisorCore, SupervisorError,
    ROOT_ESCALATION_EXIT_CODE,
};
