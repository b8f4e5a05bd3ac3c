//! The user data stream events the venue queues as it changes orders.

use super::*;
use keel_binance::wire::user::{ExecutionReportEvent, ExecutionType, UserEvent};

/// The execution reports among `events`.
fn reports(events: &[UserEvent]) -> Vec<&ExecutionReportEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            UserEvent::ExecutionReport(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

/// The balances the `outboundAccountPosition` among `events` carries, by asset.
fn positions(events: &[UserEvent]) -> Vec<(String, Decimal, Decimal)> {
    let mut all = events.iter().filter_map(|e| match e {
        UserEvent::AccountPosition(p) => Some(p),
        _ => None,
    });
    let position = all.next().expect("an account position");
    assert!(all.next().is_none(), "one account position per batch");
    position
        .balances
        .iter()
        .map(|b| (b.asset.clone(), b.free, b.locked))
        .collect()
}

fn sell_oco(venue: &mut Venue) -> i64 {
    let oco = NewOco {
        symbol: "BTCUSDT".into(),
        qty: dec!(1),
        list_client_order_id: "list".into(),
        above_price: dec!(105),
        above_client_order_id: "above".into(),
        below_stop_price: dec!(95),
        below_client_order_id: "below".into(),
    };
    venue.place_oco(oco, 7).unwrap()
}

/// A venue holding 102 USDT and 1 BTC (already published), then bars opening at `opens`.
fn with_btc(opens: &[Decimal]) -> Venue {
    let mut v = venue(dec!(102), opens);
    v.state.balances.insert(
        "BTC".into(),
        Holding {
            free: dec!(1),
            locked: Decimal::ZERO,
        },
    );
    v.take_events(0);
    v
}

#[test]
fn a_placement_reports_new_then_the_locked_balance() {
    let mut v = venue(dec!(200), &[dec!(100)]);
    let id = buy(&mut v, "b", dec!(1)).unwrap();
    assert_eq!(v.outbox.pending().len(), 1);
    let events = v.take_events(9);
    let new = reports(&events);
    assert_eq!(new.len(), 1);
    let r = new[0];
    assert_eq!(
        (
            r.execution_type,
            r.status,
            r.order_id,
            r.client_order_id.as_str()
        ),
        (ExecutionType::New, OrderState::New, id, "b")
    );
    assert_eq!(
        (r.orig_qty, r.cum_qty, r.last_qty),
        (dec!(1), dec!(0), dec!(0))
    );
    assert_eq!((r.trade_id, r.commission_asset.clone()), (-1, None));
    assert_eq!((r.order_list_id, r.orig_client_order_id.as_str()), (-1, ""));
    assert!(matches!(events.last(), Some(UserEvent::AccountPosition(p)) if p.event_time == 9));
    assert_eq!(
        positions(&events),
        vec![("USDT".into(), dec!(98), dec!(102))]
    );
    assert!(
        v.take_events(10).is_empty(),
        "drained, and nothing changed since"
    );
}

#[test]
fn a_fill_at_a_step_reports_the_trade_as_my_trades_records_it() {
    let mut v = venue(dec!(200), &[dec!(110)]);
    let id = buy(&mut v, "b", dec!(1)).unwrap();
    v.take_events(0);
    v.step(1).unwrap();
    let events = v.take_events(1);
    let trades = reports(&events);
    assert_eq!(trades.len(), 1);
    let (r, trade) = (trades[0], &v.state.trades[0]);
    assert_eq!(
        (r.execution_type, r.status, r.order_id),
        (ExecutionType::Trade, OrderState::Filled, id)
    );
    assert_eq!(r.trade_id, trade.id as i64);
    assert_eq!((r.last_qty, r.last_price), (trade.qty, trade.price));
    assert_eq!(
        (r.commission, r.commission_asset.as_deref()),
        (trade.commission, Some(trade.commission_asset.as_str()))
    );
    assert_eq!((r.cum_qty, r.cum_quote_qty), (dec!(1), trade.quote_qty));
    assert_eq!(
        (r.transaction_time, r.is_maker),
        (trade.time, trade.is_maker)
    );
    assert_eq!(
        positions(&events),
        vec![
            ("BTC".into(), dec!(0.999), dec!(0)),
            ("USDT".into(), dec!(200) - dec!(110.055), dec!(0)),
        ]
    );
}

#[test]
fn an_oco_leg_filling_reports_its_trade_then_the_other_leg_canceled() {
    let mut v = with_btc(&[dec!(110)]);
    let list = sell_oco(&mut v);
    let placed = v.take_events(1);
    let new: Vec<_> = reports(&placed)
        .iter()
        .map(|r| (r.execution_type, r.client_order_id.clone(), r.order_list_id))
        .collect();
    assert_eq!(
        new,
        vec![
            (ExecutionType::New, "above".to_string(), list),
            (ExecutionType::New, "below".to_string(), list),
        ]
    );
    v.step(2).unwrap();
    let events = v.take_events(2);
    let done: Vec<_> = reports(&events)
        .iter()
        .map(|r| {
            (
                r.execution_type,
                r.status,
                r.client_order_id.clone(),
                r.orig_client_order_id.clone(),
            )
        })
        .collect();
    assert_eq!(
        done,
        vec![
            (
                ExecutionType::Trade,
                OrderState::Filled,
                "above".into(),
                String::new()
            ),
            (
                ExecutionType::Canceled,
                OrderState::Canceled,
                "below".into(),
                String::new()
            ),
        ]
    );
    assert_eq!(reports(&events)[0].trade_id, v.state.trades[0].id as i64);
}

#[test]
fn a_user_cancel_of_a_list_reports_both_legs_canceled_with_their_ids() {
    let mut v = with_btc(&[dec!(100)]);
    sell_oco(&mut v);
    let below = v.state.last_order_id;
    v.take_events(1);
    v.cancel(below, 2).unwrap();
    let events = v.take_events(2);
    let done: Vec<_> = reports(&events)
        .iter()
        .map(|r| {
            (
                r.execution_type,
                r.client_order_id.clone(),
                r.orig_client_order_id.clone(),
            )
        })
        .collect();
    assert_eq!(
        done,
        vec![
            (ExecutionType::Canceled, "above".into(), "above".into()),
            (ExecutionType::Canceled, "below".into(), "below".into()),
        ]
    );
    assert_eq!(positions(&events), vec![("BTC".into(), dec!(1), dec!(0))]);
}

#[test]
fn an_expiry_reports_expired_and_the_freed_balance() {
    let mut v = venue(dec!(102), &[dec!(110)]);
    let id = buy(&mut v, "b", dec!(1)).unwrap();
    v.take_events(0);
    v.step(1).unwrap();
    let events = v.take_events(1);
    let r = reports(&events);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (
            r[0].execution_type,
            r[0].status,
            r[0].order_id,
            r[0].trade_id
        ),
        (ExecutionType::Expired, OrderState::Expired, id, -1)
    );
    assert_eq!(
        positions(&events),
        vec![("USDT".into(), dec!(102), dec!(0))]
    );
}
