//! The venue's book-keeping on its own: expiries, locks, refusals.

use super::*;
use keel_binance::SymbolFilters;
use keel_model::{Interval, Symbol};
use rust_decimal_macros::dec;

const H: i64 = 3_600_000;

fn bar(hour: i64, open: Decimal, close: Decimal) -> Candle {
    Candle {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        open_time: Timestamp(hour * H),
        interval: Interval::HOUR,
        open,
        high: open.max(close),
        low: open.min(close),
        close,
        volume: dec!(1),
    }
}

/// A venue holding `usdt`, one bar of history closing at 100, then bars opening at `opens`.
fn venue(usdt: Decimal, opens: &[Decimal]) -> Venue {
    let mut candles = vec![bar(0, dec!(100), dec!(100))];
    for (i, open) in opens.iter().enumerate() {
        candles.push(bar(i as i64 + 1, *open, *open));
    }
    let market = Market {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        base: "BTC".into(),
        quote: "USDT".into(),
        interval: Interval::HOUR,
        interval_name: "1h".into(),
        filters: SymbolFilters {
            tick_size: dec!(0.01),
            step_size: dec!(0.001),
            min_qty: dec!(0.001),
            max_qty: dec!(1000),
            min_notional: dec!(1),
        },
        candles,
    };
    let mut state = VenueState {
        cursor: 1,
        ..VenueState::default()
    };
    state.balances.insert(
        "USDT".into(),
        Holding {
            free: usdt,
            locked: Decimal::ZERO,
        },
    );
    Venue::new(Arc::new(vec![market]), FillConfig::default(), state).unwrap()
}

fn buy(venue: &mut Venue, id: &str, qty: Decimal) -> Result<u64, ApiErr> {
    let order = NewOrder {
        symbol: "BTCUSDT".into(),
        side: OrderSide::Buy,
        order_type: OrderType::Market,
        qty,
        price: None,
        stop_price: None,
        client_order_id: id.into(),
    };
    venue.place(order, 0)
}

#[test]
fn a_market_buy_the_account_cannot_pay_at_the_open_expires_and_frees_its_lock() {
    // Locked 1 × 100 × 1.02 = 102 of 102; the next bar gaps up to 110.
    let mut v = venue(dec!(102), &[dec!(110)]);
    let id = buy(&mut v, "b", dec!(1)).unwrap();
    assert_eq!(v.state.balances["USDT"].locked, dec!(102));
    v.step(1).unwrap();
    assert_eq!(v.state.orders[&id].status, OrderState::Expired);
    assert_eq!(
        v.state.balances["USDT"],
        Holding {
            free: dec!(102),
            locked: Decimal::ZERO
        }
    );
    assert!(v.state.trades.is_empty());
    assert_eq!(v.exchange.open_orders(&v.markets[0].symbol).count(), 0);
}

#[test]
fn a_market_buy_covered_by_free_quote_beyond_its_lock_fills() {
    // The same gap, with enough free quote beside the lock: it fills at 110 + 5 bps.
    let mut v = venue(dec!(200), &[dec!(110)]);
    let id = buy(&mut v, "b", dec!(1)).unwrap();
    v.step(1).unwrap();
    assert_eq!(v.state.orders[&id].status, OrderState::Filled);
    let cost = dec!(110.055);
    let fee = cost * dec!(0.001);
    assert_eq!(v.state.balances["USDT"].free, dec!(200) - cost - fee);
    assert_eq!(v.state.balances["USDT"].locked, Decimal::ZERO);
    assert_eq!(v.state.balances["BTC"].free, dec!(1));
    assert_eq!(v.step(1), None, "the data has run out");
}

#[test]
fn a_placement_beyond_the_free_balance_is_refused_and_locks_nothing() {
    let mut v = venue(dec!(100), &[dec!(100)]);
    let err = buy(&mut v, "b", dec!(1)).unwrap_err();
    assert_eq!(err.body.msg, codes::INSUFFICIENT_BALANCE_MSG);
    assert_eq!(v.state.balances["USDT"].free, dec!(100));
    assert!(v.state.orders.is_empty());
}
