//! The exit plan of a new position: the market entry with its stop-loss and take-profit
//! children, split into tranches.

use rust_decimal::Decimal;

use super::ids::child_id;
use crate::model::{
    tranches, ClientOrderId, OrderKind, OrderPurpose, OrderRequest, Side, Symbol, TakeProfit,
    Timestamp,
};

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
