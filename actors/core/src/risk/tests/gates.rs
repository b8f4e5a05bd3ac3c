//! Per-signal gates: direction on spot, unresolved orders, open positions, confidence,
//! position count, volatility, exposure caps, and the order the checks run in.

use super::*;

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
fn asset_exposure_counts_every_pair_of_the_asset() {
    // 2,480 of BTC held against FDUSD leaves 20 < the smallest order of 20.83 (each of its
    // halves worth the min notional of 10 at the stop 96).
    let full = account(vec![position("BTCFDUSD", dec!(2480))]);
    let refused = refusal(&mut engine(), &btc(), &ctx(&full));
    assert_eq!(refused.rule, RiskRule::AssetExposure);
    assert_eq!(
        refused.detail,
        "exposure to BTC would be 25.01% > 25% of equity 10000 (held 2480, smallest order 20.83)"
    );
    let room = account(vec![position("BTCFDUSD", dec!(2475))]);
    assert_eq!(open_qty(&mut engine(), &btc(), &ctx(&room)), dec!(0.25));
}

#[test]
fn sector_exposure_groups_assets_and_unlisted_assets_stand_alone() {
    let full = account(vec![
        position("ETHUSDT", dec!(2480)),
        position("SOLUSDT", dec!(2500)),
    ]);
    let ada = long("ADAUSDT", dec!(100), 2.0);
    let refused = refusal(&mut engine(), &ada, &ctx(&full));
    assert_eq!(refused.rule, RiskRule::SectorExposure);
    assert_eq!(
        refused.detail,
        "exposure to sector smart_contract would be 50.01% > 50% of equity 10000 (held 4980, smallest order 20.83)"
    );
    let room = account(vec![
        position("ETHUSDT", dec!(2475)),
        position("SOLUSDT", dec!(2500)),
    ]);
    assert_eq!(open_qty(&mut engine(), &ada, &ctx(&room)), dec!(0.25));
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
        position("BTCUSDT", dec!(2480)),
        position("XRPUSDT", dec!(2500)),
    ]);
    let refused = refusal(&mut engine_with(cfg.clone()), &eth, &ctx(&full));
    assert_eq!(refused.rule, RiskRule::TotalExposure);
    assert_eq!(
        refused.detail,
        "total exposure would be 50.01% > 50% of equity 10000 (held 4980, smallest order 20.83)"
    );
    let room = account(vec![
        position("BTCUSDT", dec!(2475)),
        position("XRPUSDT", dec!(2500)),
    ]);
    assert_eq!(
        open_qty(&mut engine_with(cfg), &eth, &ctx(&room)),
        dec!(0.25)
    );
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
