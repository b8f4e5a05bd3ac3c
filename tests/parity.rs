//! Parity: the actor runtime in lockstep produces exactly the backtest's orders, fills and P&L.

use keel::backtest::{backtest_pipeline, load_inputs};
use keel::runtime::{run_actors, RunOptions};
use keel::settings::Settings;

fn settings(strategy: &str) -> Settings {
    let mut settings = Settings::embedded_default().unwrap();
    settings.strategy.kind = match strategy {
        "fusion" => keel_actors::strategy::StrategyKind::Fusion,
        "sma_cross" => keel_actors::strategy::StrategyKind::SmaCross,
        _ => keel_actors::strategy::StrategyKind::BuyAndHold,
    };
    for source in &mut settings.data.candles {
        source.path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&source.path);
    }
    if let Some(headlines) = &mut settings.data.headlines {
        *headlines = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&*headlines);
    }
    settings
}

fn assert_parity(strategy: &str) {
    let settings = settings(strategy);
    let inputs = load_inputs(&settings).unwrap();
    let (backtest, pipeline) = backtest_pipeline(&settings, inputs.clone(), &mut |_| {});
    let actors = run_actors(&settings, inputs, RunOptions::default()).unwrap();
    assert!(actors.outcome.completed);

    let backtest_orders: Vec<_> = pipeline.orders().orders().cloned().collect();
    assert!(
        backtest.trades.len() > 5,
        "{strategy}: too few trades to prove anything"
    );
    assert_eq!(
        actors.record.orders.len(),
        backtest_orders.len(),
        "{strategy}: order count"
    );
    for (a, b) in actors.record.orders.iter().zip(&backtest_orders) {
        assert_eq!(a, b, "{strategy}: orders differ");
    }
    assert_eq!(
        actors.result.trades, backtest.trades,
        "{strategy}: closed trades (fills, P&L)"
    );
    assert_eq!(
        actors.result.equity_curve, backtest.equity_curve,
        "{strategy}: equity curve"
    );
    assert_eq!(
        actors.result.fees_paid, backtest.fees_paid,
        "{strategy}: fees"
    );
    assert_eq!(
        actors.result.open_positions, backtest.open_positions,
        "{strategy}: open positions"
    );
    assert_eq!(
        actors.result.orders_submitted, backtest.orders_submitted,
        "{strategy}: submissions"
    );
    assert_eq!(
        actors.result.refusals, backtest.refusals,
        "{strategy}: refusals by rule"
    );
}

#[test]
fn actors_in_lockstep_equal_the_backtest_for_fusion() {
    assert_parity("fusion");
}

#[test]
fn actors_in_lockstep_equal_the_backtest_for_sma_cross() {
    assert_parity("sma_cross");
}
