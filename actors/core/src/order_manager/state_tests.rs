//! Saving and restoring the order manager with the venue: a restored pair continues exactly
//! like the original, and nothing is applied twice.

use rust_decimal_macros::dec;

use super::*;
use crate::model::{ClientOrderId, ExecutionReport, OrderStatus};
use crate::testing::{btc, candles, Driver};

#[test]
fn a_pair_restored_mid_run_ends_exactly_like_the_original() {
    let bars = candles(400);
    let mut original = Driver::new();
    let mut bars = bars.iter();
    // Save at bar 200 or later, while a position with working exits is open.
    for (i, candle) in bars.by_ref().enumerate() {
        original.step(candle);
        if i >= 200 && original.om.position(&btc()).is_some() {
            break;
        }
    }
    assert!(original.om.open_orders(&btc()).count() >= 2);
    let trades_before = original.om.closed_trades().len();
    assert!(
        trades_before >= 3,
        "only {trades_before} trades before the save"
    );
    let mut restored = original.restored();
    assert_eq!(restored.om.to_state(), original.om.to_state());
    assert_eq!(restored.ex.to_state(), original.ex.to_state());

    let rest: Vec<_> = bars.collect();
    assert!(rest.len() > 100);
    for candle in rest {
        original.step(candle);
        restored.step(candle);
    }
    assert!(original.om.closed_trades().len() > trades_before + 3);
    assert_eq!(restored.reports, original.reports);
    assert_eq!(restored.om.to_state(), original.om.to_state());
    assert_eq!(restored.ex.to_state(), original.ex.to_state());
    assert_eq!(restored.om.cash(), original.om.cash());
    assert_eq!(restored.om.closed_trades(), original.om.closed_trades());
}

#[test]
fn a_fill_delivered_again_after_a_restore_changes_nothing() {
    let mut driver = Driver::new();
    for candle in &candles(60) {
        driver.step(candle);
    }
    let fills: Vec<ExecutionReport> = driver
        .reports
        .iter()
        .filter(|r| matches!(r, ExecutionReport::Fill(_)))
        .cloned()
        .collect();
    assert!(fills.len() >= 4);
    let mut restored = driver.restored();
    let before = restored.om.to_state();
    for fill in &fills {
        let update = restored.om.on_execution(fill);
        assert!(update.commands.is_empty() && update.closed.is_none());
    }
    assert_eq!(restored.om.to_state(), before);
}

#[test]
fn a_restored_manager_continues_the_id_sequence() {
    let mut driver = Driver::new();
    let commands = driver.open_commands(dec!(100));
    assert_eq!(commands[0].order_id().as_str(), "pt-BTCUSDT-000001");
    // The entry never reached the venue and was rejected: the symbol is free again.
    driver.om.on_execution(&ExecutionReport::Rejected {
        id: commands[0].order_id().clone(),
        reason: "test".into(),
        ts: driver.now,
    });
    let mut restored = driver.restored();
    let commands = restored.open_commands(dec!(100));
    assert_eq!(commands[0].order_id().as_str(), "pt-BTCUSDT-000002");
}

#[test]
fn open_orders_are_rebuilt_so_a_restored_symbol_stays_blocked() {
    let mut driver = Driver::new();
    let commands = driver.open_commands(dec!(100));
    driver.route(commands);
    let restored = driver.restored();
    assert!(restored.om.has_open_entry(&btc()));
    assert_eq!(restored.om.open_orders(&btc()).count(), 5);
    let id = ClientOrderId::new("pt-BTCUSDT-000001-s1").unwrap();
    assert_eq!(
        restored.om.order(&id).unwrap().status,
        OrderStatus::Accepted
    );
}

#[test]
fn an_inconsistent_state_is_refused_with_the_order_named() {
    let mut driver = Driver::new();
    let commands = driver.open_commands(dec!(100));
    driver.route(commands);
    let cfg = OrderManagerConfig::default();

    let mut state = driver.om.to_state();
    state.orders[1].parent = Some(3);
    let err = OrderManager::from_state(cfg.clone(), state).unwrap_err();
    assert!(err.to_string().contains("pt-BTCUSDT-000001-s1"), "{err}");
    assert!(err.to_string().contains("not an earlier order"), "{err}");

    let mut state = driver.om.to_state();
    let first = state.orders[0].clone();
    state.orders.push(first);
    let err = OrderManager::from_state(cfg, state).unwrap_err();
    assert_eq!(
        err.to_string(),
        "order manager state cannot be restored: order pt-BTCUSDT-000001 appears twice"
    );
}
