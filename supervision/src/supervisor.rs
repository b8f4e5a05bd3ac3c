//! `SupervisorCore`: the pure decision part of one supervisor (OTP semantics).
//!
//! The actor shell registers its children in start order, reports every child exit with
//! [`SupervisorCore::on_exit`] and carries out the returned [`SupervisorAction`]:
//! - `Restart`: stop the listed children that still run, in reverse order; forget the
//!   `removed` ones (temporary siblings, which OTP never restarts); after each child's
//!   backoff, start the listed children again in the listed (start) order.
//! - `Ignore`: nothing to do (normal exit of a transient child, any exit of a temporary one,
//!   an unknown child, or an exit while the supervisor is shutting down).
//! - `Escalate`: the restart intensity is exceeded. Stop every child in reverse order, then
//!   exit; the parent receives [`ExitReason::Escalated`] for this supervisor (see
//!   [`SupervisorAction::escalation_exit`]) and treats it like any abnormal child exit. A root
//!   supervisor that escalates stops trading safely and ends the process with
//!   [`ROOT_ESCALATION_EXIT_CODE`].

use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::intensity::{BackoffConfig, ChildBackoff, Decision, IntensityConfig, RestartIntensity};
use crate::jitter::Jitter;
use crate::restart::{should_restart, ExitReason, RestartType};
use crate::strategy::{children_to_restart, Strategy};

/// Exit code of the process when the root supervisor escalates: 70 (`EX_SOFTWARE` in
/// sysexits.h). A process manager (systemd `Restart=on-failure`) restarts keel, and startup
/// reconciliation takes over. Distinct from 0 (clean stop) and 1 (startup / config error).
pub const ROOT_ESCALATION_EXIT_CODE: i32 = 70;

/// One supervisor's settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisorConfig {
    /// Which children restart together.
    pub strategy: Strategy,
    /// How many restarts are tolerated before escalating.
    pub intensity: IntensityConfig,
    /// Delay between consecutive restarts of the same child.
    pub backoff: BackoffConfig,
}

impl SupervisorConfig {
    /// Checks every field, naming `section.intensity.…` / `section.backoff.…` on error.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        let sub = |name: &str| crate::config::key(section, name);
        self.intensity.validate(&sub("intensity"))?;
        self.backoff.validate(&sub("backoff"))
    }
}

/// A child's identity within its supervisor, assigned at registration and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildId(u32);

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Registration refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupervisorError {
    /// Child names must be unique within a supervisor (they key logs and health).
    #[error("supervisor `{supervisor}` already has a child named `{name}`")]
    DuplicateChild {
        /// The supervisor's name.
        supervisor: String,
        /// The refused name.
        name: String,
    },
}

/// What the shell must do after a child exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupervisorAction {
    /// Restart these children, in this (start) order, each after its backoff.
    Restart {
        /// Children to (stop and) start again, in start order, with the delay before each.
        children: Vec<(ChildId, Duration)>,
        /// Temporary siblings caught in the restart: stop them and do not start them again.
        removed: Vec<ChildId>,
        /// Restarts within the intensity window, this one included.
        restarts_in_window: u32,
    },
    /// Nothing to do.
    Ignore,
    /// Give up: stop all children and exit with `ExitReason::Escalated(reason)`.
    Escalate {
        /// Which supervisor gave up, the limit, and the last failure.
        reason: String,
    },
}

impl SupervisorAction {
    /// For `Escalate`, the exit reason to report to the parent supervisor.
    pub fn escalation_exit(&self) -> Option<ExitReason> {
        match self {
            Self::Escalate { reason } => Some(ExitReason::Escalated(reason.clone())),
            _ => None,
        }
    }
}

/// A registered child, as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildInfo<'a> {
    /// Its identity.
    pub id: ChildId,
    /// Its unique name within the supervisor.
    pub name: &'a str,
    /// When it is restarted.
    pub restart: RestartType,
}

#[derive(Debug, Clone)]
struct Child {
    id: ChildId,
    name: String,
    restart: RestartType,
    backoff: ChildBackoff,
}

/// The pure core of one supervisor: children in start order, the restart budget, and the
/// decision for each exit. Time comes in as `now`.
#[derive(Debug, Clone)]
pub struct SupervisorCore {
    name: String,
    strategy: Strategy,
    children: Vec<Child>,
    budget: RestartIntensity,
    next_id: u32,
    stopping: bool,
}

impl SupervisorCore {
    /// A supervisor with no children. `config` should have been validated at startup; the
    /// `jitter` source makes backoff reproducible in tests (`Jitter::seeded`).
    pub fn new(name: impl Into<String>, config: SupervisorConfig, jitter: Jitter) -> Self {
        Self {
            name: name.into(),
            strategy: config.strategy,
            children: Vec::new(),
            budget: RestartIntensity::new(config.intensity, config.backoff, jitter),
            next_id: 0,
            stopping: false,
        }
    }

    /// The supervisor's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its restart strategy.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Registers a child after the existing ones (start order = registration order).
    pub fn add_child(
        &mut self,
        name: impl Into<String>,
        restart: RestartType,
    ) -> Result<ChildId, SupervisorError> {
        let name = name.into();
        if self.child_id(&name).is_some() {
            return Err(SupervisorError::DuplicateChild {
                supervisor: self.name.clone(),
                name,
            });
        }
        let id = ChildId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        self.children.push(Child {
            id,
            name,
            restart,
            backoff: ChildBackoff::default(),
        });
        Ok(id)
    }

    /// Forgets a child (deliberately stopped by its owner). Returns whether it was known.
    pub fn remove_child(&mut self, id: ChildId) -> bool {
        let before = self.children.len();
        self.children.retain(|child| child.id != id);
        self.children.len() != before
    }

    /// The id of the child called `name`.
    pub fn child_id(&self, name: &str) -> Option<ChildId> {
        self.children
            .iter()
            .find(|child| child.name == name)
            .map(|child| child.id)
    }

    /// The child with this id, if still registered.
    pub fn child(&self, id: ChildId) -> Option<ChildInfo<'_>> {
        self.children
            .iter()
            .find(|child| child.id == id)
            .map(Self::info)
    }

    /// All registered children in start order.
    pub fn children(&self) -> impl Iterator<Item = ChildInfo<'_>> + '_ {
        self.children.iter().map(Self::info)
    }

    /// Restarts within the intensity window ending at `now`.
    pub fn restarts_in_window(&mut self, now: Instant) -> u32 {
        self.budget.restarts_in_window(now)
    }

    /// Marks the supervisor as stopping: from now on child exits are expected and ignored.
    pub fn begin_shutdown(&mut self) {
        self.stopping = true;
    }

    /// Whether the supervisor is stopping (after `begin_shutdown` or an escalation).
    pub fn is_stopping(&self) -> bool {
        self.stopping
    }

    /// Starts over after the parent restarted this supervisor: a full restart budget, no
    /// backoff history, not stopping. Children stay registered.
    pub fn reset(&mut self) {
        self.budget.reset();
        self.stopping = false;
        for child in &mut self.children {
            child.backoff.reset();
        }
    }

    /// Decides what to do now that `child` exited for `reason`.
    pub fn on_exit(
        &mut self,
        child: ChildId,
        reason: &ExitReason,
        now: Instant,
    ) -> SupervisorAction {
        if self.stopping {
            return SupervisorAction::Ignore;
        }
        let Some(index) = self.children.iter().position(|c| c.id == child) else {
            return SupervisorAction::Ignore;
        };
        let restart = self.children[index].restart;
        if !should_restart(restart, reason) {
            if restart == RestartType::Temporary {
                self.children.remove(index);
            }
            return SupervisorAction::Ignore;
        }
        match self.budget.record(now, &mut self.children[index].backoff) {
            Decision::Escalate { restarts_in_window } => {
                self.stopping = true;
                SupervisorAction::Escalate {
                    reason: self.escalation_reason(index, reason, restarts_in_window),
                }
            }
            Decision::Restart {
                restarts_in_window,
                backoff,
            } => self.restart(child, backoff, restarts_in_window),
        }
    }

    /// Like [`on_exit`](Self::on_exit) for an exit caused on purpose (a chaos test's kill):
    /// the same children restart, at once, and nothing is counted against the intensity or
    /// the backoff, so that deliberate kills test recovery and never escalation.
    pub fn on_deliberate_exit(&mut self, child: ChildId, now: Instant) -> SupervisorAction {
        if self.stopping || !self.children.iter().any(|c| c.id == child) {
            return SupervisorAction::Ignore;
        }
        let restarts_in_window = self.budget.restarts_in_window(now);
        self.restart(child, Duration::ZERO, restarts_in_window)
    }

    /// The restart of `child` and of the siblings the strategy restarts with it.
    fn restart(&mut self, child: ChildId, backoff: Duration, in_window: u32) -> SupervisorAction {
        let order: Vec<ChildId> = self.children.iter().map(|c| c.id).collect();
        let mut children = Vec::new();
        let mut removed = Vec::new();
        for id in children_to_restart(self.strategy, &order, &child) {
            // The failed child itself is never temporary here (`should_restart`).
            let temporary = self.child(id).map(|c| c.restart) == Some(RestartType::Temporary);
            if temporary {
                removed.push(id);
            } else {
                children.push((id, backoff));
            }
        }
        self.children.retain(|c| !removed.contains(&c.id));
        SupervisorAction::Restart {
            children,
            removed,
            restarts_in_window: in_window,
        }
    }

    fn escalation_reason(&self, index: usize, reason: &ExitReason, restarts: u32) -> String {
        let config = self.budget.config();
        format!(
            "supervisor `{}` gave up: {} restarts in {} ms exceed max_restarts {}; last failure: child `{}` {}",
            self.name, restarts, config.window_ms, config.max_restarts, self.children[index].name, reason
        )
    }

    fn info(child: &Child) -> ChildInfo<'_> {
        ChildInfo {
            id: child.id,
            name: &child.name,
            restart: child.restart,
        }
    }
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
