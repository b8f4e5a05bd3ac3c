//! Readiness: whether this keel should be trading now, and if not, why.

use keel_supervision::BreakerState;

use super::plane::{Attached, Phase};

/// Why the run in `phase` is not ready (empty: ready).
pub(super) fn problems(phase: &Phase) -> Vec<String> {
    match phase {
        Phase::Starting => {
            vec!["starting: the journal is not yet reconciled with the venue".into()]
        }
        Phase::Running(run) => run_problems(run),
        Phase::Over => vec!["the run is over: draining or exiting".into()],
    }
}

/// Why a trading run is not ready.
pub(super) fn run_problems(run: &Attached) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(why) = run.board.trading_stopped() {
        problems.push(format!("trading stopped: {why}"));
    }
    if let Some(why) = run.board.journal_failure() {
        problems.push(format!(
            "the journal cannot be written ({why}): no order leaves until a write succeeds"
        ));
    }
    let risk = run.board.risk();
    if risk.halted {
        problems.push("halted by an operator (keel ctl resume lifts it)".into());
    }
    if let Some(kill) = &risk.kill_switch {
        problems.push(format!(
            "the drawdown kill switch tripped at {} ({}% drawdown; keel ctl reset-kill-switch)",
            kill.tripped_at, kill.drawdown_pct
        ));
    }
    let report = run.health.report(std::time::Instant::now());
    for breaker in report.breakers {
        if breaker.state == BreakerState::Open {
            problems.push(format!(
                "{} is unreachable: its breaker is open",
                breaker.name
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use keel_actors::board::{Board, RiskView};
    use keel_supervision::{HealthRegistry, SupervisionEvent, Transition};

    use super::*;

    fn running() -> (Phase, Board, HealthRegistry) {
        let (board, health) = (Board::new(), HealthRegistry::default());
        let run = Attached {
            tree: crate::control::status::TreeNode::of(&keel_actors::runtime::TreeSpec::flat(
                "root",
                keel_supervision::Strategy::OneForOne,
                &["risk"],
            )),
            health: health.clone(),
            board: board.clone(),
            desk: tokio::sync::mpsc::unbounded_channel().0,
        };
        (Phase::Running(Arc::new(run)), board, health)
    }

    #[test]
    fn ready_only_while_trading_reconciled_unhalted_and_reachable() {
        let starting = problems(&Phase::Starting);
        assert!(starting[0].contains("not yet reconciled"), "{starting:?}");
        assert!(!problems(&Phase::Over).is_empty());

        // Attached only once the journal is reconciled: ready.
        let (phase, board, health) = running();
        assert!(problems(&phase).is_empty(), "ready");

        board.publish_risk(RiskView {
            halted: true,
            ..RiskView::default()
        });
        assert!(problems(&phase)[0].contains("halted by an operator"));
        board.publish_risk(RiskView::default());

        let opened = Transition {
            from: BreakerState::Closed,
            to: BreakerState::Open,
            failure_rate: 1.0,
        };
        health.record(
            &SupervisionEvent::breaker("venue", &opened),
            std::time::Instant::now(),
        );
        assert_eq!(
            problems(&phase),
            ["venue is unreachable: its breaker is open"]
        );

        board.set_journal_failure(
            "the order manager",
            Some("flush: No space left on device".into()),
        );
        assert_eq!(
            problems(&phase)[0],
            "the journal cannot be written (the order manager: flush: No space left on device): \
             no order leaves until a write succeeds"
        );
        board.set_journal_failure("the order manager", None);
        assert_eq!(
            problems(&phase),
            ["venue is unreachable: its breaker is open"],
            "the journal is no problem once a restart reconciled it"
        );

        board.set_trading_stopped("risk failed 11 times");
        assert!(problems(&phase)
            .iter()
            .any(|p| p == "trading stopped: risk failed 11 times"));
    }
}
