//! Reconciliation after a crash at each point of an order's life.

use rust_decimal_macros::dec;

use super::*;
use crate::execution::{FillConfig, SimExchange};
use crate::model::{
    Candle, ClientOrderId, Decimal, Interval, OrderKind, OrderPurpose, OrderRequest, OrderStatus,
    Side, Timestamp,
};
use crate::testing::{btc, candles, Driver, HOUR_MS as H};

fn id(text: &str) -> ClientOrderId {
    ClientOrderId::new(text).unwrap()
}

fn bar(hour: i64, open: Decimal, low: Decimal) -> Candle {
    Candle {
        symbol: btc(),
        open_time: Timestamp(hour * H),
        interval: Interval::HOUR,
        open,
        high: open + dec!(1),
        low,
        close: open,
        volume: dec!(1),
    }
}

fn status(driver: &Driver, name: &str) -> OrderStatus {
    driver.om.order(&id(name)).unwrap().status
}

#[test]
fn an_order_journalled_but_never_sent_is_rejected_not_resubmitted() {
    let mut driver = Driver::new();
    let _never_sent = driver.open_commands(dec!(100));
    // Crash: the journal holds the order, the venue never saw it.
    let mut after = driver.restored();
    assert!(after.om.has_open_entry(&btc()));
    let report = reconcile(&mut after.om, &after.ex, Timestamp(2 * H));

    assert_eq!(report.checked, 1, "children resolve with their parent");
    assert_eq!(
        report.discrepancies,
        [Discrepancy::NeverReachedVenue {
            id: id("pt-BTCUSDT-000001"),
            was: OrderStatus::Submitted
        }]
    );
    assert!(report.is_resolved() && !report.is_clean());
    assert!(report.commands.is_empty());
    for name in [
        "pt-BTCUSDT-000001",
        "pt-BTCUSDT-000001-s1",
        "pt-BTCUSDT-000001-t2",
    ] {
        assert_eq!(status(&after, name), OrderStatus::Rejected, "{name}");
    }
    assert_eq!(after.ex.known_order_ids().count(), 0, "nothing was resent");
    // The symbol is free again, and a new order takes a new id.
    assert!(!after.om.has_open_entry(&btc()));
    let commands = after.open_commands(dec!(100));
    assert_eq!(commands[0].order_id().as_str(), "pt-BTCUSDT-000002");
    assert!(report.to_string().contains(
        "order pt-BTCUSDT-000001 (Submitted in the journal): never reached the venue; \
         rejected, not resubmitted"
    ));
}

#[test]
fn a_fill_the_manager_never_saw_is_applied_once_on_reconcile() {
    // Reference: everything delivered.
    let mut seen = Driver::new();
    let commands = seen.open_commands(dec!(100));
    seen.route(commands);
    seen.step(&bar(2, dec!(100), dec!(99.5)));

    // Crash: the venue accepted and filled, the manager's journal only has the intent.
    let mut crashed = Driver::new();
    let commands = crashed.open_commands(dec!(100));
    let journal = crashed.om.to_state();
    for command in &commands {
        crashed.ex.apply(command, crashed.now);
    }
    crashed.ex.on_candle(&bar(2, dec!(100), dec!(99.5)));
    let mut om = OrderManager::from_state(OrderManagerConfig::default(), journal).unwrap();
    let report = reconcile(&mut om, &crashed.ex, Timestamp(3 * H));

    let recovered = report
        .discrepancies
        .iter()
        .filter(|d| matches!(d, Discrepancy::FillRecovered { .. }))
        .count();
    assert_eq!(recovered, 1);
    assert!(report.is_resolved());
    let position = om.position(&btc()).unwrap();
    assert_eq!(position.qty, dec!(1.00));
    assert_eq!(position.avg_entry, dec!(100.05));
    assert_eq!(om.cash(), seen.om.cash());
    let reference = seen.om.position(&btc()).unwrap();
    assert_eq!(
        (position.qty, position.avg_entry, position.opened_at),
        (reference.qty, reference.avg_entry, reference.opened_at)
    );
    for order in seen.om.orders() {
        assert_eq!(om.order(order.id()).unwrap().status, order.status);
    }
    // Reconciling again finds nothing: the fill is not applied twice.
    let cash = om.cash();
    let again = reconcile(&mut om, &crashed.ex, Timestamp(3 * H));
    assert!(again.is_clean(), "{again}");
    assert_eq!(om.cash(), cash);
    assert_eq!(om.position(&btc()).unwrap().qty, dec!(1.00));
}

#[test]
fn an_exit_filled_during_the_crash_closes_the_trade_and_cancels_what_is_left() {
    let mut driver = Driver::new();
    let commands = driver.open_commands(dec!(100));
    driver.route(commands);
    driver.step(&bar(2, dec!(100), dec!(99.5)));
    let journal = driver.om.to_state();
    // The stop (96) is hit while the manager is down.
    driver.ex.on_candle(&bar(3, dec!(97), dec!(90)));
    let mut om = OrderManager::from_state(OrderManagerConfig::default(), journal).unwrap();
    let report = reconcile(&mut om, &driver.ex, Timestamp(4 * H));

    assert!(om.position(&btc()).is_none());
    assert_eq!(report.closed.len(), 1);
    assert_eq!(
        report.closed[0].exit_reason,
        crate::model::ExitReason::StopLoss
    );
    assert_eq!(om.open_orders(&btc()).count(), 0);
    assert!(report.is_resolved(), "{report}");
    // Both stops filled at the venue (each with its own tranche), their OCO take-profits were
    // cancelled there: no command is left to send.
    assert!(report.commands.is_empty(), "{:?}", report.commands);
}

#[test]
fn a_venue_order_unknown_to_the_journal_is_reported() {
    let mut driver = Driver::new();
    let stranger = OrderRequest {
        client_order_id: id("other-BTCUSDT-000009"),
        symbol: btc(),
        side: Side::Buy,
        qty: dec!(1),
        kind: OrderKind::Limit { price: dec!(50) },
        purpose: OrderPurpose::Entry,
        oco_group: None,
        attached: vec![],
        created: Timestamp(H),
    };
    driver.ex.submit(stranger);
    let report = reconcile(&mut driver.om, &driver.ex, Timestamp(2 * H));
    assert_eq!(report.checked, 0);
    assert_eq!(
        report.discrepancies,
        [Discrepancy::UnknownToOrderManager {
            id: id("other-BTCUSDT-000009"),
            symbol: btc(),
            status: OrderStatus::Accepted
        }]
    );
    assert!(!report.is_resolved());
    let text = report.to_string();
    assert!(text.contains("1 unresolved"), "{text}");
    assert!(
        text.contains("venue order other-BTCUSDT-000009 (BTCUSDT, Accepted) is not in the journal"),
        "{text}"
    );
}

#[test]
fn a_working_order_the_venue_lost_stays_open_and_blocks_its_symbol() {
    let mut driver = Driver::new();
    let commands = driver.open_commands(dec!(100));
    driver.route(commands);
    // The venue's state was lost: it knows nothing.
    let empty = SimExchange::new(FillConfig::default());
    let report = reconcile(&mut driver.om, &empty, Timestamp(2 * H));
    assert_eq!(report.checked, 5);
    assert!(!report.is_resolved());
    assert!(report.discrepancies.iter().all(|d| matches!(
        d,
        Discrepancy::MissingAtVenue {
            status: OrderStatus::Accepted,
            ..
        }
    )));
    assert!(driver.om.has_open_entry(&btc()));
    assert!(report.to_string().contains("UNRESOLVED"));
}

#[test]
fn a_cancel_the_manager_never_heard_of_is_taken_from_the_venue() {
    let mut driver = Driver::new();
    let commands = driver.open_commands(dec!(100));
    driver.route(commands);
    driver.ex.cancel(&id("pt-BTCUSDT-000001"), Timestamp(H));
    let report = reconcile(&mut driver.om, &driver.ex, Timestamp(2 * H));
    assert_eq!(status(&driver, "pt-BTCUSDT-000001"), OrderStatus::Cancelled);
    assert_eq!(
        status(&driver, "pt-BTCUSDT-000001-t1"),
        OrderStatus::Cancelled
    );
    assert!(report.is_resolved());
    assert!(report.discrepancies.contains(&Discrepancy::StatusResolved {
        id: id("pt-BTCUSDT-000001"),
        from: OrderStatus::Accepted,
        to: OrderStatus::Cancelled
    }));
    assert!(!driver.om.has_open_entry(&btc()));
}

#[test]
fn a_journal_in_step_with_the_venue_reconciles_clean() {
    let mut driver = Driver::new();
    for candle in &candles(50) {
        driver.step(candle);
    }
    let report = reconcile(&mut driver.om, &driver.ex, Timestamp(60 * H));
    assert!(report.is_clean(), "{report}");
    assert!(report.to_string().ends_with("(clean)"));
}

#[test]
fn a_stop_move_journalled_but_never_sent_is_sent_again() {
    let mut driver = Driver::new();
    let commands = driver.open_commands(dec!(100));
    driver.route(commands);
    driver.step(&bar(2, dec!(100), dec!(99.5)));
    // The first take-profit (103) trades through: the manager moves the other stop to break-even
    // and journals it, then dies before the venue hears of it.
    let mut moves = Vec::new();
    for report in driver.ex.on_candle(&bar(3, dec!(103.5), dec!(103))) {
        moves.extend(driver.om.on_execution(&report).commands);
    }
    let stop = id("pt-BTCUSDT-000001-s2");
    let Some(OrderCommand::ModifyStop { trigger, .. }) =
        moves.iter().find(|c| c.order_id() == &stop).cloned()
    else {
        panic!("no break-even move in {moves:?}");
    };
    let journal = driver.om.to_state();
    let mut om = OrderManager::from_state(OrderManagerConfig::default(), journal).unwrap();
    let report = reconcile(&mut om, &driver.ex, Timestamp(4 * H));

    assert_eq!(
        report.commands,
        [OrderCommand::ModifyStop {
            id: stop.clone(),
            trigger
        }]
    );
    assert!(report.is_resolved(), "{report}");
    assert!(report.discrepancies.contains(&Discrepancy::StopRestored {
        id: stop,
        venue: dec!(96),
        journal: trigger
    }));
    assert!(report.to_string().contains("moved to"));
}
