//! The venue's book-keeping on its own: expiries, locks, refusals.

use super::*;
use crate::fees::{FeeAsset, FeePolicy};
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
    Venue::new(
        Arc::new(vec![market]),
        FillConfig::default(),
        crate::fees::FeePolicy::default(),
        state,
    )
    .unwrap()
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
fn a_market_buy_covered_by_free_quote_beyond_its_lock_fills_and_pays_its_fee_in_the_base_asset() {
    // The same gap, with enough free quote beside the lock: it fills at 110 + 5 bps, and as
    // on Binance the fee (10 bps) is taken from the 1 BTC received.
    let mut v = venue(dec!(200), &[dec!(110)]);
    let id = buy(&mut v, "b", dec!(1)).unwrap();
    v.step(1).unwrap();
    assert_eq!(v.state.orders[&id].status, OrderState::Filled);
    let cost = dec!(110.055);
    assert_eq!(v.state.balances["USDT"].free, dec!(200) - cost);
    assert_eq!(v.state.balances["USDT"].locked, Decimal::ZERO);
    assert_eq!(v.state.balances["BTC"].free, dec!(0.999));
    let trade = &v.state.trades[0];
    assert_eq!(
        (trade.commission, trade.commission_asset.as_str()),
        (dec!(0.001), "BTC")
    );
    assert_eq!(v.step(1), None, "the data has run out");
}

#[test]
fn with_fees_in_the_quote_asset_a_buy_pays_its_fee_out_of_the_cash() {
    let mut v = venue(dec!(200), &[dec!(110)]);
    v.fees = FeePolicy {
        asset: FeeAsset::Quote,
        ..FeePolicy::default()
    };
    buy(&mut v, "b", dec!(1)).unwrap();
    v.step(1).unwrap();
    let cost = dec!(110.055);
    let fee = cost * dec!(0.001);
    assert_eq!(v.state.balances["USDT"].free, dec!(200) - cost - fee);
    assert_eq!(v.state.balances["BTC"].free, dec!(1));
    assert_eq!(v.state.trades[0].commission_asset, "USDT");
}

#[test]
fn with_bnb_fees_the_bnb_balance_pays_at_a_discount_and_nothing_else_does() {
    let mut v = venue(dec!(200), &[dec!(110)]);
    v.state.balances.insert(
        "BNB".into(),
        Holding {
            free: dec!(1),
            locked: Decimal::ZERO,
        },
    );
    v.fees = FeePolicy {
        asset: FeeAsset::Bnb,
        bnb_price: dec!(300),
        ..FeePolicy::default()
    };
    buy(&mut v, "b", dec!(1)).unwrap();
    v.step(1).unwrap();
    // 110.055 × 10 bps × 75 % / 300, rounded up to 8 decimals.
    let bnb_fee = dec!(0.00027514);
    assert_eq!(v.state.balances["USDT"].free, dec!(200) - dec!(110.055));
    assert_eq!(v.state.balances["BTC"].free, dec!(1));
    assert_eq!(v.state.balances["BNB"].free, dec!(1) - bnb_fee);
    let trade = &v.state.trades[0];
    assert_eq!(
        (trade.commission, trade.commission_asset.as_str()),
        (bnb_fee, "BNB")
    );
}

#[test]
fn a_placement_beyond_the_free_balance_is_refused_and_locks_nothing() {
    let mut v = venue(dec!(100), &[dec!(100)]);
    let err = buy(&mut v, "b", dec!(1)).unwrap_err();
    assert_eq!(err.body.msg, codes::INSUFFICIENT_BALANCE_MSG);
    assert_eq!(v.state.balances["USDT"].free, dec!(100));
    assert!(v.state.orders.is_empty());
}

mod events;
