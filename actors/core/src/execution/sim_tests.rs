//! The venue alone: acceptance, rejection, the fill model bar by bar, OTO and OCO.

use super::*;
use crate::model::{Interval, OrderPurpose, Side};
use rust_decimal_macros::dec;

const H: i64 = 3_600_000;

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

fn id(text: &str) -> ClientOrderId {
    ClientOrderId::new(text).unwrap()
}

fn order(name: &str, side: Side, qty: Decimal, kind: OrderKind) -> OrderRequest {
    OrderRequest {
        client_order_id: id(name),
        symbol: btc(),
        side,
        qty,
        kind,
        purpose: OrderPurpose::Entry,
        oco_group: None,
        attached: vec![],
        created: Timestamp(H),
    }
}

fn exit(name: &str, kind: OrderKind, group: u8) -> OrderRequest {
    OrderRequest {
        oco_group: Some(group),
        ..order(name, Side::Sell, dec!(1), kind)
    }
}

/// A buy of 1 with a stop at 95 and a take-profit at 110 in one OCO group.
fn bracket() -> OrderRequest {
    OrderRequest {
        attached: vec![
            exit("e-s1", OrderKind::Stop { trigger: dec!(95) }, 1),
            exit("e-t1", OrderKind::Limit { price: dec!(110) }, 1),
        ],
        ..order("e", Side::Buy, dec!(1), OrderKind::Market)
    }
}

/// The bar opening at `n` hours.
fn bar(n: i64, open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> Candle {
    Candle {
        symbol: btc(),
        open_time: Timestamp(n * H),
        interval: Interval::HOUR,
        open,
        high,
        low,
        close,
        volume: dec!(10),
    }
}

fn venue() -> SimExchange {
    SimExchange::new(FillConfig::default())
}

fn fills(reports: &[ExecutionReport]) -> Vec<(&str, Decimal, Decimal, Timestamp)> {
    reports
        .iter()
        .filter_map(|r| match r {
            ExecutionReport::Fill(f) => Some((f.client_order_id.as_str(), f.price, f.fee, f.ts)),
            _ => None,
        })
        .collect()
}

fn cancelled(reports: &[ExecutionReport]) -> Vec<&str> {
    reports
        .iter()
        .filter_map(|r| match r {
            ExecutionReport::Cancelled { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect()
}

fn rejection(reports: &[ExecutionReport]) -> Option<&str> {
    match reports {
        [ExecutionReport::Rejected { reason, .. }] => Some(reason),
        _ => None,
    }
}

#[test]
fn accepts_the_order_and_its_children_which_wait_inactive() {
    let mut ex = venue();
    let reports = ex.submit(bracket());
    let accepted: Vec<_> = reports
        .iter()
        .map(|r| match r {
            ExecutionReport::Accepted { id, ts } => (id.as_str(), *ts),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        accepted,
        [
            ("e", Timestamp(H)),
            ("e-s1", Timestamp(H)),
            ("e-t1", Timestamp(H))
        ]
    );
    assert_eq!(ex.is_active(&id("e")), Some(true));
    assert_eq!(ex.is_active(&id("e-s1")), Some(false));
    assert_eq!(ex.open_orders(&btc()).count(), 3);
    assert!(ex.open_orders(&btc()).all(|o| o.attached.is_empty()));
}

#[test]
fn rejects_bad_quantities_prices_and_duplicate_ids() {
    let mut ex = venue();
    let zero = order("z", Side::Buy, dec!(0), OrderKind::Market);
    assert_eq!(rejection(&ex.submit(zero)), Some("Invalid quantity."));
    let limit = order("l", Side::Buy, dec!(1), OrderKind::Limit { price: dec!(0) });
    assert_eq!(rejection(&ex.submit(limit)), Some("Invalid price."));
    let mut bad_child = bracket();
    bad_child.attached[0].kind = OrderKind::Stop { trigger: dec!(-1) };
    assert_eq!(
        rejection(&ex.submit(bad_child)),
        Some("Invalid stop price.")
    );
    assert_eq!(
        ex.open_orders(&btc()).count(),
        0,
        "a rejected request leaves nothing behind"
    );

    assert_eq!(ex.submit(bracket()).len(), 3);
    assert_eq!(rejection(&ex.submit(bracket())), Some(DUPLICATE_ORDER));
    let reuses_child_id = order("e-t1", Side::Buy, dec!(1), OrderKind::Market);
    assert_eq!(
        rejection(&ex.submit(reuses_child_id)),
        Some(DUPLICATE_ORDER)
    );
}

#[test]
fn market_order_fills_at_the_next_open_with_slippage_and_a_bps_fee() {
    let mut ex = venue();
    ex.submit(order("b", Side::Buy, dec!(2), OrderKind::Market));
    // The bar the decision was made on (it opened before the order existed) fills nothing.
    assert!(ex
        .on_candle(&bar(0, dec!(99), dec!(101), dec!(98), dec!(100)))
        .is_empty());
    let reports = ex.on_candle(&bar(1, dec!(100), dec!(101), dec!(99), dec!(100)));
    // 100 × 1.0005 = 100.05; fee = 2 × 100.05 × 10 bps = 0.2001.
    assert_eq!(
        fills(&reports),
        [("b", dec!(100.05), dec!(0.2001), Timestamp(H))]
    );
    ex.submit(OrderRequest {
        created: Timestamp(2 * H),
        ..order("s", Side::Sell, dec!(2), OrderKind::Market)
    });
    let reports = ex.on_candle(&bar(2, dec!(110), dec!(111), dec!(109), dec!(110)));
    assert_eq!(
        fills(&reports),
        [("s", dec!(109.945), dec!(0.219890), Timestamp(2 * H))]
    );
    assert_eq!(ex.open_orders(&btc()).count(), 0);
}

#[test]
fn a_market_buy_its_cash_does_not_cover_expires_with_its_children() {
    // The bracket at an open of 100 costs 100.05 + 0.10005 fee = 100.15005.
    let mut ex = venue().with_cash(dec!(100.15005));
    ex.submit(bracket());
    let reports = ex.on_candle(&bar(1, dec!(100), dec!(101), dec!(99), dec!(100)));
    assert_eq!(fills(&reports)[0].0, "e", "cash equal to the cost fills");
    assert_eq!(ex.cash(), Some(dec!(0)));

    let mut ex = venue().with_cash(dec!(100.15004));
    ex.submit(bracket());
    let reports = ex.on_candle(&bar(1, dec!(100), dec!(111), dec!(94), dec!(100)));
    assert!(fills(&reports).is_empty(), "{reports:?}");
    assert!(
        matches!(&reports[0], ExecutionReport::Expired { id, ts } if id.as_str() == "e" && *ts == Timestamp(H)),
        "{reports:?}"
    );
    assert_eq!(cancelled(&reports), ["e-s1", "e-t1"]);
    assert_eq!(ex.open_orders(&btc()).count(), 0);
    assert_eq!(ex.cash(), Some(dec!(100.15004)), "nothing was spent");
    assert!(
        ex.query(&id("e"))
            .is_some_and(|o| o.status == OrderStatus::Expired),
        "the venue answers for the expired order"
    );
}

#[test]
fn fills_settle_against_the_cash_the_venue_holds() {
    let mut ex = venue().with_cash(dec!(1000));
    ex.submit(order("b", Side::Buy, dec!(2), OrderKind::Market));
    ex.on_candle(&bar(1, dec!(100), dec!(101), dec!(99), dec!(100)));
    // 2 × 100.05 + 0.2001 fee.
    assert_eq!(ex.cash(), Some(dec!(799.6999)));
    ex.submit(OrderRequest {
        created: Timestamp(2 * H),
        ..order("s", Side::Sell, dec!(2), OrderKind::Market)
    });
    ex.on_candle(&bar(2, dec!(110), dec!(111), dec!(109), dec!(110)));
    // 2 × 109.945 − 0.21989 fee.
    assert_eq!(ex.cash(), Some(dec!(1019.37001)));
    let restored = SimExchange::from_state(FillConfig::default(), ex.to_state()).unwrap();
    assert_eq!(restored.cash(), ex.cash(), "the cash survives a restart");
}

#[test]
fn children_of_a_market_fill_work_on_the_same_bar_and_the_stop_wins() {
    let mut ex = venue();
    ex.submit(bracket());
    // Entry at the open, then both the stop (95) and the take-profit (110) are inside the bar.
    let reports = ex.on_candle(&bar(1, dec!(100), dec!(111), dec!(94), dec!(100)));
    let close = Timestamp(2 * H);
    assert_eq!(
        fills(&reports),
        [
            ("e", dec!(100.05), dec!(0.10005), Timestamp(H)),
            // 95 × 0.9995 = 94.9525, filled at the bar's close time.
            ("e-s1", dec!(94.9525), dec!(0.09495250), close),
        ]
    );
    assert_eq!(cancelled(&reports), ["e-t1"]);
    assert_eq!(ex.open_orders(&btc()).count(), 0);
}

#[test]
fn a_bar_gapping_below_the_stop_fills_at_its_open() {
    let mut ex = venue();
    ex.submit(bracket());
    ex.on_candle(&bar(1, dec!(100), dec!(101), dec!(99), dec!(100)));
    let reports = ex.on_candle(&bar(2, dec!(90), dec!(92), dec!(88), dec!(91)));
    // min(open 90, trigger 95) = 90, less 5 bps slippage.
    assert_eq!(fills(&reports)[0].0, "e-s1");
    assert_eq!(fills(&reports)[0].1, dec!(89.955));
    assert_eq!(cancelled(&reports), ["e-t1"]);
}

#[test]
fn take_profit_needs_the_high_to_trade_through_and_fills_at_its_limit() {
    let mut ex = venue();
    ex.submit(bracket());
    ex.on_candle(&bar(1, dec!(100), dec!(101), dec!(99), dec!(100)));
    assert!(ex
        .on_candle(&bar(2, dec!(105), dec!(110), dec!(104), dec!(108)))
        .is_empty());
    let reports = ex.on_candle(&bar(3, dec!(108), dec!(110.5), dec!(107), dec!(109)));
    assert_eq!(
        fills(&reports),
        [("e-t1", dec!(110), dec!(0.110), Timestamp(4 * H))]
    );
    assert_eq!(cancelled(&reports), ["e-s1"]);
}

#[test]
fn children_of_an_intrabar_fill_wait_for_the_next_bar() {
    let mut ex = venue();
    let limit_entry = OrderRequest {
        attached: vec![exit("l-s1", OrderKind::Stop { trigger: dec!(95) }, 1)],
        ..order(
            "l",
            Side::Buy,
            dec!(1),
            OrderKind::Limit { price: dec!(98) },
        )
    };
    ex.submit(limit_entry);
    // The limit buy fills intrabar; the same bar also reaches 94, but the stop is not working yet.
    let reports = ex.on_candle(&bar(1, dec!(100), dec!(101), dec!(94), dec!(96)));
    assert_eq!(
        fills(&reports),
        [("l", dec!(98), dec!(0.098), Timestamp(2 * H))]
    );
    assert_eq!(ex.is_active(&id("l-s1")), Some(true));
    let reports = ex.on_candle(&bar(2, dec!(96), dec!(97), dec!(94), dec!(95)));
    assert_eq!(fills(&reports)[0].0, "l-s1");
}

#[test]
fn cancelling_a_parent_drops_its_children_and_unknown_ids_are_rejected() {
    let mut ex = venue();
    ex.submit(bracket());
    let reports = ex.cancel(&id("e"), Timestamp(2 * H));
    assert_eq!(cancelled(&reports), ["e", "e-s1", "e-t1"]);
    assert_eq!(ex.open_orders(&btc()).count(), 0);
    assert_eq!(
        rejection(&ex.cancel(&id("e"), Timestamp(2 * H))),
        Some(UNKNOWN_ORDER)
    );
    // Nothing left to fill.
    assert!(ex
        .on_candle(&bar(1, dec!(100), dec!(120), dec!(80), dec!(100)))
        .is_empty());
}

#[test]
fn modify_stop_moves_inactive_and_working_stops_only() {
    let mut ex = venue();
    ex.submit(bracket());
    assert!(ex
        .modify_stop(&id("e-s1"), dec!(97), Timestamp(H))
        .is_empty());
    ex.on_candle(&bar(1, dec!(100), dec!(101), dec!(99), dec!(100)));
    assert!(ex
        .modify_stop(&id("e-s1"), dec!(99.5), Timestamp(2 * H))
        .is_empty());
    let stop = ex
        .open_orders(&btc())
        .find(|o| o.client_order_id == id("e-s1"))
        .unwrap();
    assert_eq!(
        stop.kind,
        OrderKind::Stop {
            trigger: dec!(99.5)
        }
    );
    let not_a_stop = ex.modify_stop(&id("e-t1"), dec!(99), Timestamp(2 * H));
    assert_eq!(rejection(&not_a_stop), Some("Order is not a stop order."));
    assert_eq!(
        rejection(&ex.modify_stop(&id("zz"), dec!(99), Timestamp(2 * H))),
        Some(UNKNOWN_ORDER)
    );
    assert_eq!(
        rejection(&ex.modify_stop(&id("e-s1"), dec!(0), Timestamp(2 * H))),
        Some("Invalid stop price.")
    );
}

#[test]
fn trade_ids_are_sequential_and_other_symbols_are_untouched() {
    let mut ex = venue();
    ex.submit(order("a", Side::Buy, dec!(1), OrderKind::Market));
    ex.submit(order("b", Side::Buy, dec!(1), OrderKind::Market));
    let mut eth_bar = bar(1, dec!(100), dec!(101), dec!(99), dec!(100));
    eth_bar.symbol = Symbol::parse("ETHUSDT").unwrap();
    assert!(ex.on_candle(&eth_bar).is_empty());
    let ids: Vec<_> = ex
        .on_candle(&bar(1, dec!(100), dec!(101), dec!(99), dec!(100)))
        .iter()
        .filter_map(|r| match r {
            ExecutionReport::Fill(f) => Some(f.trade_id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [TradeId(1), TradeId(2)]);
}

#[test]
fn an_oco_pair_of_top_level_orders_cancels_the_other_leg_and_the_stop_wins_in_one_bar() {
    let list = id("list-1");
    let legs = |n: &str| {
        [
            order(
                &format!("{n}-tp"),
                Side::Sell,
                dec!(1),
                OrderKind::Limit { price: dec!(110) },
            ),
            order(
                &format!("{n}-sl"),
                Side::Sell,
                dec!(1),
                OrderKind::Stop { trigger: dec!(95) },
            ),
        ]
    };
    let mut ex = venue();
    let accepted = ex.submit_oco(&list, legs("a"));
    assert_eq!(accepted.len(), 2);
    assert_eq!(ex.is_active(&id("a-tp")), Some(true));
    assert_eq!(ex.is_active(&id("a-sl")), Some(true));
    // A bar through both: the stop wins (at the trigger, less slippage), the limit is cancelled.
    let reports = ex.on_candle(&bar(1, dec!(100), dec!(120), dec!(90), dec!(100)));
    assert_eq!(
        fills(&reports),
        [("a-sl", dec!(94.9525), dec!(0.0949525), Timestamp(2 * H))]
    );
    assert_eq!(cancelled(&reports), ["a-tp"]);
    assert_eq!(ex.open_orders(&btc()).count(), 0);

    // The take-profit alone: it fills and the stop is cancelled.
    ex.submit_oco(
        &id("list-2"),
        legs("b").map(|o| OrderRequest {
            created: Timestamp(2 * H),
            ..o
        }),
    );
    let reports = ex.on_candle(&bar(2, dec!(100), dec!(111), dec!(99), dec!(100)));
    assert_eq!(fills(&reports)[0].0, "b-tp");
    assert_eq!(cancelled(&reports), ["b-sl"]);

    // A leg whose id is open, or two legs with one id, refuse the whole list.
    ex.submit(order(
        "open",
        Side::Sell,
        dec!(1),
        OrderKind::Limit { price: dec!(200) },
    ));
    let [tp, _] = legs("c");
    let clash = order(
        "open",
        Side::Sell,
        dec!(1),
        OrderKind::Stop { trigger: dec!(90) },
    );
    let refused = ex.submit_oco(&id("list-3"), [tp.clone(), clash]);
    assert_eq!(rejection(&refused), Some(DUPLICATE_ORDER));
    assert_eq!(
        rejection(&ex.submit_oco(&id("list-4"), [tp.clone(), tp])),
        Some(DUPLICATE_ORDER)
    );
    assert_eq!(ex.open_orders(&btc()).count(), 1);
}
