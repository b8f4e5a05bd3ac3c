//! Readiness: whether this keel should be trading now, and if not, why.

use keel_supervision::BreakerState;

use super::plane::Attached;

/// Why the run is not ready (empty: ready). Before the run is attached (its journal not yet
/// reconciled) or after it is over, it is not ready either.
pub(super) fn problems(attached: Option<&Attached>) -> Vec<String> {
    let Some(run) = attached else {
        return vec!["the run is not trading: starting (reconciliation not done) or over".into()];
    };
    let mut problems = Vec::new();
    if !run.board.reconciled() {
        problems.push("reconciliation with the venue is not done".into());
    }
    if let Some(why) = run.board.trading_stopped() {
        problems.push(format!("trading stopped: {why}"));
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
