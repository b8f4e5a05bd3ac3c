//! The account's user data stream events (`executionReport`, `outboundAccountPosition`) as
//! the venue changes its orders. They wait in a non-persisted [`Outbox`] until the state they
//! describe has been written: `App::save` drains it after a successful write and only then
//! publishes them, in the order the changes happened.

use std::collections::BTreeMap;

use keel_binance::wire::user::{
    AccountPositionEvent, ExecutionReportEvent, ExecutionType, PositionBalance, UserEvent,
};
use keel_binance::wire::MyTrade;
use rust_decimal::Decimal;

use super::Venue;
use crate::state::{Holding, OrderRecord};

/// Events of changes not yet published, and the balances as last published.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Execution reports, oldest first.
    events: Vec<UserEvent>,
    /// The balances the last published `outboundAccountPosition` (or the start) showed.
    published: BTreeMap<String, Holding>,
}

impl Outbox {
    /// An empty outbox for an account whose balances are `balances` now.
    pub fn new(balances: &BTreeMap<String, Holding>) -> Self {
        Self {
            events: Vec::new(),
            published: balances.clone(),
        }
    }

    /// The execution reports waiting, oldest first.
    pub fn pending(&self) -> &[UserEvent] {
        &self.events
    }
}

/// What happened to an order.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// Accepted (an order, or one leg of a list).
    Placed,
    /// Executed in the trade the venue recorded.
    Traded(&'a MyTrade),
    /// Cancelled on the user's request (the order itself or its list).
    UserCanceled,
    /// Cancelled by the venue (the other leg of a list that executed).
    VenueCanceled,
    /// Expired by the venue.
    Expired,
}

/// The `executionReport` of `change` to `order` (its record already updated), at `now`.
pub fn execution_report(order: &OrderRecord, change: Change<'_>, now: i64) -> ExecutionReportEvent {
    let execution_type = match change {
        Change::Placed => ExecutionType::New,
        Change::Traded(_) => ExecutionType::Trade,
        Change::UserCanceled | Change::VenueCanceled => ExecutionType::Canceled,
        Change::Expired => ExecutionType::Expired,
    };
    let trade = match change {
        Change::Traded(trade) => Some(trade),
        _ => None,
    };
    ExecutionReportEvent {
        event_time: now,
        symbol: order.symbol.clone(),
        client_order_id: order.client_order_id.clone(),
        side: order.side,
        order_type: order.order_type,
        orig_qty: order.orig_qty,
        price: order.price,
        stop_price: order.stop_price,
        order_list_id: order.order_list_id,
        orig_client_order_id: match change {
            Change::UserCanceled => order.client_order_id.clone(),
            _ => String::new(),
        },
        execution_type,
        status: order.status,
        reject_reason: "NONE".into(),
        order_id: order.order_id,
        last_qty: trade.map_or(Decimal::ZERO, |t| t.qty),
        cum_qty: order.executed_qty,
        last_price: trade.map_or(Decimal::ZERO, |t| t.price),
        commission: trade.map_or(Decimal::ZERO, |t| t.commission),
        commission_asset: trade.map(|t| t.commission_asset.clone()),
        // A trade's time is the one `myTrades` reports for it.
        transaction_time: trade.map_or(order.update_time, |t| t.time),
        trade_id: trade.map_or(-1, |t| t.id as i64),
        is_maker: trade.is_some_and(|t| t.is_maker),
        cum_quote_qty: order.cummulative_quote_qty,
    }
}

impl Venue {
    /// Queues the `executionReport` of `change` to order `id` (its record already updated).
    pub(super) fn report(&mut self, id: u64, change: Change<'_>, now: i64) {
        let Some(order) = self.state.orders.get(&id) else {
            tracing::error!(order_id = id, "no record to report a change of");
            return;
        };
        let event = execution_report(order, change, now);
        self.outbox
            .events
            .push(UserEvent::ExecutionReport(Box::new(event)));
    }

    /// Takes the queued events, then one `outboundAccountPosition` with the balances that
    /// changed since the last one (if any did), stamped `now`. The caller publishes them once
    /// the state they describe is written.
    pub fn take_events(&mut self, now: i64) -> Vec<UserEvent> {
        let mut events = std::mem::take(&mut self.outbox.events);
        let changed: Vec<PositionBalance> = self
            .state
            .balances
            .iter()
            .filter(|(asset, holding)| self.outbox.published.get(*asset) != Some(*holding))
            .map(|(asset, holding)| PositionBalance {
                asset: asset.clone(),
                free: holding.free,
                locked: holding.locked,
            })
            .collect();
        if !changed.is_empty() {
            events.push(UserEvent::AccountPosition(AccountPositionEvent {
                event_time: now,
                last_update: self.state.update_time,
                balances: changed,
            }));
            self.outbox.published = self.state.balances.clone();
        }
        events
    }
}
