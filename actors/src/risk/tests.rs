//! Engine tests: one per rule (refusal with its numbers, and the boundary that passes),
//! sizing by hand, and the state that must survive days and restarts.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::model::{
    ClosedTrade, Direction, ExitReason, OrderIntent, PortfolioSnapshot, Position, Symbol,
    TakeProfit, Timestamp, TradingSignal, MS_PER_DAY,
};

const HOUR: i64 = 3_600_000;

fn t0() -> Timestamp {
    Timestamp::parse_utc("2018-01-15T10:00:00Z").unwrap()
}

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn long(symbol: &str, price: Decimal, atr: f64) -> TradingSignal {
    TradingSignal {
        symbol: sym(symbol),
        direction: Direction::Long,
        confidence: 0.7,
        technical_score: 0.7,
        sentiment_score: 0.0,
        event_impact: 0.0,
        ts: t0(),
        price,
        atr,
    }
}

fn btc() -> TradingSignal {
    long("BTCUSDT", dec!(100), 2.0)
}

fn position(symbol: &str, value: Decimal) -> Position {
    Position {
        symbol: sym(symbol),
        qty: value / dec!(100),
        avg_entry: dec!(100),
        last_price: dec!(100),
        opened_at: t0(),
    }
}

/// Equity 10,000; cash is equity minus what the positions are worth.
fn account(positions: Vec<Position>) -> PortfolioSnapshot {
    let held: Decimal = positions.iter().map(Position::market_value).sum();
    PortfolioSnapshot {
        ts: t0(),
        cash: dec!(10000) - held,
        equity: dec!(10000),
        positions,
    }
}

fn with_equity(equity: Decimal, ts: Timestamp) -> PortfolioSnapshot {
    PortfolioSnapshot {
        ts,
        cash: equity,
        equity,
        positions: vec![],
    }
}

fn engine_with(cfg: RiskConfig) -> RiskEngine {
    cfg.validate("risk").unwrap();
    RiskEngine::new(cfg, RiskState::default())
}

fn engine() -> RiskEngine {
    engine_with(RiskConfig::default())
}

fn ctx(portfolio: &PortfolioSnapshot) -> RiskContext<'_> {
    RiskContext {
        portfolio,
        reduce_only: false,
        unresolved_order: false,
    }
}

fn refusal(engine: &mut RiskEngine, signal: &TradingSignal, ctx: &RiskContext<'_>) -> Refusal {
    match engine.evaluate(signal, ctx) {
        Ok(intent) => panic!("expected a refusal, got {intent:?}"),
        Err(refusal) => refusal,
    }
}

fn open_qty(engine: &mut RiskEngine, signal: &TradingSignal, ctx: &RiskContext<'_>) -> Decimal {
    match engine.evaluate(signal, ctx) {
        Ok(OrderIntent::Open { qty, .. }) => qty,
        other => panic!("expected an entry, got {other:?}"),
    }
}

fn stop_out(symbol: &str, exit_time: Timestamp, reason: ExitReason) -> ClosedTrade {
    ClosedTrade {
        symbol: sym(symbol),
        entry_time: exit_time.plus_ms(-HOUR),
        exit_time,
        qty: dec!(1),
        entry_price: dec!(100),
        exit_price: dec!(96),
        pnl: dec!(-4),
        fees: dec!(0.2),
        exit_reason: reason,
    }
}

#[test]
fn sizing_by_hand_with_stop_and_take_profits() {
    let portfolio = account(vec![]);
    let mut engine = engine();
    let intent = engine.evaluate(&btc(), &ctx(&portfolio)).unwrap();
    // 1% of 10,000 = 100 at risk; stop 100 − 2×2 = 96, distance 4 → 25; the 25% asset cap
    // (2,500 / 100) allows exactly 25 too.
    let tp = |price, fraction| TakeProfit { price, fraction };
    assert_eq!(
        intent,
        OrderIntent::Open {
            symbol: sym("BTCUSDT"),
            qty: dec!(25),
            stop: Some(dec!(96)),
            take_profits: vec![tp(dec!(106), dec!(0.5)), tp(dec!(112), dec!(0.5))],
            ts: t0(),
        }
    );
    assert_eq!(engine.last_size_limit(), Some(SizeLimit::Risk));
}

#[test]
fn each_cap_cuts_the_size_on_its_own() {
    // Asset: 2% risk wants 50, the asset cap allows 2,500 / 100 = 25.
    let mut asset = engine_with(RiskConfig {
        max_risk_per_trade_pct: dec!(2),
        ..Default::default()
    });
    assert_eq!(
        open_qty(&mut asset, &btc(), &ctx(&account(vec![]))),
        dec!(25)
    );
    assert_eq!(asset.last_size_limit(), Some(SizeLimit::AssetExposure));

    // Sector: 4,000 of ETH leaves 1,000 of the 50% smart_contract sector for SOL → 10.
    let mut sector = engine();
    let eth = account(vec![position("ETHUSDT", dec!(4000))]);
    assert_eq!(
        open_qty(&mut sector, &long("SOLUSDT", dec!(100), 2.0), &ctx(&eth)),
        dec!(10)
    );
    assert_eq!(sector.last_size_limit(), Some(SizeLimit::SectorExposure));

    // Total: with a 60% cap, 5,000 held in three other sectors leaves 1,000 → 10.
    let mut total = engine_with(RiskConfig {
        max_total_exposure_pct: dec!(60),
        ..Default::default()
    });
    let spread = account(vec![
        position("BTCUSDT", dec!(2000)),
        position("XRPUSDT", dec!(2000)),
        position("DOGEUSDT", dec!(1000)),
    ]);
    assert_eq!(
        open_qty(&mut total, &long("ETHUSDT", dec!(100), 2.0), &ctx(&spread)),
        dec!(10)
    );
    assert_eq!(total.last_size_limit(), Some(SizeLimit::TotalExposure));

    // Cash: spot cannot spend more than the 500 it holds → 5.
    let mut cash = engine();
    let poor = PortfolioSnapshot {
        cash: dec!(500),
        ..account(vec![])
    };
    assert_eq!(open_qty(&mut cash, &btc(), &ctx(&poor)), dec!(5));
    assert_eq!(cash.last_size_limit(), Some(SizeLimit::Cash));
}

#[test]
fn quantities_round_down_to_the_step_and_prices_to_the_price_scale() {
    // Risk: 100 / (2 × 750) = 0.0666… → 0.06666 (step 0.00001).
    let mut engine = engine();
    let portfolio = account(vec![]);
    let signal = long("BTCUSDT", dec!(30000), 750.0);
    assert_eq!(
        open_qty(&mut engine, &signal, &ctx(&portfolio)),
        dec!(0.06666)
    );

    // Price 100.55, ATR 1.234: stop 98.082 rounded down to 98.08 (distance 2.47), TPs at
    // 100.55 + 1.5 × 2.47 = 104.255 → 104.26 and 100.55 + 3 × 2.47 = 107.96; the asset cap
    // (2,500 / 100.55 = 24.8632…) binds before the risk (100 / 2.47 = 40.5).
    let signal = long("BTCUSDT", dec!(100.55), 1.234);
    match engine.evaluate(&signal, &ctx(&portfolio)).unwrap() {
        OrderIntent::Open {
            qty,
            stop,
            take_profits,
            ..
        } => {
            assert_eq!(qty, dec!(24.86325));
            assert_eq!(stop, Some(dec!(98.08)));
            let prices: Vec<_> = take_profits.iter().map(|tp| tp.price).collect();
            assert_eq!(prices, vec![dec!(104.26), dec!(107.96)]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_signals_are_refused_with_the_bad_value() {
    let portfolio = account(vec![]);
    let cases = [
        (
            TradingSignal {
                confidence: f64::NAN,
                ..btc()
            },
            "confidence NaN",
        ),
        (
            TradingSignal {
                confidence: 1.5,
                ..btc()
            },
            "confidence 1.5",
        ),
        (
            TradingSignal {
                atr: f64::INFINITY,
                ..btc()
            },
            "ATR inf",
        ),
        (TradingSignal { atr: 0.0, ..btc() }, "ATR 0"),
        (TradingSignal { atr: -1.0, ..btc() }, "ATR -1"),
        (
            TradingSignal {
                price: dec!(0),
                ..btc()
            },
            "price 0",
        ),
        (
            TradingSignal {
                price: dec!(-5),
                direction: Direction::Short,
                ..btc()
            },
            "price -5",
        ),
    ];
    for (signal, needle) in cases {
        let refused = refusal(&mut engine(), &signal, &ctx(&portfolio));
        assert_eq!(refused.rule, RiskRule::InvalidSignal);
        assert!(refused.detail.contains(needle), "{needle}: {refused}");
    }
}

#[test]
fn short_without_a_long_is_refused_on_spot() {
    let portfolio = account(vec![position("ETHUSDT", dec!(1000))]);
    let short = TradingSignal {
        direction: Direction::Short,
        ..btc()
    };
    let refused = refusal(&mut engine(), &short, &ctx(&portfolio));
    assert_eq!(refused.rule, RiskRule::NoShortOnSpot);
    assert!(refused.detail.contains("BTCUSDT"), "{refused}");
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
fn unresolved_order_blocks_new_risk_on_its_symbol() {
    let portfolio = account(vec![]);
    let context = RiskContext {
        unresolved_order: true,
        ..ctx(&portfolio)
    };
    let refused = refusal(&mut engine(), &btc(), &context);
    assert_eq!(refused.rule, RiskRule::UnresolvedOrder);
    assert!(refused.detail.contains("BTCUSDT"), "{refused}");
}

#[test]
fn an_open_position_is_not_added_to() {
    let held = account(vec![position("BTCUSDT", dec!(50))]);
    let refused = refusal(&mut engine(), &btc(), &ctx(&held));
    assert_eq!(refused.rule, RiskRule::PositionOpen);
    assert_eq!(
        refused.detail,
        "already long 0.5 BTCUSDT (no adding to positions)"
    );
    // A position in another symbol does not block it.
    let other = account(vec![position("ETHUSDT", dec!(50))]);
    assert!(engine().evaluate(&btc(), &ctx(&other)).is_ok());
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
fn confidence_below_the_minimum_is_refused() {
    let portfolio = account(vec![]);
    let weak = TradingSignal {
        confidence: 0.549,
        ..btc()
    };
    let refused = refusal(&mut engine(), &weak, &ctx(&portfolio));
    assert_eq!(refused.rule, RiskRule::MinConfidence);
    assert_eq!(refused.detail, "confidence 0.549 < 0.55");
    let rounded_up = TradingSignal {
        confidence: 0.5499,
        ..btc()
    };
    let refused = refusal(&mut engine(), &rounded_up, &ctx(&portfolio));
    assert_eq!(refused.detail, "confidence 0.5499 < 0.55");
    let enough = TradingSignal {
        confidence: 0.55,
        ..btc()
    };
    assert!(engine().evaluate(&enough, &ctx(&portfolio)).is_ok());
}

#[test]
fn max_open_positions_is_enforced() {
    let three = vec![
        position("ETHUSDT", dec!(100)),
        position("XRPUSDT", dec!(100)),
        position("DOGEUSDT", dec!(100)),
    ];
    assert!(engine()
        .evaluate(&btc(), &ctx(&account(three.clone())))
        .is_ok());
    let mut four = three;
    four.push(position("LINKUSDT", dec!(100)));
    let refused = refusal(&mut engine(), &btc(), &ctx(&account(four)));
    assert_eq!(refused.rule, RiskRule::MaxOpenPositions);
    assert_eq!(refused.detail, "4 positions open, max 4");
}

#[test]
fn volatility_above_the_ceiling_is_refused() {
    let portfolio = account(vec![]);
    let wild = long("BTCUSDT", dec!(100), 5.01);
    let refused = refusal(&mut engine(), &wild, &ctx(&portfolio));
    assert_eq!(refused.rule, RiskRule::Volatility);
    assert_eq!(refused.detail, "ATR 5.01 is 5.01% of price 100 > 5%");
    let at_ceiling = long("BTCUSDT", dec!(100), 5.0);
    // Stop 90, distance 10 → 10; the ceiling itself passes.
    assert_eq!(
        open_qty(&mut engine(), &at_ceiling, &ctx(&portfolio)),
        dec!(10)
    );
}

#[test]
fn per_trade_risk_refuses_when_even_the_smallest_order_risks_too_much() {
    let portfolio = account(vec![]);
    // Smallest order 3,000 / 100 = 30, × distance 4 = 120 > 100 (1% of 10,000).
    let mut strict = engine_with(RiskConfig {
        min_notional: dec!(3000),
        ..Default::default()
    });
    let refused = refusal(&mut strict, &btc(), &ctx(&portfolio));
    assert_eq!(refused.rule, RiskRule::PerTradeRisk);
    assert_eq!(
        refused.detail,
        "the smallest order (30 BTC = 3000 at 100) would risk 120 = 1.2% of equity 10000 > 1% (stop 96)"
    );
    // Smallest order 25 risks exactly 100: allowed.
    let mut exact = engine_with(RiskConfig {
        min_notional: dec!(2500),
        ..Default::default()
    });
    assert_eq!(open_qty(&mut exact, &btc(), &ctx(&portfolio)), dec!(25));
}

#[test]
fn asset_exposure_counts_every_pair_of_the_asset() {
    // 2,495 of BTC held against FDUSD leaves 5 < the smallest order of 10.
    let full = account(vec![position("BTCFDUSD", dec!(2495))]);
    let refused = refusal(&mut engine(), &btc(), &ctx(&full));
    assert_eq!(refused.rule, RiskRule::AssetExposure);
    assert_eq!(
        refused.detail,
        "exposure to BTC would be 25.05% > 25% of equity 10000 (held 2495, smallest order 10)"
    );
    let room = account(vec![position("BTCFDUSD", dec!(2490))]);
    assert_eq!(open_qty(&mut engine(), &btc(), &ctx(&room)), dec!(0.1));
}

#[test]
fn sector_exposure_groups_assets_and_unlisted_assets_stand_alone() {
    let full = account(vec![
        position("ETHUSDT", dec!(2495)),
        position("SOLUSDT", dec!(2500)),
    ]);
    let ada = long("ADAUSDT", dec!(100), 2.0);
    let refused = refusal(&mut engine(), &ada, &ctx(&full));
    assert_eq!(refused.rule, RiskRule::SectorExposure);
    assert_eq!(
        refused.detail,
        "exposure to sector smart_contract would be 50.05% > 50% of equity 10000 (held 4995, smallest order 10)"
    );
    let room = account(vec![
        position("ETHUSDT", dec!(2490)),
        position("SOLUSDT", dec!(2500)),
    ]);
    assert_eq!(open_qty(&mut engine(), &ada, &ctx(&room)), dec!(0.1));
    // PEPE is in no configured sector: its own sector, unaffected by the full one.
    let pepe = long("PEPEUSDT", dec!(100), 2.0);
    assert_eq!(open_qty(&mut engine(), &pepe, &ctx(&full)), dec!(25));
}

#[test]
fn total_exposure_is_capped() {
    let cfg = RiskConfig {
        max_total_exposure_pct: dec!(50),
        ..Default::default()
    };
    let eth = long("ETHUSDT", dec!(100), 2.0);
    let full = account(vec![
        position("BTCUSDT", dec!(2495)),
        position("XRPUSDT", dec!(2500)),
    ]);
    let refused = refusal(&mut engine_with(cfg.clone()), &eth, &ctx(&full));
    assert_eq!(refused.rule, RiskRule::TotalExposure);
    assert_eq!(
        refused.detail,
        "total exposure would be 50.05% > 50% of equity 10000 (held 4995, smallest order 10)"
    );
    let room = account(vec![
        position("BTCUSDT", dec!(2490)),
        position("XRPUSDT", dec!(2500)),
    ]);
    assert_eq!(
        open_qty(&mut engine_with(cfg), &eth, &ctx(&room)),
        dec!(0.1)
    );
}

#[test]
fn min_notional_refuses_when_the_cash_cannot_buy_the_smallest_order() {
    let broke = PortfolioSnapshot {
        cash: dec!(9.99),
        ..account(vec![])
    };
    let refused = refusal(&mut engine(), &btc(), &ctx(&broke));
    assert_eq!(refused.rule, RiskRule::MinNotional);
    assert_eq!(
        refused.detail,
        "cash 9.99 cannot buy the smallest order 10 (min notional 10)"
    );
    let enough = PortfolioSnapshot {
        cash: dec!(10),
        ..account(vec![])
    };
    assert_eq!(open_qty(&mut engine(), &btc(), &ctx(&enough)), dec!(0.1));
}

#[test]
fn checks_run_in_the_documented_order() {
    // Everything wrong at once: the kill switch is reported first, then each in turn.
    let mut engine = engine();
    engine.on_portfolio(&with_equity(dec!(10000), t0()));
    engine.on_trade_closed(&stop_out("BTCUSDT", t0(), ExitReason::StopLoss));
    let held = account(vec![position("BTCUSDT", dec!(50))]);
    let weak = TradingSignal {
        confidence: 0.1,
        ..btc()
    };
    let context = RiskContext {
        portfolio: &held,
        reduce_only: true,
        unresolved_order: true,
    };
    assert_eq!(
        refusal(&mut engine.clone(), &weak, &context).rule,
        RiskRule::ReduceOnly
    );
    let context = RiskContext {
        reduce_only: false,
        ..context
    };
    assert_eq!(
        refusal(&mut engine.clone(), &weak, &context).rule,
        RiskRule::UnresolvedOrder
    );
    let context = RiskContext {
        unresolved_order: false,
        ..context
    };
    assert_eq!(
        refusal(&mut engine.clone(), &weak, &context).rule,
        RiskRule::PositionOpen
    );
    let flat = account(vec![]);
    assert_eq!(
        refusal(&mut engine.clone(), &weak, &ctx(&flat)).rule,
        RiskRule::Cooldown
    );
    let later = TradingSignal {
        ts: t0().plus_ms(25 * HOUR),
        ..weak
    };
    assert_eq!(
        refusal(&mut engine.clone(), &later, &ctx(&flat)).rule,
        RiskRule::MinConfidence
    );
    engine.on_portfolio(&with_equity(dec!(5000), t0()));
    assert_eq!(
        refusal(&mut engine, &later, &ctx(&flat)).rule,
        RiskRule::KillSwitch
    );
}
