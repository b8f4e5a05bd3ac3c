//! `GET /status`: the whole run in one JSON document, and the same shape read back by
//! `keel status`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use keel_actors::board::{AccountView, RiskView};
use keel_actors::runtime::{ChildSpec, TreeSpec};
use keel_core::strategy::llm::LlmStats;
use keel_model::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::plane::Attached;

/// The run's state as the control plane reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Seconds since the control plane started.
    pub uptime_s: u64,
    /// Whether it should be trading now (`/readyz`), and if not, why.
    pub ready: bool,
    /// Why it is not ready (empty when ready).
    pub not_ready: Vec<String>,
    /// Why trading stopped, if the root supervisor gave up.
    pub trading_stopped: Option<String>,
    /// The supervision tree: supervisors with their strategy, actors by name.
    pub tree: TreeNode,
    /// Every actor of the supervision tree.
    pub actors: Vec<ActorStatus>,
    /// Every circuit breaker.
    pub breakers: Vec<BreakerStatus>,
    /// The account: equity, cash, positions, open orders.
    pub account: AccountView,
    /// Drawdown from the equity curve's peak, in percent.
    pub drawdown_pct: Decimal,
    /// Risk's switches: halt, flatten, kill switch, reduce-only, refusals.
    pub risk: RiskView,
    /// The feed's progress.
    pub feed: FeedStatus,
    /// The last supervision events, oldest first.
    pub events: Vec<EventStatus>,
    /// What the `llm` strategy has decided so far (absent for the other strategies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmStats>,
}

/// A supervisor or an actor of the supervision tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeNode {
    /// The supervisor's or the actor's name (`trading`, `symbol:BTCUSDT`).
    pub name: String,
    /// For a supervisor: `one_for_one`, `rest_for_one` or `one_for_all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// For an actor: `permanent`, `transient` or `temporary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    /// A supervisor's children, in start order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TreeNode>,
}

impl TreeNode {
    /// The tree `spec` declares.
    pub fn of(spec: &TreeSpec) -> Self {
        Self {
            name: spec.name.clone(),
            strategy: Some(spec.strategy.as_str().to_string()),
            restart: None,
            children: spec
                .children
                .iter()
                .map(|child| match child {
                    ChildSpec::Actor { name, restart } => Self {
                        name: name.clone(),
                        strategy: None,
                        restart: Some(restart.as_str().to_string()),
                        children: Vec::new(),
                    },
                    ChildSpec::Supervisor(group) => Self::of(group),
                })
                .collect(),
        }
    }
}

/// One actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorStatus {
    /// Its name in the supervision reports (`order_manager`, `symbol:BTCUSDT`).
    pub name: String,
    /// `running`, `restarting`, `failed`, ...
    pub state: String,
    /// Seconds its current instance has run.
    pub uptime_s: u64,
    /// Restarts since the run started.
    pub restarts: u64,
    /// Abnormal exits (panics, errors, kills) since the run started.
    pub failures: u64,
    /// Messages waiting for it (none: not measured).
    pub mailbox: Option<usize>,
    /// Its last abnormal exit.
    pub last_error: Option<String>,
}

/// One circuit breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerStatus {
    /// The dependency it guards.
    pub name: String,
    /// `closed`, `open` or `half_open`.
    pub state: String,
    /// Its last transition.
    pub last_transition: Option<String>,
}

/// The feed's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedStatus {
    /// Candles sent into the pipeline.
    pub candles: u64,
    /// The close time of the last one (event time).
    pub last_close: Option<Timestamp>,
    /// Seconds between that close and the wall clock (a replay of history is far behind).
    pub lag_s: Option<i64>,
}

/// One supervision event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStatus {
    /// Wall-clock time it was recorded, in Unix milliseconds.
    pub at_ms: u64,
    /// The actor, supervisor or breaker concerned.
    pub actor: String,
    /// `started`, `panicked`, `restarted`, `escalated`, `breaker_opened`, ...
    pub event: String,
    /// Why.
    pub reason: String,
}

impl Status {
    /// Collects the status of `run` (uptime counted from `started`).
    pub(super) fn collect(run: &Attached, started: Instant) -> Self {
        let now = Instant::now();
        let report = run.health.report(now);
        let account = run.board.account();
        let not_ready = super::readiness::run_problems(run);
        Self {
            uptime_s: now.duration_since(started).as_secs(),
            ready: not_ready.is_empty(),
            not_ready,
            trading_stopped: run.board.trading_stopped(),
            tree: run.tree.clone(),
            actors: report
                .actors
                .iter()
                .map(|a| ActorStatus {
                    name: a.name.clone(),
                    state: a.state.as_str().to_string(),
                    uptime_s: a.uptime.as_secs(),
                    restarts: a.restarts_total,
                    failures: a.failures_total,
                    mailbox: a.mailbox_depth,
                    last_error: a.last_error.clone(),
                })
                .collect(),
            breakers: report
                .breakers
                .iter()
                .map(|b| BreakerStatus {
                    name: b.name.clone(),
                    state: b.state.as_str().to_string(),
                    last_transition: b.last_transition.clone(),
                })
                .collect(),
            drawdown_pct: account.drawdown_pct(),
            account,
            risk: run.board.risk(),
            feed: feed(run),
            events: run
                .health
                .recent_events()
                .into_iter()
                .map(|e| EventStatus {
                    at_ms: unix_ms(e.at),
                    actor: e.event.actor,
                    event: e.event.event.as_str().to_string(),
                    reason: e.event.reason,
                })
                .collect(),
            llm: run.board.decisions().map(|d| d.stats),
        }
    }
}

fn feed(run: &Attached) -> FeedStatus {
    let last_close = run.board.last_close();
    FeedStatus {
        candles: run.board.candles(),
        last_close,
        lag_s: last_close.map(|close| (unix_ms(SystemTime::now()) as i64 - close.0) / 1000),
    }
}

/// `at` in Unix milliseconds (0 before the epoch).
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
