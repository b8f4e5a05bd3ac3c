//! Sizing: the quantity worked out by hand, each cap, rounding to the venue's steps, and
//! the refusals that come from sizing itself (bad inputs, per-trade risk, minimum notional).

use super::*;

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
fn per_trade_risk_refuses_when_even_the_smallest_order_risks_too_much() {
    let portfolio = account(vec![]);
    // Each half of the smallest order must be worth 1,500 at the stop 96: 15.625, so 31.25 in
    // all, × distance 4 = 125 > 100 (1% of 10,000).
    let mut strict = engine_with(RiskConfig {
        min_notional: dec!(1500),
        ..Default::default()
    });
    let refused = refusal(&mut strict, &btc(), &ctx(&portfolio));
    assert_eq!(refused.rule, RiskRule::PerTradeRisk);
    assert_eq!(
        refused.detail,
        "the smallest order (31.25 BTC = 3125 at 100) would risk 125 = 1.25% of equity 10000 > 1% (stop 96)"
    );
    // Halves worth 1,100 at the stop: the smallest order, 22.91667, risks 91.67 ≤ 100, so the
    // budget's 25 is bought (split 12 and 13: the split rounds to the quantity's places, and
    // 12 × 96 = 1,152 clears the min notional).
    let mut exact = engine_with(RiskConfig {
        min_notional: dec!(1100),
        ..Default::default()
    });
    assert_eq!(open_qty(&mut exact, &btc(), &ctx(&portfolio)), dec!(25));
}

#[test]
fn min_notional_refuses_when_the_cash_cannot_buy_the_smallest_order() {
    let broke = PortfolioSnapshot {
        cash: dec!(9.99),
        ..account(vec![])
    };
    let refused = refusal(&mut engine(), &btc(), &ctx(&broke));
    assert_eq!(refused.rule, RiskRule::MinNotional);
    // Each half of the order must be worth 10 at the stop 96: 0.10417 (up to the step), so
    // the smallest order is 0.20834 × 100 = 20.83.
    assert_eq!(
        refused.detail,
        "cash 9.99 cannot buy the smallest order 20.83 (min notional 10)"
    );
    let enough = PortfolioSnapshot {
        cash: dec!(20.84),
        ..account(vec![])
    };
    assert_eq!(open_qty(&mut engine(), &btc(), &ctx(&enough)), dec!(0.2084));
}

#[test]
fn an_order_whose_exit_the_venue_would_refuse_at_the_stop_is_refused() {
    // A lot step of 0.1: the smallest order is 0.3 (each half must be worth 10 at the stop
    // 96, 0.10417, and the order a whole number of steps), but the split rounds its halves
    // to 0.1 and 0.2, and 0.1 × 96 = 9.6 is below the min notional.
    let coarse = RiskConfig {
        qty_step: dec!(0.1),
        ..Default::default()
    };
    let thirty = PortfolioSnapshot {
        cash: dec!(30),
        ..account(vec![])
    };
    let refused = refusal(&mut engine_with(coarse.clone()), &btc(), &ctx(&thirty));
    assert_eq!(refused.rule, RiskRule::MinNotional);
    assert_eq!(
        refused.detail,
        "tranche 1 of the order (0.1 of 0.3 BTC) × its stop 96 = 9.6 < min notional 10 (or below the lot step 0.1): the venue would refuse that exit"
    );
    // Halves of 0.2 are worth 19.2 at the stop: placed.
    let forty = PortfolioSnapshot {
        cash: dec!(40),
        ..account(vec![])
    };
    assert_eq!(
        open_qty(&mut engine_with(coarse), &btc(), &ctx(&forty)),
        dec!(0.4)
    );
}
