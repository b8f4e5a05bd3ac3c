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
//! - [`health`]: the health registry, the supervision report line and supervision events;
//! - [`clock`]: the injectable clock.

#![warn(missing_docs)]

pub mod breaker;
pub mod clock;
pub mod config;
pub mod intensity;
pub mod jitter;
pub mod restart;
pub mod retry;
pub mod strategy;
pub mod supervisor;
mod window;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker, Permit, Rejected, Transition};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::ConfigError;
pub use intensity::{BackoffConfig, ChildBackoff, Decision, IntensityConfig, RestartIntensity};
pub use jitter::Jitter;
pub use restart::{should_restart, ExitReason, RestartType};
pub use retry::{retry_idempotent, retry_idempotent_with, RetryPolicy};
pub use strategy::{children_to_restart, Strategy};
pub use supervisor::{
    ChildId, ChildInfo, SupervisorAction, SupervisorConfig, SupervisorCore, SupervisorError,
    ROOT_ESCALATION_EXIT_CODE,
};
