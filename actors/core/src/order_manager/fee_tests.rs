//! Fees as Binance charges them, booked by the order manager from hand-made venue reports:
//! a buy's fee withheld from the base asset (the cash pays none of it, the position holds
//! less), exits cut to what is held, the dust a round trip leaves, and a fee paid in BNB.

use rust_decimal_macros::dec;

use super::*;
use crate::execution::{VenueOrder, VenueView};
use crate::model::{Candle, OrderStatus};
use crate::model::{
    ClientOrderId, Decimal, ExecutionReport, FeeSource, Fill, OrderIntent, Side, TakeProfit,
    Timestamp, TradeId,
};
use crate::testing::btc;

fn id(text: &str) -> ClientOrderId {
    ClientOrderId::new(text).unwrap()
}

fn manager() -> OrderManager {
    let cfg = OrderManagerConfig {
        lot: dec!(0.00001),
        ..OrderManagerConfig::default()
    };
    OrderManager::new(cfg, dec!(10000))
}

/// Buys 0.18436 BTC at 100 with a stop at 90 and two take-profit halves.
fn open(om: &mut OrderManager) {
    let commands = om.on_intent(&OrderIntent::Open {
        symbol: btc(),
        qty: dec!(0.18436),
        stop: Some(dec!(90)),
        take_profits: vec![
            TakeProfit {
                price: dec!(110),
                fraction: dec!(0.5),
            },
            TakeProfit {
                price: dec!(120),
                fraction: dec!(0.5),
            },
        ],
        ts: Timestamp(0),
    });
    assert_eq!(commands.len(), 1, "one entry with its exits attached");
}

fn fill(
    trade: u64,
    order: &str,
    side: Side,
    qty: Decimal,
    price: Decimal,
    fee_source: FeeSource,
) -> ExecutionReport {
    let fee = match fee_source {
        FeeSource::Base { qty } => qty * price,
        FeeSource::Quote | FeeSource::Other => qty * price * dec!(0.001),
    };
    ExecutionReport::Fill(Fill {
        trade_id: TradeId(trade),
        client_order_id: id(order),
        symbol: btc(),
        side,
        qty,
        price,
        fee,
        fee_source,
        ts: Timestamp(trade as i64),
    })
}

/// The entry of [`open`] filled at 100, its fee (0.00018436 BTC) withheld from the BTC
/// bought: the manager, and the entry's id.
fn entered_paying_in_btc() -> (OrderManager, &'static str) {
    let mut om = manager();
    open(&mut om);
    let entry = "bt-BTCUSDT-000001";
    om.on_execution(&fill(
        1,
        entry,
        Side::Buy,
        dec!(0.18436),
        dec!(100),
        FeeSource::Base {
            qty: dec!(0.00018436),
        },
    ));
    (om, entry)
}

/// The venue cut the last tranche of `entry` by 0.00019 to the 0.18417 whole lots held.
fn cut_last_tranche(om: &mut OrderManager, entry: &str) {
    for leg in ["-s2", "-t2"] {
        om.on_execution(&ExecutionReport::Resized {
            id: id(&format!("{entry}{leg}")),
            qty: dec!(0.09199),
            ts: Timestamp(1),
        });
    }
}

/// The first tranche's take-profit fills: 0.09218 at 110 (its fee in USDT).
fn take_first_profit(om: &mut OrderManager) -> OmUpdate {
    om.on_execution(&fill(
        2,
        "bt-BTCUSDT-000001-t1",
        Side::Sell,
        dec!(0.09218),
        dec!(110),
        FeeSource::Quote,
    ))
}

/// The cut second tranche's stop fills: 0.09199 at 100, leaving dust.
fn stop_out_the_rest(om: &mut OrderManager) -> OmUpdate {
    om.on_execution(&fill(
        3,
        "bt-BTCUSDT-000001-s2",
        Side::Sell,
        dec!(0.09199),
        dec!(100),
        FeeSource::Quote,
    ))
}

#[test]
fn a_fee_withheld_from_the_base_asset_leaves_cash_exact_exits_cut_and_dust_kept_apart() {
    let (mut om, entry) = entered_paying_in_btc();
    let withheld = dec!(0.00018436);
    assert_eq!(
        om.cash_held(),
        dec!(10000) - dec!(18.436),
        "no fee out of the cash"
    );
    assert_eq!(om.position(&btc()).unwrap().qty, dec!(0.18417564));
    assert_eq!(om.position(&btc()).unwrap().avg_entry, dec!(100));

    cut_last_tranche(&mut om, entry);
    assert_eq!(
        om.order(&id("bt-BTCUSDT-000001-t2")).unwrap().request.qty,
        dec!(0.09199)
    );
    take_first_profit(&mut om);
    let update = stop_out_the_rest(&mut om);

    let trade = update.closed.expect("the last exit closes the round trip");
    assert!(om.position(&btc()).is_none(), "less than a lot left: flat");
    assert_eq!(om.dust(&btc()), dec!(0.00000564));
    let sells = dec!(10.1398) + dec!(9.199);
    let sell_fees = dec!(0.0101398) + dec!(0.009199);
    assert_eq!(
        om.cash_held(),
        dec!(10000) - dec!(18.436) + sells - sell_fees
    );
    // The P&L is what the cash gained plus the dust's worth: the withheld fee is in the
    // quantities, not paid twice.
    assert_eq!(trade.pnl, sells + dec!(0.000564) - dec!(18.436) - sell_fees);
    assert_eq!(trade.fees, withheld * dec!(100) + sell_fees);
    assert_eq!(
        om.equity_point(Timestamp(4)).equity - dec!(10000),
        trade.pnl,
        "equity counts the dust"
    );
    assert!(om.anomalies().is_empty(), "{:?}", om.anomalies());

    // The dust survives a restart of the order manager.
    let restored = OrderManager::from_state(om_config(), om.to_state()).unwrap();
    assert_eq!(restored.dust(&btc()), dec!(0.00000564));
}

fn om_config() -> OrderManagerConfig {
    OrderManagerConfig {
        lot: dec!(0.00001),
        ..OrderManagerConfig::default()
    }
}

#[test]
fn a_fee_paid_in_bnb_moves_neither_the_cash_nor_the_position() {
    let mut om = manager();
    open(&mut om);
    om.on_execution(&fill(
        1,
        "bt-BTCUSDT-000001",
        Side::Buy,
        dec!(0.18436),
        dec!(100),
        FeeSource::Other,
    ));
    assert_eq!(om.cash_held(), dec!(10000) - dec!(18.436));
    assert_eq!(om.position(&btc()).unwrap().qty, dec!(0.18436));
    assert_eq!(om.fees_paid(), dec!(0.018436), "valued, and reported");
}

#[test]
fn a_resize_of_a_finished_or_unknown_order_is_an_anomaly_not_a_change() {
    let mut om = manager();
    om.on_execution(&ExecutionReport::Resized {
        id: id("bt-BTCUSDT-000009-t1"),
        qty: dec!(0.1),
        ts: Timestamp(0),
    });
    assert_eq!(om.anomalies().len(), 1);
}

/// A venue that holds exactly the orders it is given.
struct Holds(Vec<VenueOrder>);

impl VenueView for Holds {
    fn order(&self, id: &ClientOrderId) -> Option<VenueOrder> {
        self.0
            .iter()
            .find(|o| o.request.client_order_id == *id)
            .cloned()
    }

    fn order_ids(&self) -> Vec<ClientOrderId> {
        self.0
            .iter()
            .map(|o| o.request.client_order_id.clone())
            .collect()
    }
}

/// keel died after the venue book cut the exits (and placed them) but before the order
/// manager journalled the cut: the restart takes the venue's quantities.
#[test]
fn a_restart_takes_the_exit_quantities_the_venue_holds_when_the_journal_missed_the_cut() {
    let (mut om, entry) = entered_paying_in_btc();
    let at_venue = |leg: &str, qty: Decimal| {
        let mut request = om
            .order(&id(&format!("{entry}{leg}")))
            .unwrap()
            .request
            .clone();
        request.qty = qty;
        VenueOrder {
            request,
            parent: Some(id(entry)),
            status: OrderStatus::Accepted,
            fills: Vec::new(),
            finished_at: None,
        }
    };
    let venue = Holds(vec![
        at_venue("-s1", dec!(0.09218)),
        at_venue("-t1", dec!(0.09218)),
        at_venue("-s2", dec!(0.09199)),
        at_venue("-t2", dec!(0.09199)),
    ]);
    let report = reconcile(&mut om, &venue, Timestamp(5));
    let resized: Vec<&Discrepancy> = report
        .discrepancies
        .iter()
        .filter(|d| matches!(d, Discrepancy::ExitResized { .. }))
        .collect();
    assert_eq!(resized.len(), 2, "{report}");
    assert!(report.is_resolved(), "{report}");
    assert_eq!(
        om.order(&id("bt-BTCUSDT-000001-s2")).unwrap().request.qty,
        dec!(0.09199)
    );
    assert!(report
        .to_string()
        .contains("0.09218 in the journal, cut to 0.09199 at the venue"));
}

/// Risk marks its copy of the account between the manager's reports: the dust must be in it,
/// or the equity curve would depend on which of the two last valued the account.
#[test]
fn risks_marked_view_counts_the_dust_as_the_manager_does() {
    let (mut om, entry) = entered_paying_in_btc();
    cut_last_tranche(&mut om, entry);
    take_first_profit(&mut om);
    // Half sold; the rest marked at 105 by both.
    let mut view = stage::view(&om, Timestamp(2));
    assert!(view.mark(&btc(), dec!(105), Timestamp(3)));
    let candle = Candle {
        symbol: btc(),
        open_time: Timestamp(0),
        interval: crate::model::Interval::HOUR,
        open: dec!(105),
        high: dec!(105),
        low: dec!(105),
        close: dec!(105),
        volume: dec!(1),
    };
    om.on_candle(&candle, None);
    assert_eq!(view.snapshot.equity, om.snapshot(Timestamp(3)).equity);
    stop_out_the_rest(&mut om);
    assert!(om.dust_value() > Decimal::ZERO);
    assert_eq!(
        stage::view(&om, Timestamp(4)).snapshot.equity,
        om.equity_point(Timestamp(4)).equity
    );
    // The venue cancelled each filled exit's partner; then a new position beside the dust,
    // marked by both.
    for leg in ["-s1", "-t2"] {
        om.on_execution(&ExecutionReport::Cancelled {
            id: id(&format!("{entry}{leg}")),
            ts: Timestamp(4),
        });
    }
    open(&mut om);
    om.on_execution(&fill(
        4,
        "bt-BTCUSDT-000002",
        Side::Buy,
        dec!(0.18436),
        dec!(100),
        FeeSource::Quote,
    ));
    let mut view = stage::view(&om, Timestamp(5));
    assert!(view.mark(&btc(), dec!(107), Timestamp(6)));
    om.on_candle(
        &Candle {
            close: dec!(107),
            high: dec!(107),
            ..candle
        },
        None,
    );
    assert_eq!(view.snapshot.equity, om.snapshot(Timestamp(6)).equity);
}
