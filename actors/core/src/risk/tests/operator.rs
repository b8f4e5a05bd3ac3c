//! An operator's commands through the stage: a halt refuses entries for every strategy and
//! lets exits through; a flatten closes every position once, at the next mark; resume and the
//! kill-switch reset undo them; all of it survives a restart in the persistent state.

use super::*;
use crate::strategy::{Decision, StrategyConfig, StrategyKind};

/// Every strategy kind: the operator's switches and the staleness guard hold for each.
pub(super) const EVERY_KIND: [StrategyKind; 4] = [
    StrategyKind::Fusion,
    StrategyKind::SmaCross,
    StrategyKind::BuyAndHold,
    StrategyKind::Llm,
];

pub(super) fn stage(kind: StrategyKind) -> RiskStage {
    let strategy = StrategyConfig {
        kind,
        ..StrategyConfig::default()
    };
    RiskStage::new(&strategy, &RiskConfig::default(), RiskState::default(), 2)
}

pub(super) fn deciding(signal: TradingSignal) -> Decision {
    Decision {
        signal: Some(signal),
        ..Decision::default()
    }
}

pub(super) fn short(symbol: &str) -> TradingSignal {
    TradingSignal {
        direction: Direction::Short,
        ..long(symbol, dec!(100), 2.0)
    }
}

pub(super) fn view(positions: Vec<Position>) -> PortfolioView {
    PortfolioView {
        snapshot: account(positions),
        open_entries: vec![],
        cash_held: Decimal::ZERO,
        protection: Default::default(),
    }
}

#[test]
fn a_halt_refuses_every_strategys_entries_and_lets_exits_through_until_resumed() {
    for kind in EVERY_KIND {
        let mut stage = stage(kind);
        let flat = view(vec![]);
        assert!(
            stage
                .on_decision(&deciding(btc()), || &flat, Conditions::default())
                .intent
                .is_some(),
            "{kind:?} enters before the halt"
        );
        stage.operate(OperatorCommand::Halt);
        let refused = stage.on_decision(&deciding(btc()), || &flat, Conditions::default());
        assert_eq!(refused.intent, None, "{kind:?}");
        let refusal = refused.refusal.expect("a refusal naming the rule");
        assert_eq!(refusal.rule, RiskRule::Halted);
        assert!(
            refusal.detail.contains("keel ctl resume"),
            "{}",
            refusal.detail
        );
        assert_eq!(stage.refusals()["halted"], 1);

        let held = view(vec![position("BTCUSDT", dec!(1000))]);
        let exit = stage.on_decision(&deciding(short("BTCUSDT")), || &held, Conditions::default());
        assert!(
            matches!(exit.intent, Some(OrderIntent::Close { .. })),
            "{kind:?}: a closing signal passes a halt: {exit:?}"
        );

        stage.operate(OperatorCommand::Resume);
        assert!(stage
            .on_decision(&deciding(btc()), || &flat, Conditions::default())
            .intent
            .is_some());
    }
}

#[test]
fn a_flatten_closes_every_position_once_at_the_next_mark_and_stays_halted() {
    let mut stage = stage(StrategyKind::SmaCross);
    let held = account(vec![
        position("BTCUSDT", dec!(1000)),
        position("ETHUSDT", dec!(500)),
    ]);
    assert!(stage.on_mark(&held, t0()).flatten.is_empty());
    stage.operate(OperatorCommand::Flatten);
    assert!(stage.state().halted && stage.state().flatten_requested);
    let marked = stage.on_mark(&held, t0());
    assert_eq!(
        marked.flatten,
        vec![
            (sym("BTCUSDT"), ExitReason::Flatten),
            (sym("ETHUSDT"), ExitReason::Flatten)
        ]
    );
    assert!(!stage.state().flatten_requested, "taken once");
    assert!(stage.on_mark(&held, t0()).flatten.is_empty());
    assert!(stage.state().halted, "a flatten halts until resumed");
}

#[test]
fn switches_survive_a_restart_and_the_kill_switch_reset_clears_it() {
    let mut stage = stage(StrategyKind::Fusion);
    stage.operate(OperatorCommand::Flatten);
    let saved: RiskState =
        serde_json::from_str(&serde_json::to_string(stage.state()).unwrap()).unwrap();
    let mut restarted =
        RiskStage::new(&StrategyConfig::default(), &RiskConfig::default(), saved, 2);
    assert!(restarted.state().halted);
    let marked = restarted.on_mark(&account(vec![position("BTCUSDT", dec!(1000))]), t0());
    assert_eq!(marked.flatten, vec![(sym("BTCUSDT"), ExitReason::Flatten)]);

    let tripped = RiskState {
        kill_switch: Some(KillSwitch {
            tripped_at: t0(),
            drawdown_pct: dec!(21),
        }),
        ..RiskState::default()
    };
    let mut stage = RiskStage::new(
        &StrategyConfig::default(),
        &RiskConfig::default(),
        tripped,
        2,
    );
    stage.operate(OperatorCommand::ResetKillSwitch);
    assert_eq!(stage.state().kill_switch, None);
    let flat = view(vec![]);
    assert!(stage
        .on_decision(&deciding(btc()), || &flat, Conditions::default())
        .intent
        .is_some());
}
