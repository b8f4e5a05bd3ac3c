//! Supervisor semantics under a controlled clock: each strategy, each restart type,
//! intensity exceeded → escalation, backoff growth, nested escalation up to the root.

use super::*;

const MS: Duration = Duration::from_millis(1);

fn config(strategy: Strategy, max_restarts: u32) -> SupervisorConfig {
    SupervisorConfig {
        strategy,
        intensity: IntensityConfig {
            max_restarts,
            window_ms: 60_000,
        },
        backoff: BackoffConfig {
            base_ms: 10,
            cap_ms: 1_000,
            jitter: 0.0,
            ..BackoffConfig::default()
        },
    }
}

/// A trading-chain-like supervisor: four permanent children in start order.
fn chain(strategy: Strategy) -> (SupervisorCore, Vec<ChildId>) {
    let mut sup = SupervisorCore::new("trading", config(strategy, 10), Jitter::seeded(1));
    let ids = ["symbols", "fusion", "risk", "orders"]
        .into_iter()
        .map(|name| sup.add_child(name, RestartType::Permanent).unwrap())
        .collect();
    (sup, ids)
}

fn panic() -> ExitReason {
    ExitReason::Panic("boom".into())
}

fn restarted(action: &SupervisorAction) -> Vec<ChildId> {
    match action {
        SupervisorAction::Restart { children, .. } => children.iter().map(|(id, _)| *id).collect(),
        other => panic!("expected a restart, got {other:?}"),
    }
}

#[test]
fn one_for_one_restarts_only_the_failed_child_immediately() {
    let (mut sup, ids) = chain(Strategy::OneForOne);
    let action = sup.on_exit(ids[2], &panic(), Instant::now());
    assert_eq!(
        action,
        SupervisorAction::Restart {
            children: vec![(ids[2], Duration::ZERO)],
            removed: vec![],
            restarts_in_window: 1,
        }
    );
}

#[test]
fn rest_for_one_restarts_the_failed_child_and_later_ones_in_start_order() {
    let (mut sup, ids) = chain(Strategy::RestForOne);
    let action = sup.on_exit(ids[1], &panic(), Instant::now());
    assert_eq!(restarted(&action), ids[1..]);
}

#[test]
fn one_for_all_restarts_every_child() {
    let (mut sup, ids) = chain(Strategy::OneForAll);
    let action = sup.on_exit(ids[3], &ExitReason::Killed, Instant::now());
    assert_eq!(restarted(&action), ids);
}

#[test]
fn transient_children_restart_after_failures_but_not_after_a_normal_stop() {
    let mut sup = SupervisorCore::new("s", config(Strategy::OneForOne, 10), Jitter::seeded(1));
    let feed = sup.add_child("feed", RestartType::Transient).unwrap();
    let now = Instant::now();
    assert_eq!(
        sup.on_exit(feed, &ExitReason::Normal, now),
        SupervisorAction::Ignore
    );
    assert_eq!(
        sup.on_exit(feed, &ExitReason::Shutdown, now),
        SupervisorAction::Ignore
    );
    assert_eq!(
        restarted(&sup.on_exit(feed, &ExitReason::Error("io".into()), now)),
        [feed]
    );
    assert_eq!(
        restarted(&sup.on_exit(feed, &ExitReason::Killed, now)),
        [feed]
    );
    assert!(
        sup.child(feed).is_some(),
        "a transient child stays registered"
    );
}

#[test]
fn permanent_children_restart_even_after_a_normal_stop() {
    let (mut sup, ids) = chain(Strategy::OneForOne);
    assert_eq!(
        restarted(&sup.on_exit(ids[0], &ExitReason::Normal, Instant::now())),
        [ids[0]]
    );
}

#[test]
fn temporary_children_are_never_restarted_and_are_forgotten() {
    let mut sup = SupervisorCore::new("s", config(Strategy::OneForOne, 10), Jitter::seeded(1));
    let job = sup.add_child("backfill", RestartType::Temporary).unwrap();
    assert_eq!(
        sup.on_exit(job, &panic(), Instant::now()),
        SupervisorAction::Ignore
    );
    assert!(sup.child(job).is_none());
    assert_eq!(
        sup.restarts_in_window(Instant::now()),
        0,
        "no restart was spent"
    );
}

#[test]
fn temporary_siblings_caught_in_a_group_restart_are_stopped_not_restarted() {
    let mut sup = SupervisorCore::new("s", config(Strategy::RestForOne, 10), Jitter::seeded(1));
    let a = sup.add_child("a", RestartType::Permanent).unwrap();
    let probe = sup.add_child("probe", RestartType::Temporary).unwrap();
    let c = sup.add_child("c", RestartType::Transient).unwrap();
    let action = sup.on_exit(a, &panic(), Instant::now());
    assert_eq!(
        action,
        SupervisorAction::Restart {
            children: vec![(a, Duration::ZERO), (c, Duration::ZERO)],
            removed: vec![probe],
            restarts_in_window: 1,
        }
    );
    let names: Vec<&str> = sup.children().map(|child| child.name).collect();
    assert_eq!(names, ["a", "c"]);
}

#[test]
fn repeated_failures_of_one_child_back_off_exponentially() {
    let (mut sup, ids) = chain(Strategy::RestForOne);
    let t0 = Instant::now();
    let mut delays = Vec::new();
    for n in 0..5 {
        match sup.on_exit(ids[2], &panic(), t0 + MS * n) {
            SupervisorAction::Restart { children, .. } => {
                assert!(children.iter().all(|(_, d)| *d == children[0].1));
                delays.push(children[0].1.as_millis());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(delays, [0, 10, 20, 40, 80]);
    // Another child's first failure is not delayed by its sibling's history.
    match sup.on_exit(ids[0], &panic(), t0 + MS * 6) {
        SupervisorAction::Restart { children, .. } => assert_eq!(children[0].1, Duration::ZERO),
        other => panic!("{other:?}"),
    }
}

#[test]
fn exceeding_the_intensity_escalates_and_later_exits_are_ignored() {
    let mut sup = SupervisorCore::new("trading", config(Strategy::OneForOne, 3), Jitter::seeded(1));
    let risk = sup.add_child("risk", RestartType::Permanent).unwrap();
    let t0 = Instant::now();
    for n in 1..=3 {
        let action = sup.on_exit(risk, &panic(), t0 + MS * n);
        assert!(
            matches!(action, SupervisorAction::Restart { restarts_in_window, .. } if restarts_in_window == n)
        );
    }
    let action = sup.on_exit(risk, &panic(), t0 + MS * 10);
    assert_eq!(
        action,
        SupervisorAction::Escalate {
            reason: "supervisor `trading` gave up: 4 restarts in 60000 ms exceed max_restarts 3; \
                     last failure: child `risk` panic: boom"
                .into()
        }
    );
    assert!(sup.is_stopping());
    assert_eq!(
        sup.on_exit(risk, &ExitReason::Shutdown, t0),
        SupervisorAction::Ignore
    );
}

#[test]
fn deliberate_kills_restart_the_strategys_children_at_once_and_never_use_up_the_intensity() {
    let (mut sup, ids) = chain(Strategy::RestForOne);
    let t0 = Instant::now();
    // Far more kills than max_restarts allows failures (see `chain`).
    for n in 1..=50 {
        match sup.on_deliberate_exit(ids[1], t0 + MS * n) {
            SupervisorAction::Restart {
                children,
                restarts_in_window,
                ..
            } => {
                let expected: Vec<_> = ids[1..].iter().map(|id| (*id, Duration::ZERO)).collect();
                assert_eq!(children, expected);
                assert_eq!(restarts_in_window, 0);
            }
            other => panic!("kill {n}: {other:?}"),
        }
    }
    // A real failure afterwards is the first that counts, and restarts immediately.
    match sup.on_exit(ids[1], &panic(), t0 + MS * 60) {
        SupervisorAction::Restart {
            children,
            restarts_in_window,
            ..
        } => {
            assert_eq!(restarts_in_window, 1);
            assert_eq!(children[0].1, Duration::ZERO);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn failures_spread_beyond_the_window_never_escalate() {
    let mut sup = SupervisorCore::new("s", config(Strategy::OneForOne, 2), Jitter::seeded(1));
    let child = sup.add_child("c", RestartType::Permanent).unwrap();
    let t0 = Instant::now();
    for minute in 0..10u32 {
        let now = t0 + Duration::from_secs(31) * minute;
        assert!(matches!(
            sup.on_exit(child, &panic(), now),
            SupervisorAction::Restart { .. }
        ));
    }
}

#[test]
fn a_shutting_down_supervisor_does_not_restart_its_children() {
    let (mut sup, ids) = chain(Strategy::OneForAll);
    sup.begin_shutdown();
    for id in ids.iter().rev() {
        assert_eq!(
            sup.on_exit(*id, &ExitReason::Shutdown, Instant::now()),
            SupervisorAction::Ignore
        );
    }
}

#[test]
fn unknown_children_and_duplicate_names_are_handled_without_panicking() {
    let (mut sup, ids) = chain(Strategy::OneForOne);
    assert!(sup.remove_child(ids[3]));
    assert!(!sup.remove_child(ids[3]));
    assert_eq!(
        sup.on_exit(ids[3], &panic(), Instant::now()),
        SupervisorAction::Ignore
    );
    let err = sup.add_child("risk", RestartType::Permanent).unwrap_err();
    assert_eq!(
        err.to_string(),
        "supervisor `trading` already has a child named `risk`"
    );
    let fresh = sup.add_child("orders", RestartType::Permanent).unwrap();
    assert_ne!(fresh, ids[3], "ids are never reused");
    assert_eq!(sup.child_id("orders"), Some(fresh));
}

#[test]
fn escalation_climbs_the_tree_and_the_root_gives_up_with_exit_code_70() {
    let now = Instant::now();
    let mut root = SupervisorCore::new("root", config(Strategy::OneForOne, 1), Jitter::seeded(1));
    let trading_id = root.add_child("trading", RestartType::Permanent).unwrap();
    let mut trading = SupervisorCore::new(
        "trading",
        config(Strategy::RestForOne, 1),
        Jitter::seeded(2),
    );
    let risk = trading.add_child("risk", RestartType::Permanent).unwrap();

    // The child supervisor escalates on its second failure within the window...
    assert!(matches!(
        trading.on_exit(risk, &panic(), now),
        SupervisorAction::Restart { .. }
    ));
    let escalation = trading.on_exit(risk, &panic(), now);
    let exit = escalation.escalation_exit().expect("trading escalates");
    assert_eq!(exit.kind(), "escalated");
    // ...which its parent treats as that child's abnormal exit and restarts it.
    assert_eq!(
        restarted(&root.on_exit(trading_id, &exit, now)),
        [trading_id]
    );
    trading.reset();
    assert!(!trading.is_stopping());

    // Same again: now the root is past its own limit and escalates too.
    assert!(matches!(
        trading.on_exit(risk, &panic(), now),
        SupervisorAction::Restart { .. }
    ));
    let exit = trading
        .on_exit(risk, &panic(), now)
        .escalation_exit()
        .unwrap();
    let root_action = root.on_exit(trading_id, &exit, now);
    let SupervisorAction::Escalate { reason } = &root_action else {
        panic!("root should escalate, got {root_action:?}");
    };
    assert!(reason.starts_with("supervisor `root` gave up"), "{reason}");
    assert!(
        reason.contains("child `trading` escalated: supervisor `trading` gave up"),
        "{reason}"
    );
    assert_eq!(ROOT_ESCALATION_EXIT_CODE, 70);
}

#[test]
fn config_validation_names_the_nested_key() {
    let mut bad = SupervisorConfig::default();
    bad.backoff.factor = 0.5;
    let err = bad.validate("supervision.trading").unwrap_err();
    assert_eq!(err.key, "supervision.trading.backoff.factor");
    bad = SupervisorConfig::default();
    bad.intensity.window_ms = 0;
    assert_eq!(
        bad.validate("root").unwrap_err().key,
        "root.intensity.window_ms"
    );
    assert!(SupervisorConfig::default().validate("root").is_ok());
}

#[test]
fn config_reads_partial_sections_with_defaults_and_rejects_unknown_keys() {
    let parsed: SupervisorConfig =
        serde_json::from_str(r#"{"strategy": "rest_for_one", "intensity": {"max_restarts": 3}}"#)
            .unwrap();
    assert_eq!(parsed.strategy, Strategy::RestForOne);
    assert_eq!(parsed.intensity.max_restarts, 3);
    assert_eq!(parsed.intensity.window_ms, 60_000);
    assert_eq!(parsed.backoff, BackoffConfig::default());
    let err = serde_json::from_str::<SupervisorConfig>(r#"{"intensity": {"max_restart": 3}}"#)
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown field `max_restart`"),
        "{err}"
    );
}
