//! `SimExchange`: an in-process, deterministic venue that fills orders against candles with
//! the fill model of DESIGN §6 (see [`fill_model`](super::fill_model)).
//!
//! Orders rest until a later candle of their symbol. On each candle the venue works that
//! symbol's orders in a fixed order:
//!
//! 1. **Market orders** fill at the bar's open (plus slippage), timestamped `open_time`. A
//!    filled parent activates its attached children at once, so they are evaluated against this
//!    same bar (a stop can be hit on the entry bar).
//! 2. **Stops** are checked before **limits** (when both are inside one bar, the stop wins),
//!    against the bar's range; these intrabar fills are timestamped with the bar's close time,
//!    since the path inside the bar is unknown. Children activated by an intrabar fill wait for
//!    the next bar.
//!
//! Every fill is complete (no volume cap, no partial fills). When a child of an order fills,
//! its siblings in the same `oco_group` are cancelled (one-cancels-other). The venue tracks
//! no balances: the order manager is the account, and the OCO pairing of stops and
//! take-profits keeps sells within the position. A venue given the account's cash
//! ([`with_cash`](SimExchange::with_cash)) keeps it as fills settle, and a market buy whose
//! cost at the open, fee included, is more than that cash expires with its children, as the
//! sim exchange server expires a buy its free balance does not cover.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use serde::{Deserialize, Serialize};

use super::fill_model::{fee, limit_fill_price, market_fill_price, stop_fill_price, FillConfig};
use super::state::{remember, VenueOrder};
use crate::model::{
    Candle, ClientOrderId, ExecutionReport, Fill, OrderKind, OrderRequest, OrderStatus, Side,
    Symbol, Timestamp, TradeId,
};
use crate::order_manager::OrderCommand;

/// Binance's text for a client id that is already in use.
pub const DUPLICATE_ORDER: &str = "Duplicate order sent.";
/// Binance's text for an order the venue does not hold.
pub const UNKNOWN_ORDER: &str = "Unknown order sent.";

/// Whether a resting order can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// An attached child whose parent has not filled yet.
    Inactive,
    /// Activated by an intrabar fill: works from the next bar on.
    FromNextBar,
    /// Working.
    Active,
}

/// An order held by the venue. Its `attached` children are held as their own entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestingOrder {
    /// The order (its `attached` list is empty: children rest as their own entries).
    pub request: OrderRequest,
    /// The order this one is attached to, if any.
    pub parent: Option<ClientOrderId>,
    /// Whether it can fill yet.
    pub activation: Activation,
}

/// The in-process simulated venue. Deterministic: the same calls give the same reports.
///
/// It remembers the last bar it worked per symbol and ignores a bar at or before it (a bar
/// replayed after a crash fills nothing twice), and it keeps the most recent finished orders
/// so that [`query`](Self::query) can answer for an order that is no longer open.
#[derive(Debug, Clone)]
pub struct SimExchange {
    pub(super) cfg: FillConfig,
    pub(super) books: BTreeMap<Symbol, Vec<RestingOrder>>,
    pub(super) last_trade_id: u64,
    /// Open time of the last bar worked, per symbol.
    pub(super) last_bar: BTreeMap<Symbol, Timestamp>,
    /// Filled and cancelled orders, oldest first (bounded, see [`remember`]).
    pub(super) finished: Vec<VenueOrder>,
    /// The account's quote asset at the venue, when it keeps it.
    pub(super) cash: Option<Decimal>,
}

impl SimExchange {
    /// An empty venue charging the fees and slippage of `cfg`.
    pub fn new(cfg: FillConfig) -> Self {
        Self {
            cfg,
            books: BTreeMap::new(),
            last_trade_id: 0,
            last_bar: BTreeMap::new(),
            finished: Vec::new(),
            cash: None,
        }
    }

    /// This venue holding `cash` of the quote asset for the account: every fill settles
    /// against it (a buy pays its cost and fee, a sell receives its proceeds less its fee),
    /// and a market buy whose cost at the open, fee included, is more than the cash then
    /// expires unfilled with its children. Without it the venue checks no balance.
    pub fn with_cash(mut self, cash: Decimal) -> Self {
        self.cash = Some(cash);
        self
    }

    /// The quote asset the venue holds for the account, when it keeps it.
    pub fn cash(&self) -> Option<Decimal> {
        self.cash
    }

    /// The fees and slippage this venue applies.
    pub fn config(&self) -> &FillConfig {
        &self.cfg
    }

    /// Takes an order (and its attached children, held inactive until it fills completely).
    /// Reports `Accepted` for the order and each child, timestamped with `created`, or one
    /// `Rejected` for the whole request: a non-positive quantity, a non-positive limit or stop
    /// price, a child of another symbol, or a client id already open (`Duplicate order sent.`).
    pub fn submit(&mut self, mut request: OrderRequest) -> Vec<ExecutionReport> {
        let ts = request.created;
        if let Err(reason) = self.check(&request) {
            return vec![ExecutionReport::Rejected {
                id: request.client_order_id,
                reason: reason.to_string(),
                ts,
            }];
        }
        let mut reports = Vec::with_capacity(1 + request.attached.len());
        let book = self.books.entry(request.symbol.clone()).or_default();
        let children = std::mem::take(&mut request.attached);
        let id = request.client_order_id.clone();
        reports.push(ExecutionReport::Accepted { id: id.clone(), ts });
        book.push(RestingOrder {
            request,
            parent: None,
            activation: Activation::Active,
        });
        for child in children {
            rest_inactive(book, child, &id, &mut reports);
        }
        reports
    }

    /// Takes a one-cancels-other pair of top-level orders (an order list such as Binance's
    /// OCO): each leg rests working at once as a child of the virtual parent `list`, in one
    /// OCO group, so that when one fills the other is cancelled; when both are inside one bar
    /// the stop wins, as for attached children. Reports `Accepted` for each leg, or one
    /// `Rejected` (for the first leg) when a leg is invalid, has children, or an id is open.
    /// Cancelling one leg with [`cancel`](Self::cancel) leaves the other working: the caller
    /// cancels both to cancel the list.
    pub fn submit_oco(
        &mut self,
        list: &ClientOrderId,
        legs: [OrderRequest; 2],
    ) -> Vec<ExecutionReport> {
        let ts = legs[0].created;
        let reject = |reason: &str| vec![rejected(&legs[0].client_order_id, reason, ts)];
        if legs.iter().any(|leg| !leg.attached.is_empty()) {
            return reject("Order list legs cannot have attached orders.");
        }
        if legs[0].symbol != legs[1].symbol {
            return reject("Attached order symbol mismatch.");
        }
        if legs[0].client_order_id == legs[1].client_order_id {
            return reject(DUPLICATE_ORDER);
        }
        for leg in &legs {
            if let Err(reason) = self.check(leg) {
                return reject(reason);
            }
        }
        let book = self.books.entry(legs[0].symbol.clone()).or_default();
        let mut reports = Vec::with_capacity(2);
        for (index, mut leg) in legs.into_iter().enumerate() {
            if index == 1 {
                fail::fail_point!("venue.between_oco_legs");
            }
            leg.oco_group = Some(0);
            reports.push(ExecutionReport::Accepted {
                id: leg.client_order_id.clone(),
                ts: leg.created,
            });
            book.push(RestingOrder {
                request: leg,
                parent: Some(list.clone()),
                activation: Activation::Active,
            });
        }
        reports
    }

    /// Cancels an open order (active, or an attached child still waiting for its parent).
    /// Cancelling a parent also drops its inactive children, each reported `Cancelled`.
    /// An order the venue does not hold is `Rejected` with `Unknown order sent.`.
    pub fn cancel(&mut self, id: &ClientOrderId, ts: Timestamp) -> Vec<ExecutionReport> {
        let mut reports = Vec::new();
        for book in self.books.values_mut() {
            if let Some(i) = position_of(book, id) {
                drop_order(book, i, ts, &mut reports, &mut self.finished);
                return reports;
            }
        }
        reports.push(rejected(id, UNKNOWN_ORDER, ts));
        reports
    }

    /// Moves the trigger of a stop order (a trailing stop), whether it is working or still an
    /// inactive child. Reports nothing on success (the caller knows the new trigger), or
    /// `Rejected` when the order is unknown, not a stop, or the trigger is not positive.
    pub fn modify_stop(
        &mut self,
        id: &ClientOrderId,
        trigger: Decimal,
        ts: Timestamp,
    ) -> Vec<ExecutionReport> {
        let Some(order) = self
            .books
            .values_mut()
            .find_map(|book| book.iter_mut().find(|o| &o.request.client_order_id == id))
        else {
            return vec![rejected(id, UNKNOWN_ORDER, ts)];
        };
        if trigger <= Decimal::ZERO {
            return vec![rejected(id, "Invalid stop price.", ts)];
        }
        match &mut order.request.kind {
            OrderKind::Stop { trigger: current } => {
                *current = trigger;
                Vec::new()
            }
            _ => vec![rejected(id, "Order is not a stop order.", ts)],
        }
    }

    /// Carries out one of the order manager's commands at event time `ts`.
    pub fn apply(&mut self, command: &OrderCommand, ts: Timestamp) -> Vec<ExecutionReport> {
        match command {
            OrderCommand::Submit(request) => self.submit(request.clone()),
            OrderCommand::Cancel { id } => self.cancel(id, ts),
            OrderCommand::ModifyStop { id, trigger } => self.modify_stop(id, *trigger, ts),
        }
    }

    /// Works the orders of `candle`'s symbol against it (see the module docs for the order)
    /// and reports fills and one-cancels-other cancellations. Only orders created at or before
    /// the bar's open can fill on it. A bar opening at or before the last bar worked for its
    /// symbol is ignored (a replay after a restart). Allocates nothing when nothing happens.
    pub fn on_candle(&mut self, candle: &Candle) -> Vec<ExecutionReport> {
        match self.last_bar.get_mut(&candle.symbol) {
            Some(last) if *last >= candle.open_time => return Vec::new(),
            Some(last) => *last = candle.open_time,
            None => {
                self.last_bar
                    .insert(candle.symbol.clone(), candle.open_time);
            }
        }
        let mut matcher = Matcher {
            cfg: &self.cfg,
            last_trade_id: &mut self.last_trade_id,
            reports: Vec::new(),
            finished: &mut self.finished,
            cash: &mut self.cash,
        };
        let Some(book) = self.books.get_mut(&candle.symbol) else {
            return matcher.reports;
        };
        let working = |o: &RestingOrder| {
            o.activation == Activation::Active && o.request.created <= candle.open_time
        };
        let slippage = matcher.cfg.slippage_bps;

        // 1. Market orders at the open; their children join this bar.
        while let Some(i) = book
            .iter()
            .position(|o| working(o) && o.request.kind == OrderKind::Market)
        {
            let price = market_fill_price(candle.open, book[i].request.side, slippage);
            if matcher.covers(&book[i].request, price) {
                matcher.fill(book, i, price, candle.open_time, Activation::Active);
            } else {
                matcher.expire(book, i, candle.open_time);
            }
        }
        // 2. Stops first (the stop wins), then limits, against the bar's range.
        let close_time = candle.close_time();
        while let Some((i, price)) =
            book.iter()
                .enumerate()
                .find_map(|(i, o)| match o.request.kind {
                    OrderKind::Stop { trigger } if working(o) => {
                        stop_fill_price(o.request.side, trigger, candle, slippage).map(|p| (i, p))
                    }
                    _ => None,
                })
        {
            matcher.fill(book, i, price, close_time, Activation::FromNextBar);
        }
        while let Some((i, price)) =
            book.iter()
                .enumerate()
                .find_map(|(i, o)| match o.request.kind {
                    OrderKind::Limit { price } if working(o) => {
                        limit_fill_price(o.request.side, price, candle).map(|p| (i, p))
                    }
                    _ => None,
                })
        {
            matcher.fill(book, i, price, close_time, Activation::FromNextBar);
        }
        // 3. Children of intrabar fills work from the next bar.
        for order in book.iter_mut() {
            if order.activation == Activation::FromNextBar {
                order.activation = Activation::Active;
            }
        }
        matcher.reports
    }

    /// The orders the venue holds for `symbol` (working ones and inactive children), oldest
    /// first. Children appear as their own requests; `attached` is empty in what is returned.
    pub fn open_orders<'a>(
        &'a self,
        symbol: &Symbol,
    ) -> impl Iterator<Item = &'a OrderRequest> + 'a {
        self.books
            .get(symbol)
            .into_iter()
            .flatten()
            .map(|o| &o.request)
    }

    /// Whether the venue holds `id`: `Some(true)` if it can fill, `Some(false)` if it is a
    /// child waiting for its parent, `None` if it is not open.
    pub fn is_active(&self, id: &ClientOrderId) -> Option<bool> {
        self.books
            .values()
            .flatten()
            .find(|o| &o.request.client_order_id == id)
            .map(|o| o.activation != Activation::Inactive)
    }

    /// Why `request` cannot be accepted, if it cannot.
    fn check(&self, request: &OrderRequest) -> Result<(), &'static str> {
        let mut ids: Vec<&ClientOrderId> = Vec::new();
        check_tree(request, &request.symbol, &mut ids)?;
        let open = |id: &ClientOrderId| {
            self.books
                .values()
                .flatten()
                .any(|o| &o.request.client_order_id == id)
        };
        if ids.iter().any(|id| open(id)) {
            return Err(DUPLICATE_ORDER);
        }
        Ok(())
    }
}

/// Validates a request and its attached descendants, collecting their ids to detect repeats.
fn check_tree<'a>(
    request: &'a OrderRequest,
    symbol: &Symbol,
    ids: &mut Vec<&'a ClientOrderId>,
) -> Result<(), &'static str> {
    if &request.symbol != symbol {
        return Err("Attached order symbol mismatch.");
    }
    if request.qty <= Decimal::ZERO {
        return Err("Invalid quantity.");
    }
    match request.kind {
        OrderKind::Limit { price } if price <= Decimal::ZERO => return Err("Invalid price."),
        OrderKind::Stop { trigger } if trigger <= Decimal::ZERO => {
            return Err("Invalid stop price.")
        }
        _ => {}
    }
    if ids.contains(&&request.client_order_id) {
        return Err(DUPLICATE_ORDER);
    }
    ids.push(&request.client_order_id);
    request
        .attached
        .iter()
        .try_for_each(|child| check_tree(child, symbol, ids))
}

/// Holds `request` as an inactive child of `parent`, with its own children below it.
fn rest_inactive(
    book: &mut Vec<RestingOrder>,
    mut request: OrderRequest,
    parent: &ClientOrderId,
    reports: &mut Vec<ExecutionReport>,
) {
    let children = std::mem::take(&mut request.attached);
    let id = request.client_order_id.clone();
    reports.push(ExecutionReport::Accepted {
        id: id.clone(),
        ts: request.created,
    });
    book.push(RestingOrder {
        request,
        parent: Some(parent.clone()),
        activation: Activation::Inactive,
    });
    for child in children {
        rest_inactive(book, child, &id, reports);
    }
}

fn position_of(book: &[RestingOrder], id: &ClientOrderId) -> Option<usize> {
    book.iter().position(|o| &o.request.client_order_id == id)
}

fn rejected(id: &ClientOrderId, reason: &str, ts: Timestamp) -> ExecutionReport {
    ExecutionReport::Rejected {
        id: id.clone(),
        reason: reason.to_string(),
        ts,
    }
}

/// Removes order `i` and its inactive descendants, reporting each `Cancelled` and
/// remembering it as finished.
fn drop_order(
    book: &mut Vec<RestingOrder>,
    i: usize,
    ts: Timestamp,
    reports: &mut Vec<ExecutionReport>,
    finished: &mut Vec<VenueOrder>,
) {
    let order = book.remove(i);
    let id = order.request.client_order_id.clone();
    reports.push(ExecutionReport::Cancelled { id: id.clone(), ts });
    remember(finished, order, OrderStatus::Cancelled, None, ts);
    drop_children(book, &id, ts, reports, finished);
}

/// Removes the inactive descendants of `id`, reporting each `Cancelled`.
fn drop_children(
    book: &mut Vec<RestingOrder>,
    id: &ClientOrderId,
    ts: Timestamp,
    reports: &mut Vec<ExecutionReport>,
    finished: &mut Vec<VenueOrder>,
) {
    while let Some(j) = book
        .iter()
        .position(|o| o.parent.as_ref() == Some(id) && o.activation == Activation::Inactive)
    {
        drop_order(book, j, ts, reports, finished);
    }
}

/// Fills orders of one book during one candle.
struct Matcher<'a> {
    cfg: &'a FillConfig,
    last_trade_id: &'a mut u64,
    reports: Vec<ExecutionReport>,
    finished: &'a mut Vec<VenueOrder>,
    cash: &'a mut Option<Decimal>,
}

impl Matcher<'_> {
    /// Whether the venue's cash, when it keeps it, covers `request` filled at `price` (a
    /// buy's cost and fee; a sell always).
    fn covers(&self, request: &OrderRequest, price: Decimal) -> bool {
        match *self.cash {
            Some(cash) if request.side == Side::Buy => {
                let notional = price * request.qty;
                notional + fee(notional, self.cfg.fee_bps) <= cash
            }
            _ => true,
        }
    }

    /// Expires order `i` (the cash does not cover it) and cancels its children.
    fn expire(&mut self, book: &mut Vec<RestingOrder>, i: usize, ts: Timestamp) {
        let order = book.remove(i);
        let id = order.request.client_order_id.clone();
        tracing::info!(%id, symbol = %order.request.symbol, qty = %order.request.qty, cash = ?self.cash, "market buy expires: the cash does not cover its cost at the open");
        self.reports
            .push(ExecutionReport::Expired { id: id.clone(), ts });
        remember(self.finished, order, OrderStatus::Expired, None, ts);
        drop_children(book, &id, ts, &mut self.reports, self.finished);
    }

    /// Fills order `i` completely at `price`, cancels its one-cancels-other siblings and
    /// activates its children as `children`.
    fn fill(
        &mut self,
        book: &mut Vec<RestingOrder>,
        i: usize,
        price: Decimal,
        ts: Timestamp,
        children: Activation,
    ) {
        let order = book.remove(i);
        let request = &order.request;
        *self.last_trade_id += 1;
        let notional = price * request.qty;
        let fee = fee(notional, self.cfg.fee_bps);
        if let Some(cash) = self.cash.as_mut() {
            *cash += match request.side {
                Side::Buy => -(notional + fee),
                Side::Sell => notional - fee,
            };
        }
        let id = request.client_order_id.clone();
        let fill = Fill {
            trade_id: TradeId(*self.last_trade_id),
            client_order_id: id.clone(),
            symbol: request.symbol.clone(),
            side: request.side,
            qty: request.qty,
            price,
            fee,
            fee_source: crate::model::FeeSource::Quote,
            ts,
        };
        self.reports.push(ExecutionReport::Fill(fill.clone()));
        let oco = order.parent.clone().zip(request.oco_group);
        let at = fill.ts;
        remember(self.finished, order, OrderStatus::Filled, Some(fill), at);
        if let Some((parent, group)) = oco {
            fail::fail_point!("venue.between_oco_legs");
            while let Some(j) = book.iter().position(|o| {
                o.parent.as_ref() == Some(&parent) && o.request.oco_group == Some(group)
            }) {
                drop_order(book, j, ts, &mut self.reports, self.finished);
            }
        }
        for child in book.iter_mut() {
            if child.parent.as_ref() == Some(&id) && child.activation == Activation::Inactive {
                child.activation = children;
            }
        }
    }
}

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;
