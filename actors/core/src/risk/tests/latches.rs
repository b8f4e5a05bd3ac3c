//! The rules that latch: the kill switch, reduce-only, the daily loss limit and the
//! cooldown after a stop-out, across days and restarts; and the exit that gets through them.

use super::*;

#[test]
fn kill_switch_trips_once_at_the_max_drawdown_and_refuses_new_longs() {
    // The daily limit is lifted so that this same-day fall exercises the kill switch alone.
    let mut engine = engine_with(RiskConfig {
        daily_loss_limit_pct: dec!(100),
        ..Default::default()
    });
    assert_eq!(engine.on_portfolio(&with_equity(dec!(10000), t0())), None);
    // 19.99% below the peak: still trading.
    assert_eq!(engine.on_portfolio(&with_equity(dec!(8001), t0())), None);
    let below = PortfolioSnapshot {
        equity: dec!(8001),
        cash: dec!(8001),
        ..account(vec![])
    };
    assert!(engine.evaluate(&btc(), &ctx(&below)).is_ok());
    // 20%: trips, once.
    assert_eq!(
        engine.on_portfolio(&with_equity(dec!(8000), t0())),
        Some(RiskAlert::KillSwitchTripped {
            drawdown_pct: dec!(20)
        })
    );
    assert_eq!(engine.on_portfolio(&with_equity(dec!(7900), t0())), None);
    // Recovering does not clear it.
    assert_eq!(engine.on_portfolio(&with_equity(dec!(10000), t0())), None);
    let refused = refusal(&mut engine, &btc(), &ctx(&account(vec![])));
    assert_eq!(refused.rule, RiskRule::KillSwitch);
    assert_eq!(
        refused.detail,
        "kill switch tripped at 2018-01-15T10:00:00Z by drawdown 20% >= 20%; needs an operator reset"
    );
    engine.reset_kill_switch();
    assert!(engine.evaluate(&btc(), &ctx(&account(vec![]))).is_ok());
}

#[test]
fn kill_switch_refuses_a_drawdown_not_yet_seen_by_on_portfolio() {
    let mut engine = engine();
    engine.on_portfolio(&with_equity(dec!(10000), t0()));
    let fallen = PortfolioSnapshot {
        equity: dec!(7500),
        cash: dec!(7500),
        ..account(vec![])
    };
    let refused = refusal(&mut engine, &btc(), &ctx(&fallen));
    assert_eq!(refused.rule, RiskRule::KillSwitch);
    assert_eq!(refused.detail, "drawdown 25% from peak 10000 >= 20%");
}

#[test]
fn kill_switch_survives_a_restart() {
    let mut engine = engine();
    engine.on_portfolio(&with_equity(dec!(10000), t0()));
    engine.on_portfolio(&with_equity(dec!(7500), t0()));
    let saved = serde_json::to_string(engine.state()).unwrap();

    let state: RiskState = serde_json::from_str(&saved).unwrap();
    let mut restarted = RiskEngine::new(RiskConfig::default(), state);
    // The restarted engine does not alert again, and still refuses.
    assert_eq!(
        restarted.on_portfolio(&with_equity(dec!(7600), t0().plus_ms(HOUR))),
        None
    );
    let refused = refusal(&mut restarted, &btc(), &ctx(&account(vec![])));
    assert_eq!(refused.rule, RiskRule::KillSwitch);
    assert!(refused.detail.contains("25%"), "{refused}");
}

#[test]
fn reduce_only_refuses_new_longs_while_the_breaker_is_open() {
    let portfolio = account(vec![]);
    let context = RiskContext {
        reduce_only: true,
        ..ctx(&portfolio)
    };
    let refused = refusal(&mut engine(), &btc(), &context);
    assert_eq!(refused.rule, RiskRule::ReduceOnly);
    assert!(refused.detail.contains("BTCUSDT"), "{refused}");
    assert!(engine().evaluate(&btc(), &ctx(&portfolio)).is_ok());
}

#[test]
fn daily_loss_limit_latches_for_the_day_and_resets_at_utc_midnight() {
    let mut engine = engine();
    let morning = Timestamp::parse_utc("2018-01-15T00:30:00Z").unwrap();
    assert_eq!(
        engine.on_portfolio(&with_equity(dec!(10000), morning)),
        None
    );
    // 2.99% down: still trading.
    let at = |equity| PortfolioSnapshot {
        equity,
        cash: equity,
        ..account(vec![])
    };
    assert_eq!(engine.on_portfolio(&with_equity(dec!(9701), t0())), None);
    assert!(engine.evaluate(&btc(), &ctx(&at(dec!(9701)))).is_ok());
    // 3%: the limit is hit, once.
    assert_eq!(
        engine.on_portfolio(&with_equity(dec!(9700), t0())),
        Some(RiskAlert::DailyLossLimitHit { loss_pct: dec!(3) })
    );
    assert_eq!(engine.on_portfolio(&with_equity(dec!(9650), t0())), None);
    let refused = refusal(&mut engine, &btc(), &ctx(&at(dec!(9700))));
    assert_eq!(refused.rule, RiskRule::DailyLossLimit);
    assert_eq!(
        refused.detail,
        "daily loss 3% of day-start equity 10000 reached the 3% limit today"
    );
    // Latched even if equity recovers, until the last millisecond of the day.
    let late = TradingSignal {
        ts: Timestamp::parse_utc("2018-01-16T00:00:00Z")
            .unwrap()
            .plus_ms(-1),
        ..btc()
    };
    let refused = refusal(&mut engine, &late, &ctx(&at(dec!(9900))));
    assert_eq!(refused.rule, RiskRule::DailyLossLimit);
    assert!(
        refused.detail.contains("latched until UTC midnight"),
        "{refused}"
    );
    // Midnight: a new day, measured from its first snapshot.
    let midnight = Timestamp::parse_utc("2018-01-16T00:00:00Z").unwrap();
    let next_day = TradingSignal {
        ts: midnight,
        ..btc()
    };
    assert!(engine.evaluate(&next_day, &ctx(&at(dec!(9600)))).is_ok());
    assert_eq!(
        engine.on_portfolio(&with_equity(dec!(9600), midnight)),
        None
    );
    assert_eq!(engine.state().day, Some(midnight.utc_day()));
    assert_eq!(engine.state().day_start_equity, dec!(9600));
    assert!(!engine.state().daily_limit_hit);
    // The new day's limit is 3% of 9,600 = 288.
    assert_eq!(
        engine.on_portfolio(&with_equity(dec!(9312), midnight.plus_ms(HOUR))),
        Some(RiskAlert::DailyLossLimitHit { loss_pct: dec!(3) })
    );
    assert_eq!(
        midnight.plus_ms(MS_PER_DAY).utc_day(),
        midnight.utc_day() + 1
    );
}

#[test]
fn cooldown_after_a_stop_out_ends_exactly_at_the_configured_time() {
    let mut engine = engine();
    let portfolio = account(vec![]);
    engine.on_trade_closed(&stop_out("BTCUSDT", t0(), ExitReason::StopLoss));
    let end = t0().plus_ms(24 * HOUR);
    let just_before = TradingSignal {
        ts: end.plus_ms(-60_000),
        ..btc()
    };
    let refused = refusal(&mut engine, &just_before, &ctx(&portfolio));
    assert_eq!(refused.rule, RiskRule::Cooldown);
    assert_eq!(
        refused.detail,
        "BTCUSDT is cooling down after a stop-out until 2018-01-16T10:00:00Z (0h01m left of 24h)"
    );
    // Other symbols are not affected.
    assert!(engine
        .evaluate(&long("ETHUSDT", dec!(100), 2.0), &ctx(&portfolio))
        .is_ok());
    let at_end = TradingSignal { ts: end, ..btc() };
    assert!(engine.evaluate(&at_end, &ctx(&portfolio)).is_ok());
    assert!(engine.state().cooldown_until.is_empty());
}

#[test]
fn only_stop_outs_start_a_cooldown() {
    let mut engine = engine();
    engine.on_trade_closed(&stop_out("BTCUSDT", t0(), ExitReason::TakeProfit));
    engine.on_trade_closed(&stop_out("BTCUSDT", t0(), ExitReason::Signal));
    assert!(engine.state().cooldown_until.is_empty());
    let later = TradingSignal {
        ts: t0().plus_ms(HOUR),
        ..btc()
    };
    assert!(engine.evaluate(&later, &ctx(&account(vec![]))).is_ok());
}

#[test]
fn short_closes_an_open_long_even_with_the_kill_switch_tripped_and_reduce_only() {
    let mut engine = engine();
    engine.on_portfolio(&with_equity(dec!(10000), t0()));
    assert!(engine
        .on_portfolio(&with_equity(dec!(7000), t0()))
        .is_some());
    assert!(engine.state().kill_switch.is_some());
    let portfolio = account(vec![position("BTCUSDT", dec!(1000))]);
    let short = TradingSignal {
        direction: Direction::Short,
        confidence: 0.1,
        ..btc()
    };
    let context = RiskContext {
        portfolio: &portfolio,
        reduce_only: true,
        unresolved_order: true,
    };
    assert_eq!(
        engine.evaluate(&short, &context).unwrap(),
        OrderIntent::Close {
            symbol: sym("BTCUSDT"),
            reason: ExitReason::Signal,
            ts: t0()
        }
    );
}
