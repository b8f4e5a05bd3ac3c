//! The order manager's entries in the audit trail: order transitions, fills, stop moves and
//! closed round trips, recorded where the core applies them (so a repeated report, ignored
//! by the core, is not recorded twice).

use rust_decimal::Decimal;

use crate::audit;
use crate::model::{
    ClientOrderId, ClosedTrade, DomainEvent, Fill, Order, OrderRecord, Symbol, Timestamp,
};

/// `order` reached its current status at `ts` (with the venue's `reason` for a rejection).
pub(super) fn order(order: &Order, ts: Timestamp, reason: Option<&str>) {
    audit::record(|| {
        let request = &order.request;
        DomainEvent::Order(OrderRecord {
            ts,
            symbol: request.symbol.clone(),
            id: request.client_order_id.clone(),
            status: order.status,
            side: request.side,
            qty: request.qty,
            kind: request.kind,
            purpose: request.purpose,
            reason: reason.map(str::to_string),
        })
    });
}

/// `fill` was applied.
pub(super) fn fill(fill: &Fill) {
    audit::record(|| DomainEvent::Fill {
        ts: fill.ts,
        symbol: fill.symbol.clone(),
        id: fill.client_order_id.clone(),
        trade_id: fill.trade_id,
        side: fill.side,
        qty: fill.qty,
        price: fill.price,
        fee: fill.fee,
    });
}

/// The stop `id` of `symbol` was raised to `trigger` at `ts`.
pub(super) fn stop_moved(symbol: &Symbol, id: &ClientOrderId, trigger: Decimal, ts: Timestamp) {
    audit::record(|| DomainEvent::StopMoved {
        ts,
        symbol: symbol.clone(),
        id: id.clone(),
        trigger,
    });
}

/// A round trip closed.
pub(super) fn trade_closed(trade: &ClosedTrade) {
    audit::record(|| DomainEvent::TradeClosed {
        ts: trade.exit_time,
        symbol: trade.symbol.clone(),
        entry_time: trade.entry_time,
        qty: trade.qty,
        entry_price: trade.entry_price,
        exit_price: trade.exit_price,
        pnl: trade.pnl,
        fees: trade.fees,
        reason: trade.exit_reason,
    });
}
