//! Failpoints: named places in the middle of real work (the `fail` crate, the way TiKV uses
//! it) where `keel chaos --failpoints` makes the handler panic halfway through, after it has
//! changed something and before it has finished. The supervisor must then leave no trace of
//! the half-done work: the actor is rebuilt from its checkpoint and the message delivered
//! again, and the run's outcome is the calm run's.
//!
//! The points are compiled in only with the cargo feature `failpoints` (a plain build
//! carries none: [`compiled_in`]). An armed point fires with a fixed probability, only inside
//! a supervised handler, and never on a redelivery of the message whose first delivery it
//! struck, so every message is eventually handled. Its panic carries [`InjectedFault`]: the
//! supervisor counts it as an injected fault, against neither the restart intensity nor the
//! poison rule. The point inside a model request is the exception: see [`asks_a_model`].

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Every failpoint, with the moment it strikes.
pub const FAILPOINTS: &[(&str, &str)] = &[
    (
        "symbol.after_update",
        "a symbol actor has updated its indicators and regime, before it tells fusion",
    ),
    (
        "risk.after_decision",
        "risk has decided and counted the decision, before it tells the order manager",
    ),
    (
        "order_manager.after_state_change",
        "the order manager has applied an approval to its orders, before it journals them",
    ),
    (
        "order_manager.after_journal_write",
        "the orders are journalled, before the call to the venue",
    ),
    (
        "venue.after_accept",
        "the venue has accepted the commands, before its journal records them",
    ),
    (
        "venue.between_oco_legs",
        "between the two legs of an OCO: one placed or filled, the other not yet placed or cancelled",
    ),
    (
        "journal.inside_write",
        "inside the sled write: the batch is applied, not yet flushed",
    ),
    (
        keel_news::llm::INSIDE_REQUEST,
        "inside a model request: the provider has answered, the connection drops before the \
         reply is read (a request's first attempt; the client's retry asks again)",
    ),
];

/// Whether `point` is on the way to a model: it strikes only in a run whose analyst asks one.
/// It fails the request it strikes instead of panicking: the request runs in a task of its
/// own, outside every handler, and its failure is the client's to retry.
pub fn asks_a_model(point: &str) -> bool {
    point == keel_news::llm::INSIDE_REQUEST
}

/// Whether this build carries the failpoints (the cargo feature `failpoints`).
pub const fn compiled_in() -> bool {
    fail::has_failpoints()
}

/// The payload of a failpoint's panic: which point fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectedFault(pub &'static str);

impl std::fmt::Display for InjectedFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failpoint {} fired", self.0)
    }
}

/// Where the code running on this thread stands, for the armed points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Outside every supervised handler: a fault here would escape, so none fires.
    Outside,
    /// The first delivery of a message.
    FirstDelivery,
    /// A message delivered again after a failure.
    Redelivery,
}

thread_local! {
    static SCOPE: Cell<Scope> = const { Cell::new(Scope::Outside) };
}

/// Restores the outer scope, also when the handler unwinds.
struct ScopeGuard(Scope);

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPE.with(|s| s.set(self.0));
    }
}

/// Runs a supervised handler's body: armed points may strike it unless `redelivery`.
#[inline(always)]
pub(super) fn inside_handler<R>(redelivery: bool, body: impl FnOnce() -> R) -> R {
    if !compiled_in() {
        return body();
    }
    let scope = if redelivery {
        Scope::Redelivery
    } else {
        Scope::FirstDelivery
    };
    let _outer = ScopeGuard(SCOPE.with(|s| s.replace(scope)));
    body()
}

/// The failpoint a panic payload says fired, if it is one.
pub(super) fn injected(payload: &(dyn std::any::Any + Send)) -> Option<InjectedFault> {
    payload.downcast_ref::<InjectedFault>().copied()
}

/// Failpoints chosen by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailpointSelection(pub Vec<&'static str>);

/// What a build without failpoints answers when asked for one.
pub const NOT_COMPILED_IN: &str = "this keel was built without failpoints: build it with \
    `--features failpoints` (cargo run --release --features failpoints -- chaos ...)";

/// Parses `all` or a comma-separated list of failpoint names (`keel chaos --failpoints`). An
/// unknown name is an error that lists the known ones; so is a build without failpoints.
pub fn parse_failpoints(spec: &str) -> Result<FailpointSelection, String> {
    if !compiled_in() {
        return Err(NOT_COMPILED_IN.into());
    }
    let known = || {
        FAILPOINTS
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if spec.trim() == "all" {
        return Ok(FailpointSelection(
            FAILPOINTS.iter().map(|(name, _)| *name).collect(),
        ));
    }
    let mut points = Vec::new();
    for wanted in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((name, _)) = FAILPOINTS.iter().find(|(name, _)| *name == wanted) else {
            return Err(format!(
                "unknown failpoint {wanted:?}: expected `all` or some of {}",
                known()
            ));
        };
        if !points.contains(name) {
            points.push(*name);
        }
    }
    if points.is_empty() {
        return Err(format!(
            "no failpoint named: expected `all` or some of {}",
            known()
        ));
    }
    Ok(FailpointSelection(points))
}

/// Makes every journal write report failure from now on, as a full disk or a failed fsync
/// would (`true`), or lifts that (`false`): `keel chaos`'s disk faults, through the
/// `return` action of `journal.inside_write`. Not with that point armed by
/// [`ArmedFailpoints`] (one registry).
pub fn fail_journal_writes(failing: bool) -> Result<(), String> {
    if !compiled_in() {
        return Err(NOT_COMPILED_IN.into());
    }
    if failing {
        fail::cfg("journal.inside_write", "return")
    } else {
        fail::remove("journal.inside_write");
        Ok(())
    }
}

/// Parses a failpoint's firing probability, in [0, 1].
pub fn parse_probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a probability within [0, 1]")),
    }
}

/// Which points to arm, and how often they fire.
#[derive(Debug, Clone, PartialEq)]
pub struct FailpointPlan {
    /// The points, by name.
    pub points: Vec<&'static str>,
    /// The chance that an armed point fires each time a first delivery passes it, in [0, 1].
    pub probability: f64,
    /// Seed of the draws.
    pub seed: u64,
}

/// Armed failpoints; dropping this disarms them. At most one set is armed at a time in a
/// process (the `fail` crate's registry is global).
pub struct ArmedFailpoints {
    plan: FailpointPlan,
    fired: Arc<Vec<AtomicU64>>,
}

impl ArmedFailpoints {
    /// Arms the points of `plan` (a build without failpoints has none to arm: see
    /// [`parse_failpoints`]).
    pub fn arm(plan: FailpointPlan) -> Result<Self, String> {
        let fired: Arc<Vec<AtomicU64>> =
            Arc::new(plan.points.iter().map(|_| AtomicU64::new(0)).collect());
        let dice = Arc::new(Mutex::new(fastrand::Rng::with_seed(plan.seed)));
        for (index, &point) in plan.points.iter().enumerate() {
            let fired = fired.clone();
            let dice = dice.clone();
            let probability = plan.probability;
            let in_model_request = asks_a_model(point);
            fail::cfg_callback(point, move || {
                // The model request's point passes its first attempts only (see
                // `asks_a_model`); every other point, first deliveries inside handlers.
                if !in_model_request && SCOPE.with(Cell::get) != Scope::FirstDelivery {
                    return;
                }
                // A poisoned lock only means a draw panicked, which it cannot: draw anyway.
                let draw = dice.lock().unwrap_or_else(|e| e.into_inner()).f64();
                if draw < probability {
                    fired[index].fetch_add(1, Ordering::Relaxed);
                    if in_model_request {
                        keel_news::llm::strike_inside_request();
                    } else {
                        std::panic::panic_any(InjectedFault(point));
                    }
                }
            })?;
        }
        Ok(Self { plan, fired })
    }

    /// The plan these points were armed with.
    pub fn plan(&self) -> &FailpointPlan {
        &self.plan
    }

    /// How often each point fired so far, in the plan's order.
    pub fn fired(&self) -> Vec<(&'static str, u64)> {
        self.plan
            .points
            .iter()
            .zip(self.fired.iter())
            .map(|(point, n)| (*point, n.load(Ordering::Relaxed)))
            .collect()
    }
}

impl Drop for ArmedFailpoints {
    fn drop(&mut self) {
        for point in &self.plan.points {
            fail::remove(point);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "failpoints")]
    #[test]
    fn a_selection_names_known_points_or_all() {
        let all = parse_failpoints("all").unwrap();
        assert_eq!(all.0.len(), FAILPOINTS.len());
        let two = parse_failpoints("risk.after_decision, journal.inside_write").unwrap();
        assert_eq!(two.0, ["risk.after_decision", "journal.inside_write"]);
        let err = parse_failpoints("risk.after_decision,nope").unwrap_err();
        assert!(err.contains("unknown failpoint \"nope\""), "{err}");
        assert!(err.contains("venue.between_oco_legs"), "{err}");
    }

    #[cfg(not(feature = "failpoints"))]
    #[test]
    fn without_the_feature_a_selection_is_refused_with_how_to_build() {
        let err = parse_failpoints("all").unwrap_err();
        assert!(err.contains("--features failpoints"), "{err}");
    }

    #[test]
    fn a_probability_is_within_zero_and_one() {
        assert_eq!(parse_probability("0.25"), Ok(0.25));
        for bad in ["1.5", "-0.1", "NaN", "often"] {
            let err = parse_probability(bad).unwrap_err();
            assert!(err.contains("not a probability"), "{bad}: {err}");
        }
    }

    /// Counts what it handles; only `durable` survives a restart.
    #[cfg(feature = "failpoints")]
    struct HalfwayCounter {
        handle: super::super::ActorHandle,
        handled: u32,
        durable: u32,
    }

    #[cfg(feature = "failpoints")]
    impl super::super::Rehydrate for HalfwayCounter {
        fn supervision(&self) -> &super::super::ActorHandle {
            &self.handle
        }

        fn rehydrate(&mut self) -> Result<(), super::super::RehydrateError> {
            self.handled = self.durable;
            Ok(())
        }
    }

    #[cfg(feature = "failpoints")]
    #[test]
    fn a_failpoint_strikes_first_deliveries_only_and_counts_against_no_intensity() {
        use super::super::{contain, Supervision, TreeSpec};
        use keel_supervision::{HealthRegistry, Strategy, SupervisorConfig};

        let mut config = SupervisorConfig::default();
        // A single real failure would escalate; the injected ones must not.
        config.intensity.max_restarts = 0;
        config.backoff.base_ms = 0;
        config.backoff.cap_ms = 0;
        let supervision = Supervision::new(
            &config,
            &TreeSpec::flat("root", Strategy::OneForOne, &["counter"]),
            HealthRegistry::new(config.intensity.window()),
            std::rc::Rc::new(std::cell::Cell::new(false)),
            1,
        );
        let mut counter = HalfwayCounter {
            handle: supervision.register("counter"),
            handled: 0,
            durable: 0,
        };
        // Fires every time it may: only a redelivery gets past it.
        let armed = ArmedFailpoints::arm(FailpointPlan {
            points: vec!["test.halfway"],
            probability: 1.0,
            seed: 1,
        })
        .unwrap();
        for message in 0..5u32 {
            let done = contain(&mut counter, &message, |c| {
                c.handled += 1;
                fail::fail_point!("test.halfway");
                c.durable = c.handled;
            });
            assert_eq!(done, Some(()), "message {message} handled");
        }
        assert_eq!(counter.handled, 5, "each message applied once, none half");
        assert_eq!(armed.fired(), [("test.halfway", 5)]);
        let stats = supervision.stats();
        assert_eq!(stats.failpoints.get("test.halfway"), Some(&5));
        assert_eq!(stats.real_failures, 0);
        assert!(stats.dead_letters.is_empty());
        assert_eq!(supervision.escalated(), None);
        drop(armed);
        // Disarmed: nothing fires any more.
        contain(&mut counter, &5u32, |_| fail::fail_point!("test.halfway"));
        assert_eq!(supervision.stats().failpoints.get("test.halfway"), Some(&5));
    }
}
