//! The exit plan of a new position: the market entry with its stop-loss and take-profit
//! children, split into tranches.

use rust_decimal::{Decimal, RoundingStrategy};

use super::ids::child_id;
use crate::model::{
    ClientOrderId, OrderKind, OrderPurpose, OrderRequest, Side, Symbol, TakeProfit, Timestamp,
};

/// One slice of the position with its own exits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tranche {
    /// Base quantity of the slice.
    pub qty: Decimal,
    /// The take-profit level (1-based) and limit price, or `None` for the remainder that only
    /// the stop protects.
    pub take_profit: Option<(u8, Decimal)>,
}

/// Fractions summing to at least `1 − FULL_TOLERANCE` cover the whole quantity, so that
/// thirds written as `0.3333` leave no dust tranche behind.
const FULL_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 4);

/// Splits `qty` over the take-profit levels: each level gets `qty × fraction`, rounded down to
/// the scale of `qty`; when the fractions sum to 1 (within 0.0001) or more the last level takes the remainder,
/// so the tranches sum exactly to `qty`; otherwise the remainder is a final tranche without a
/// take-profit. A level too small for the quantity's precision is skipped. Levels past 255
/// are ignored.
pub fn tranches(qty: Decimal, take_profits: &[TakeProfit]) -> Vec<Tranche> {
    let scale = qty.scale();
    let total: Decimal = take_profits.iter().map(|tp| tp.fraction).sum();
    let covers_all = total >= Decimal::ONE - FULL_TOLERANCE;
    let mut remaining = qty;
    let mut out = Vec::with_capacity(take_profits.len() + 1);
    for (i, tp) in take_profits.iter().enumerate().take(usize::from(u8::MAX)) {
        let last = i + 1 == take_profits.len();
        let share = if last && covers_all {
            remaining
        } else {
            (qty * tp.fraction)
                .round_dp_with_strategy(scale, RoundingStrategy::ToZero)
                .min(remaining)
        };
        if share <= Decimal::ZERO {
            continue;
        }
        let level = u8::try_from(i + 1).unwrap_or(u8::MAX);
        out.push(Tranche {
            qty: share,
            take_profit: Some((level, tp.price)),
        });
        remaining -= share;
    }
    if remaining > Decimal::ZERO {
        out.push(Tranche {
            qty: remaining,
            take_profit: None,
        });
    }
    out
}

/// A market buy of `qty` with its exits attached: for tranche `i` (1-based) a stop sell at
/// `stop` (`{id}-s{i}`) and a limit sell at the level's price (`{id}-t{i}`) in one-cancels-other
/// group `i`. Without a stop the take-profits stand alone; with neither, the buy is plain.
/// `None` when a child id would break Binance's rules.
pub fn entry_request(
    id: ClientOrderId,
    symbol: &Symbol,
    qty: Decimal,
    stop: Option<Decimal>,
    take_profits: &[TakeProfit],
    created: Timestamp,
) -> Option<OrderRequest> {
    let mut attached = Vec::new();
    for (i, tranche) in tranches(qty, take_profits).into_iter().enumerate() {
        let n = i + 1;
        let group = u8::try_from(n).ok();
        let exit = |id, kind, purpose| OrderRequest {
            client_order_id: id,
            symbol: symbol.clone(),
            side: Side::Sell,
            qty: tranche.qty,
            kind,
            purpose,
            oco_group: group,
            attached: Vec::new(),
            created,
        };
        if let Some(trigger) = stop {
            let kind = OrderKind::Stop { trigger };
            attached.push(exit(child_id(&id, 's', n)?, kind, OrderPurpose::StopLoss));
        }
        if let Some((level, price)) = tranche.take_profit {
            let kind = OrderKind::Limit { price };
            let purpose = OrderPurpose::TakeProfit { level };
            attached.push(exit(child_id(&id, 't', n)?, kind, purpose));
        }
    }
    Some(OrderRequest {
        client_order_id: id,
        symbol: symbol.clone(),
        side: Side::Buy,
        qty,
        kind: OrderKind::Market,
        purpose: OrderPurpose::Entry,
        oco_group: None,
        attached,
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn tp(price: Decimal, fraction: Decimal) -> TakeProfit {
        TakeProfit { price, fraction }
    }

    fn quantities(t: &[Tranche]) -> Vec<Decimal> {
        t.iter().map(|t| t.qty).collect()
    }

    #[test]
    fn thirds_round_down_and_the_last_takes_the_remainder() {
        let third = dec!(0.3333);
        let t = tranches(
            dec!(1.000),
            &[
                tp(dec!(110), third),
                tp(dec!(120), third),
                tp(dec!(130), third),
            ],
        );
        assert_eq!(quantities(&t), [dec!(0.333), dec!(0.333), dec!(0.334)]);
        assert_eq!(t[2].take_profit, Some((3, dec!(130))));
        let exact_thirds = Decimal::ONE / Decimal::from(3);
        let t = tranches(dec!(0.30), &[tp(dec!(110), exact_thirds); 3]);
        assert_eq!(quantities(&t), [dec!(0.10), dec!(0.10), dec!(0.10)]);
    }

    #[test]
    fn fractions_below_one_leave_a_stop_only_tranche() {
        let t = tranches(
            dec!(1.000),
            &[tp(dec!(110), dec!(0.5)), tp(dec!(120), dec!(0.25))],
        );
        assert_eq!(quantities(&t), [dec!(0.500), dec!(0.250), dec!(0.250)]);
        assert_eq!(t[2].take_profit, None);
        assert_eq!(quantities(&tranches(dec!(2), &[])), [dec!(2)]);
    }

    #[test]
    fn entry_attaches_a_stop_and_take_profit_per_tranche_in_oco_groups() {
        let id = ClientOrderId::new("bt-BTCUSDT-000001").unwrap();
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let tps = [tp(dec!(110), dec!(0.5)), tp(dec!(120), dec!(0.5))];
        let req = entry_request(id, &symbol, dec!(2), Some(dec!(95)), &tps, Timestamp(7)).unwrap();
        assert_eq!(
            (req.side, req.kind, req.qty),
            (Side::Buy, OrderKind::Market, dec!(2))
        );
        let children: Vec<_> = req
            .attached
            .iter()
            .map(|c| {
                (
                    c.client_order_id.as_str(),
                    c.kind,
                    c.purpose,
                    c.oco_group,
                    c.qty,
                )
            })
            .collect();
        let stop = OrderKind::Stop { trigger: dec!(95) };
        assert_eq!(
            children,
            [
                (
                    "bt-BTCUSDT-000001-s1",
                    stop,
                    OrderPurpose::StopLoss,
                    Some(1),
                    dec!(1)
                ),
                (
                    "bt-BTCUSDT-000001-t1",
                    OrderKind::Limit { price: dec!(110) },
                    OrderPurpose::TakeProfit { level: 1 },
                    Some(1),
                    dec!(1)
                ),
                (
                    "bt-BTCUSDT-000001-s2",
                    stop,
                    OrderPurpose::StopLoss,
                    Some(2),
                    dec!(1)
                ),
                (
                    "bt-BTCUSDT-000001-t2",
                    OrderKind::Limit { price: dec!(120) },
                    OrderPurpose::TakeProfit { level: 2 },
                    Some(2),
                    dec!(1)
                ),
            ]
        );
        assert!(req.attached.iter().all(|c| c.side == Side::Sell));
    }

    #[test]
    fn a_stop_without_take_profits_protects_everything_and_baselines_buy_plain() {
        let id = ClientOrderId::new("bt-BTCUSDT-000001").unwrap();
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let req = entry_request(
            id.clone(),
            &symbol,
            dec!(3),
            Some(dec!(90)),
            &[],
            Timestamp(0),
        )
        .unwrap();
        assert_eq!(req.attached.len(), 1);
        assert_eq!(req.attached[0].qty, dec!(3));
        assert_eq!(req.attached[0].kind, OrderKind::Stop { trigger: dec!(90) });
        let plain = entry_request(id, &symbol, dec!(3), None, &[], Timestamp(0)).unwrap();
        assert!(plain.attached.is_empty());
    }
}
