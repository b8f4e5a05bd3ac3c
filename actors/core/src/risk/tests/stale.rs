//! The staleness guard: a bar caught up after downtime opens no position, for every
//! strategy; exits still go out; a backtest (no market clock) and `max_bar_age_minutes = 0`
//! never judge a bar stale.

use super::operator::{deciding, short, stage, view, EVERY_KIND};
use super::*;
use crate::strategy::{StrategyConfig, StrategyKind};

const MINUTE: i64 = 60_000;

fn newest(minutes_after_the_signal: i64) -> Conditions {
    Conditions {
        reduce_only: false,
        newest_close: Some(t0().plus_ms(minutes_after_the_signal * MINUTE)),
    }
}

#[test]
fn a_long_on_a_bar_older_than_the_limit_is_refused_for_every_strategy() {
    for kind in EVERY_KIND {
        let mut stage = stage(kind);
        let flat = view(vec![]);
        let at_the_limit = stage.on_decision(&deciding(btc()), || &flat, newest(60));
        assert!(
            at_the_limit.intent.is_some(),
            "{kind:?}: a bar 60 min behind the newest is within the default 60: {at_the_limit:?}"
        );

        let stale = stage.on_decision(&deciding(btc()), || &flat, newest(61));
        assert_eq!(stale.intent, None, "{kind:?}");
        let refusal = stale.refusal.expect("a refusal naming the rule");
        assert_eq!(refusal.rule, RiskRule::StaleBar);
        assert!(
            refusal.detail.contains("61 min") && refusal.detail.contains("60 min allowed"),
            "{}",
            refusal.detail
        );
        assert_eq!(stage.refusals()["stale_bar"], 1, "{kind:?}: counted");
    }
}

#[test]
fn an_exit_on_a_stale_bar_still_goes_out() {
    for kind in [StrategyKind::Fusion, StrategyKind::SmaCross] {
        let mut stage = stage(kind);
        let held = view(vec![position("BTCUSDT", dec!(1000))]);
        let exit = stage.on_decision(&deciding(short("BTCUSDT")), || &held, newest(24 * 60));
        assert!(
            matches!(exit.intent, Some(OrderIntent::Close { .. })),
            "{kind:?}: a closing signal a day late still closes: {exit:?}"
        );
    }
}

#[test]
fn without_a_market_clock_or_with_the_guard_off_no_bar_is_stale() {
    let flat = view(vec![]);
    let mut backtest = stage(StrategyKind::Fusion);
    assert!(backtest
        .on_decision(&deciding(btc()), || &flat, Conditions::default())
        .intent
        .is_some());

    let off = RiskConfig {
        max_bar_age_minutes: 0,
        ..RiskConfig::default()
    };
    let mut unguarded = RiskStage::new(&StrategyConfig::default(), &off, RiskState::default(), 2);
    assert!(unguarded
        .on_decision(&deciding(btc()), || &flat, newest(7 * 24 * 60))
        .intent
        .is_some());
}
