//! Applying fills: exactly once per trade id, to the order, the cash, the position and the
//! round trip; break-even stops after a take-profit; the closed trade when flat again.

use rust_decimal::Decimal;

use super::{audit, OmUpdate, OrderManager, Tracked};
use crate::model::{Fill, OrderKind, OrderPurpose, Position, Side, Timestamp};
use crate::order_manager::book::{exit_reason, Dust, RoundTrip, SymbolBook};
use crate::order_manager::OrderCommand;

impl OrderManager {
    /// Applies a fill once: a trade id seen before changes nothing.
    pub(super) fn on_fill(&mut self, fill: &Fill) -> OmUpdate {
        let mut update = OmUpdate::default();
        if !self.seen_trades.insert(fill.trade_id) {
            return update;
        }
        let Some(&i) = self.index.get(&fill.client_order_id) else {
            self.anomaly(format!(
                "fill {} for unknown order {} ignored",
                fill.trade_id.0, fill.client_order_id
            ));
            return update;
        };
        let order = &mut self.tracked[i].order;
        let purpose = order.request.purpose;
        let before = order.status;
        audit::fill(fill);
        // The venue executed it: the money moved even if the state machine objects.
        if let Err(e) = order.apply_fill(fill) {
            self.anomaly(format!("{e} on fill {} (booked anyway)", fill.trade_id.0));
        }
        let order = &self.tracked[i].order;
        if order.status != before {
            audit::order(order, fill.ts, None);
        }
        if self.tracked[i].order.status.is_terminal() {
            self.forget_open(i);
        }
        self.fees_paid += fill.fee;
        match fill.side {
            Side::Buy => self.book_buy(fill),
            Side::Sell => self.book_sell(fill, i, purpose, &mut update),
        }
        update
    }

    /// Pays for a buy and adds what it received to the position (opening it, and its round
    /// trip, if flat): the quantity less a fee withheld from the base asset, which the cash
    /// then does not pay.
    fn book_buy(&mut self, fill: &Fill) {
        let notional = fill.notional();
        self.cash -= notional + fill.quote_fee();
        let book = self.books.entry(fill.symbol.clone()).or_default();
        let position = match &mut book.position {
            Some(position) => position,
            None => {
                book.trip = RoundTrip {
                    entry_time: fill.ts,
                    trailing_active: self.cfg.trailing.activate_after_level == 0,
                    ..RoundTrip::default()
                };
                book.position.insert(Position {
                    symbol: fill.symbol.clone(),
                    qty: Decimal::ZERO,
                    avg_entry: Decimal::ZERO,
                    last_price: fill.price,
                    opened_at: fill.ts,
                })
            }
        };
        let received = fill.qty - fill.base_fee();
        let qty = position.qty + received;
        if qty > Decimal::ZERO {
            position.avg_entry = (position.avg_entry * position.qty + fill.price * received) / qty;
        }
        position.qty = qty;
        book.trip.bought += fill.qty;
        book.trip.buy_notional += notional;
        book.trip.fees += fill.fee;
        book.trip.fees_withheld += withheld(fill);
    }

    /// Credits a sell and reduces the position; closes the round trip when it is flat, or
    /// moves the remaining stops to break-even after a take-profit.
    fn book_sell(
        &mut self,
        fill: &Fill,
        order: usize,
        purpose: OrderPurpose,
        update: &mut OmUpdate,
    ) {
        let notional = fill.notional();
        self.cash += notional - fill.quote_fee();
        let lot = self.cfg.lot;
        let book = self.books.entry(fill.symbol.clone()).or_default();
        let Some(position) = book.position.as_mut() else {
            let line = format!(
                "sell fill {} of {} without a position",
                fill.trade_id.0, fill.symbol
            );
            self.anomaly(line);
            return;
        };
        let given = fill.qty + fill.base_fee();
        if given > position.qty {
            let line = format!(
                "sell fill {} of {} exceeds the {} held",
                fill.trade_id.0, given, position.qty
            );
            self.anomalies.push(line);
        }
        position.qty = (position.qty - given).max(Decimal::ZERO);
        let trip = &mut book.trip;
        trip.sold += fill.qty;
        trip.sell_notional += notional;
        trip.fees += fill.fee;
        trip.fees_withheld += withheld(fill);
        trip.last_exit = Some(exit_reason(purpose));

        // Every sell is whole lots, so less than a lot left means no exit is left: dust.
        if position.qty < lot || position.qty.is_zero() {
            let dust = Dust {
                qty: position.qty,
                value: position.qty * fill.price,
            };
            let closed = trip.close(&fill.symbol, fill.ts, dust.value);
            book.dust.qty += dust.qty;
            book.dust.value += dust.value;
            book.position = None;
            book.trip = RoundTrip::default();
            // Sells left open would sell what is no longer held; the filled order's
            // one-cancels-other siblings are already being cancelled by the venue.
            for &j in book.open_orders.iter().rev() {
                let other = &self.tracked[j];
                if other.order.request.side == Side::Sell
                    && !is_oco_sibling(&self.tracked, j, order)
                {
                    update.commands.push(OrderCommand::Cancel {
                        id: other.order.id().clone(),
                    });
                }
            }
            audit::trade_closed(&closed);
            self.closed.push(closed.clone());
            update.closed = Some(closed);
            return;
        }

        let trailing = &self.cfg.trailing;
        if let OrderPurpose::TakeProfit { level } = purpose {
            if trailing.enabled && level >= trailing.activate_after_level {
                trip.trailing_active = true;
                let break_even = position.avg_entry;
                raise_stops(
                    book,
                    &mut self.tracked,
                    break_even,
                    Some(order),
                    fill.ts,
                    &mut update.commands,
                );
            }
        }
    }
}

/// Raises every open stop of `book` whose trigger is below `to` (except the one-cancels-other
/// siblings of `filled`, which the venue is cancelling), recording the new trigger and
/// emitting a `ModifyStop` for each (and recording the move at `ts` in the audit trail).
pub(super) fn raise_stops(
    book: &SymbolBook,
    tracked: &mut [Tracked],
    to: Decimal,
    filled: Option<usize>,
    ts: Timestamp,
    commands: &mut Vec<OrderCommand>,
) {
    for &j in &book.open_orders {
        if filled.is_some_and(|i| is_oco_sibling(tracked, j, i)) {
            continue;
        }
        let order = &mut tracked[j].order;
        if order.request.purpose != OrderPurpose::StopLoss {
            continue;
        }
        if let OrderKind::Stop { trigger } = &mut order.request.kind {
            if *trigger < to {
                *trigger = to;
                audit::stop_moved(&order.request.symbol, order.id(), to, ts);
                commands.push(OrderCommand::ModifyStop {
                    id: order.id().clone(),
                    trigger: to,
                });
            }
        }
    }
}

/// The quote value of a fill's fee when it was withheld from the base asset (else 0).
fn withheld(fill: &Fill) -> Decimal {
    if fill.base_fee().is_zero() {
        Decimal::ZERO
    } else {
        fill.fee
    }
}

/// Whether orders `a` and `b` are different children of one parent in one OCO group.
fn is_oco_sibling(tracked: &[Tracked], a: usize, b: usize) -> bool {
    let (x, y) = (&tracked[a], &tracked[b]);
    a != b
        && x.parent.is_some()
        && x.parent == y.parent
        && x.order.request.oco_group.is_some()
        && x.order.request.oco_group == y.order.request.oco_group
}
