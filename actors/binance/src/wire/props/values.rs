//! One JSON value of each kind a wire field holds, as Binance writes it (decimals as strings
//! with trailing zeros now and then, integers at their extremes, enum names), beside the
//! value it must read as; and the objects, lists and optional fields they sit in.

use rust_decimal::Decimal;

use super::body::{leaf, Kind, Member, Node};
use crate::wire::*;
use keel_core::testing::json::{arbitrary, text, Json};
use keel_core::testing::Rng;

/// A decimal of any scale up to 28 and any mantissa below 2^96, written as Binance does
/// (trailing zeros now and then: `"0.00100000"`).
pub(super) fn dec(rng: &mut Rng) -> (Decimal, Node) {
    let scale = if rng.one_in(4) {
        rng.below(29) as u32
    } else {
        rng.below(9) as u32
    };
    let mantissa: i128 = match rng.below(5) {
        0 => rng.below(1000) as i128,
        1 => rng.next() as i128,
        2 => ((rng.next() as i128) << 32 | (rng.next() >> 32) as i128) & ((1 << 96) - 1),
        3 => (1 << 96) - 1 - rng.below(3) as i128,
        _ => (rng.next() % 100_000_000) as i128,
    };
    let mantissa = if rng.one_in(10) { -mantissa } else { mantissa };
    let value = Decimal::from_i128_with_scale(mantissa, scale);
    let mut text = value.to_string();
    let pad = rng.below(5).min(28 - scale as usize);
    if pad > 0 {
        if scale == 0 {
            text.push('.');
        }
        text.push_str(&"0".repeat(pad));
    }
    (value, leaf(Kind::Dec, Json::Str(text)))
}

pub(super) fn price_node(value: Decimal) -> Node {
    leaf(Kind::Dec, Json::Str(value.to_string()))
}

pub(super) fn int64(rng: &mut Rng) -> (i64, Node) {
    let v = match rng.below(4) {
        0 => *rng.pick(&[i64::MIN, i64::MAX, -1, 0, 1]),
        1 => rng.below(10_000) as i64 - 5000,
        _ => rng.next() as i64,
    };
    (v, leaf(Kind::I64, Json::Num(v.to_string())))
}

pub(super) fn uint64(rng: &mut Rng) -> (u64, Node) {
    let v = match rng.below(4) {
        0 => *rng.pick(&[u64::MAX, 0, 1]),
        1 => rng.below(10_000) as u64,
        _ => rng.next(),
    };
    (v, leaf(Kind::U64, Json::Num(v.to_string())))
}

pub(super) fn uint32(rng: &mut Rng) -> (u32, Node) {
    let v = if rng.one_in(4) {
        *rng.pick(&[u32::MAX, 0, 1])
    } else {
        rng.next() as u32
    };
    (v, leaf(Kind::U32, Json::Num(v.to_string())))
}

pub(super) fn string(rng: &mut Rng) -> (String, Node) {
    let s = if rng.one_in(2) {
        rng.pick(&["BTCUSDT", "BTC", "USDT", "TRADING", "x-abc_123"])
            .to_string()
    } else {
        text(rng, 12)
    };
    (s.clone(), leaf(Kind::Str, Json::Str(s)))
}

pub(super) fn boolean(rng: &mut Rng) -> (bool, Node) {
    let b = rng.one_in(2);
    (b, leaf(Kind::Bool, Json::Bool(b)))
}

pub(super) fn name<T: Copy>(rng: &mut Rng, all: &[T], names: &'static [&'static str]) -> (T, Node) {
    let i = rng.below(all.len());
    (all[i], leaf(Kind::Name(names), Json::Str(names[i].into())))
}

pub(super) const SIDES: &[&str] = &["BUY", "SELL"];
pub(super) fn side(rng: &mut Rng) -> (OrderSide, Node) {
    name(rng, &[OrderSide::Buy, OrderSide::Sell], SIDES)
}

pub(super) const TYPES: &[&str] = &[
    "LIMIT",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
    "LIMIT_MAKER",
];
pub(super) fn order_type(rng: &mut Rng) -> (OrderType, Node) {
    use OrderType::*;
    let all = [
        Limit,
        Market,
        StopLoss,
        StopLossLimit,
        TakeProfit,
        TakeProfitLimit,
        LimitMaker,
    ];
    name(rng, &all, TYPES)
}

pub(super) const TIFS: &[&str] = &["GTC", "IOC", "FOK"];
pub(super) fn tif(rng: &mut Rng) -> (TimeInForce, Node) {
    use TimeInForce::*;
    name(rng, &[Gtc, Ioc, Fok], TIFS)
}

pub(super) const STATES: &[&str] = &[
    "NEW",
    "PARTIALLY_FILLED",
    "FILLED",
    "CANCELED",
    "PENDING_CANCEL",
    "REJECTED",
    "EXPIRED",
    "EXPIRED_IN_MATCH",
];
pub(super) fn state(rng: &mut Rng) -> (OrderState, Node) {
    use OrderState::*;
    let all = [
        New,
        PartiallyFilled,
        Filled,
        Canceled,
        PendingCancel,
        Rejected,
        Expired,
        ExpiredInMatch,
    ];
    name(rng, &all, STATES)
}

/// An object of `fields`, with fields the wire types ignore mixed in now and then, shuffled.
pub(super) fn obj(rng: &mut Rng, fields: Vec<(&str, Node, bool)>) -> Node {
    let mut members: Vec<Member> = fields
        .into_iter()
        .map(|(key, node, required)| Member {
            key: key.into(),
            node,
            required,
        })
        .collect();
    for _ in 0..rng.below(3) {
        let key = rng.pick(&[
            "selfTradePreventionMode",
            "icebergQty",
            "permissions",
            "zz",
            "e\u{301}",
            "ORDERID",
        ]);
        if members.iter().all(|m| m.key != *key) {
            let value = arbitrary(rng, 2);
            members.push(Member {
                key: key.to_string(),
                node: leaf(Kind::Extra, value),
                required: false,
            });
        }
    }
    rng.shuffle(&mut members);
    Node::Obj(members)
}

pub(super) fn list<T>(rng: &mut Rng, item: fn(&mut Rng) -> (T, Node)) -> (Vec<T>, Vec<Node>) {
    (0..rng.below(4)).map(|_| item(rng)).unzip()
}

/// An optional field: present, absent or `null` (absent and `null` read as `None`).
pub(super) fn optional<T>(
    rng: &mut Rng,
    fields: &mut Vec<(&'static str, Node, bool)>,
    key: &'static str,
    (value, node): (T, Node),
) -> Option<T> {
    match rng.below(4) {
        0 => None,
        1 => {
            fields.push((key, leaf(Kind::Extra, Json::Null), false));
            None
        }
        _ => {
            fields.push((key, node, false));
            Some(value)
        }
    }
}
