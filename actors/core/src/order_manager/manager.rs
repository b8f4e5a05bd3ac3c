//! The order manager core: the only owner of orders, positions and cash.

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;

mod audit;
mod fills;
mod persist;

pub use persist::PriceMark;

use super::book::SymbolBook;
use super::ids::OrderIds;
use super::plan::entry_request;
use super::trailing::trailing_stop;
use super::{OrderCommand, OrderManagerConfig};
use crate::model::{
    Candle, ClientOrderId, ClosedTrade, EquityPoint, ExecutionReport, ExitReason, Order,
    OrderIntent, OrderKind, OrderPurpose, OrderRequest, OrderStatus, PortfolioSnapshot, Position,
    Side, Symbol, TakeProfit, Timestamp, TradeId,
};
use fills::raise_stops;

/// What handling one execution report produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OmUpdate {
    /// Commands for the venue (break-even stop moves, clean-up cancels).
    pub commands: Vec<OrderCommand>,
    /// The round trip this report completed, if the position is flat again.
    pub closed: Option<ClosedTrade>,
}

/// An order and the index of the order it is attached to.
#[derive(Debug, Clone)]
struct Tracked {
    order: Order,
    parent: Option<usize>,
    /// Cash an entry buy holds back while it is open (zero for every other order).
    reserve: Decimal,
}

/// Turns approved intents into orders, applies the venue's reports exactly once, and keeps the
/// account: cash, positions, fees and closed trades. Manages open positions on every candle
/// (break-even and trailing stops) and flattens on demand.
///
/// Illegal or unexpected reports (a backward transition, a fill for an unknown order, a
/// refused command) never panic: they are recorded in [`anomalies`](Self::anomalies).
#[derive(Debug, Clone)]
pub struct OrderManager {
    cfg: OrderManagerConfig,
    ids: OrderIds,
    cash: Decimal,
    fees_paid: Decimal,
    tracked: Vec<Tracked>,
    index: HashMap<ClientOrderId, usize>,
    books: BTreeMap<Symbol, SymbolBook>,
    seen_trades: HashSet<TradeId>,
    closed: Vec<ClosedTrade>,
    anomalies: Vec<String>,
}

impl OrderManager {
    /// A flat account holding `initial_cash` of the quote asset.
    pub fn new(cfg: OrderManagerConfig, initial_cash: Decimal) -> Self {
        Self {
            ids: OrderIds::new(&cfg.run_id),
            cfg,
            cash: initial_cash,
            fees_paid: Decimal::ZERO,
            tracked: Vec::new(),
            index: HashMap::new(),
            books: BTreeMap::new(),
            seen_trades: HashSet::new(),
            closed: Vec::new(),
            anomalies: Vec::new(),
        }
    }

    /// Turns an approved intent into venue commands. An `Open` is refused (no commands) while
    /// the symbol has a position or any open order; a `Close` is [`flatten`](Self::flatten).
    pub fn on_intent(&mut self, intent: &OrderIntent) -> Vec<OrderCommand> {
        match intent {
            OrderIntent::Open {
                symbol,
                qty,
                stop,
                take_profits,
                ts,
            } => self.open(symbol, *qty, *stop, take_profits, *ts),
            OrderIntent::Close { symbol, reason, ts } => self.flatten(symbol, *reason, *ts),
        }
    }

    /// Closes the position in `symbol` at market (emergency exit, kill switch, operator):
    /// cancels every open order of the symbol (exits, and an entry not yet filled with its
    /// children), then sells the whole position with purpose `Exit { reason }`. Nothing when
    /// flat with no open orders, or when an exit is already working.
    pub fn flatten(
        &mut self,
        symbol: &Symbol,
        reason: ExitReason,
        ts: Timestamp,
    ) -> Vec<OrderCommand> {
        let Some(book) = self.books.get(symbol) else {
            return Vec::new();
        };
        let exiting = book.open_orders.iter().any(|&i| {
            matches!(
                self.tracked[i].order.request.purpose,
                OrderPurpose::Exit { .. }
            )
        });
        if exiting {
            return Vec::new();
        }
        // Newest first, so children go before the parent they are attached to.
        let mut commands: Vec<OrderCommand> = book
            .open_orders
            .iter()
            .rev()
            .map(|&i| OrderCommand::Cancel {
                id: self.tracked[i].order.id().clone(),
            })
            .collect();
        let held = book.position.as_ref().map_or(Decimal::ZERO, |p| p.qty);
        // Whole lots only (the rest, if any, is dust once this sell fills).
        let held = if self.cfg.lot > Decimal::ZERO {
            (held / self.cfg.lot).floor() * self.cfg.lot
        } else {
            held
        };
        if held > Decimal::ZERO {
            let Some(id) = self.ids.next(symbol) else {
                self.anomaly(format!(
                    "exit of {symbol} impossible: client order id over 36 characters"
                ));
                return commands;
            };
            let request = OrderRequest {
                client_order_id: id,
                symbol: symbol.clone(),
                side: Side::Sell,
                qty: held,
                kind: OrderKind::Market,
                purpose: OrderPurpose::Exit { reason },
                oco_group: None,
                attached: Vec::new(),
                created: ts,
            };
            self.register(&request, None, ts);
            commands.push(OrderCommand::Submit(request));
        }
        commands
    }

    /// Applies one venue report. Fills are applied exactly once (a repeated trade id changes
    /// nothing), and so is a repeated status report. Cash moves by the notional and the fee;
    /// the position by the quantity. A take-profit fill at or past the configured level moves
    /// the remaining stops to break-even; the fill that makes the position flat closes the
    /// round trip.
    pub fn on_execution(&mut self, report: &ExecutionReport) -> OmUpdate {
        match report {
            ExecutionReport::Fill(fill) => return self.on_fill(fill),
            ExecutionReport::Accepted { id, ts } => self.set_status(id, OrderStatus::Accepted, *ts),
            ExecutionReport::Cancelled { id, ts } => {
                self.set_status(id, OrderStatus::Cancelled, *ts)
            }
            ExecutionReport::Expired { id, ts } => self.set_status(id, OrderStatus::Expired, *ts),
            ExecutionReport::Unknown { id, ts, .. } => {
                self.set_status(id, OrderStatus::Unknown, *ts)
            }
            ExecutionReport::Rejected { id, reason, ts } => self.on_rejected(id, reason, *ts),
            ExecutionReport::Resized { id, qty, ts } => self.resize(id, *qty, *ts),
        }
        OmUpdate::default()
    }

    /// An exit the venue cut to what its entry left held (a fee withheld from the base
    /// asset): its quantity is the venue's from now on. Applying it again changes nothing.
    fn resize(&mut self, id: &ClientOrderId, qty: Decimal, ts: Timestamp) {
        let Some(&i) = self.index.get(id) else {
            self.anomaly(format!("resize of unknown order {id} ignored"));
            return;
        };
        let order = &mut self.tracked[i].order;
        if order.status.is_terminal() || qty <= Decimal::ZERO || qty < order.filled_qty {
            let line = format!(
                "resize of {id} to {qty} ignored: it is {:?} with {} filled",
                order.status, order.filled_qty
            );
            self.anomaly(line);
            return;
        }
        if order.request.qty != qty {
            tracing::info!(order = %id, from = %order.request.qty, to = %qty, "exit resized to what its entry left held");
            order.request.qty = qty;
            order.updated = ts;
        }
    }

    /// Marks the position in `candle`'s symbol and trails its stop: once trailing is active,
    /// every open stop below `highest close since entry − atr_mult × atr` (rounded down to the
    /// candle's price scale) is raised to it. Stops never move down. Allocates nothing when
    /// the symbol has no position or no stop moves.
    pub fn on_candle(&mut self, candle: &Candle, atr: Option<f64>) -> Vec<OrderCommand> {
        let mut commands = Vec::new();
        // One traversal per candle (the key clone is an Arc increment); the book is created on
        // the symbol's first candle.
        let book = self.books.entry(candle.symbol.clone()).or_default();
        book.last_close = Some(candle.close);
        let Some(position) = book.position.as_mut() else {
            return commands;
        };
        position.last_price = candle.close;
        book.trip.highest_close = book.trip.highest_close.max(candle.close);
        let trailing = &self.cfg.trailing;
        if !(trailing.enabled && book.trip.trailing_active) {
            return commands;
        }
        let scale = candle.close.scale();
        if let Some(stop) = atr
            .and_then(|atr| trailing_stop(book.trip.highest_close, atr, trailing.atr_mult, scale))
        {
            let now = candle.close_time();
            raise_stops(book, &mut self.tracked, stop, None, now, &mut commands);
        }
        commands
    }

    /// Cash held back by open entry buys, in proportion to what is left to fill of each.
    pub fn reserved(&self) -> Decimal {
        self.books
            .values()
            .flat_map(|b| b.open_orders.iter())
            .map(|&i| &self.tracked[i])
            .filter(|t| !t.reserve.is_zero() && t.order.request.qty > Decimal::ZERO)
            .map(|t| t.reserve * t.order.remaining() / t.order.request.qty)
            .sum()
    }

    /// The account now: `cash` is what a new order may commit at its decision price (cash not
    /// held back by open entry buys, less the reserve margin that covers its own fee,
    /// slippage and gap), `equity` is all cash plus positions at their last price, and the
    /// positions are in symbol order.
    pub fn snapshot(&self, ts: Timestamp) -> PortfolioSnapshot {
        let positions: Vec<Position> = self
            .books
            .values()
            .filter_map(|b| b.position.clone())
            .collect();
        let mut snapshot = PortfolioSnapshot {
            ts,
            cash: (self.cash - self.reserved()) / (Decimal::ONE + self.cfg.reserve_margin),
            equity: Decimal::ZERO,
            positions,
        };
        snapshot.equity = snapshot.equity_with(self.cash + self.dust_value());
        snapshot
    }

    /// What the dust of every symbol is worth (at the exits that left it).
    pub fn dust_value(&self) -> Decimal {
        self.books.values().map(|b| b.dust.value).sum()
    }

    /// The dust of `symbol`: base asset held at the venue in no position (see
    /// [`OrderManagerConfig::lot`]).
    pub fn dust(&self, symbol: &Symbol) -> Decimal {
        self.books.get(symbol).map_or(Decimal::ZERO, |b| b.dust.qty)
    }

    /// The account's equity point at `ts`: the [`snapshot`](Self::snapshot)'s equity and
    /// gross exposure, summed in the same order (so to the same digits), without building the
    /// rest of the snapshot.
    pub fn equity_point(&self, ts: Timestamp) -> EquityPoint {
        let exposure: Decimal = self
            .books
            .values()
            .filter_map(|b| b.position.as_ref())
            .map(Position::market_value)
            .sum();
        EquityPoint {
            ts,
            equity: self.cash + self.dust_value() + exposure,
            exposure,
        }
    }

    /// All cash, spent or not (the snapshot's `cash` is what a new order may commit).
    pub fn cash_held(&self) -> Decimal {
        self.cash
    }

    /// The position in `symbol`, if any.
    pub fn position(&self, symbol: &Symbol) -> Option<&Position> {
        self.books.get(symbol)?.position.as_ref()
    }

    /// Whether `symbol` has an entry order not yet resolved (it blocks new risk).
    pub fn has_open_entry(&self, symbol: &Symbol) -> bool {
        self.open_orders(symbol)
            .any(|o| o.request.purpose == OrderPurpose::Entry)
    }

    /// The symbols with an entry order not yet resolved, in symbol order (one walk over the
    /// books, where asking [`has_open_entry`](Self::has_open_entry) of every symbol looks
    /// each one up).
    pub fn symbols_with_open_entry(&self) -> impl Iterator<Item = &Symbol> + '_ {
        self.books.iter().filter_map(|(symbol, book)| {
            book.open_orders
                .iter()
                .any(|&i| self.tracked[i].order.request.purpose == OrderPurpose::Entry)
                .then_some(symbol)
        })
    }

    /// The orders of `symbol` not yet in a terminal state, oldest first.
    pub fn open_orders<'a>(&'a self, symbol: &Symbol) -> impl Iterator<Item = &'a Order> + 'a {
        self.books
            .get(symbol)
            .into_iter()
            .flat_map(|b| b.open_orders.iter())
            .map(|&i| &self.tracked[i].order)
    }

    /// The order with client id `id`.
    pub fn order(&self, id: &ClientOrderId) -> Option<&Order> {
        self.index.get(id).map(|&i| &self.tracked[i].order)
    }

    /// Every order ever placed, in the order they were created (children after their parent).
    pub fn orders(&self) -> impl Iterator<Item = &Order> {
        self.tracked.iter().map(|t| &t.order)
    }

    /// Round trips completed so far, in the order they closed.
    pub fn closed_trades(&self) -> &[ClosedTrade] {
        &self.closed
    }

    /// All fees paid so far, in the quote asset.
    pub fn fees_paid(&self) -> Decimal {
        self.fees_paid
    }

    /// Fills applied so far (each venue trade once).
    pub fn fills_applied(&self) -> usize {
        self.seen_trades.len()
    }

    /// Free quote-asset balance.
    pub fn cash(&self) -> Decimal {
        self.cash
    }

    /// Reports and refusals that should not happen (illegal transitions, unknown orders,
    /// rejected orders or commands), as readable lines, oldest first.
    pub fn anomalies(&self) -> &[String] {
        &self.anomalies
    }

    fn open(
        &mut self,
        symbol: &Symbol,
        qty: Decimal,
        stop: Option<Decimal>,
        take_profits: &[TakeProfit],
        ts: Timestamp,
    ) -> Vec<OrderCommand> {
        if qty <= Decimal::ZERO {
            self.anomaly(format!(
                "open of {symbol} refused: quantity {qty} is not positive"
            ));
            return Vec::new();
        }
        if let Some(book) = self.books.get(symbol) {
            if book.position.is_some() || !book.open_orders.is_empty() {
                return Vec::new();
            }
        }
        let request = self
            .ids
            .next(symbol)
            .and_then(|id| entry_request(id, symbol, qty, stop, take_profits, ts));
        let Some(request) = request else {
            self.anomaly(format!(
                "open of {symbol} refused: client order id over 36 characters"
            ));
            return Vec::new();
        };
        self.register(&request, None, ts);
        // The entry holds back its cost at the last close plus a margin until it is done.
        let close = self
            .books
            .get(symbol)
            .and_then(|b| b.last_close)
            .unwrap_or_default();
        let entry = self.tracked.len() - 1 - request.attached.len();
        self.tracked[entry].reserve = qty * close * (Decimal::ONE + self.cfg.reserve_margin);
        vec![OrderCommand::Submit(request)]
    }

    /// Tracks `request` and its attached children as orders leaving for the venue.
    fn register(&mut self, request: &OrderRequest, parent: Option<usize>, ts: Timestamp) {
        let mut order = Order::new(request.clone());
        match order.transition(OrderStatus::Submitted, ts) {
            Ok(()) => audit::order(&order, ts, None),
            Err(e) => self.anomaly(e.to_string()),
        }
        let i = self.tracked.len();
        self.index.insert(request.client_order_id.clone(), i);
        self.tracked.push(Tracked {
            order,
            parent,
            reserve: Decimal::ZERO,
        });
        self.books
            .entry(request.symbol.clone())
            .or_default()
            .open_orders
            .push(i);
        for child in &request.attached {
            self.register(child, Some(i), ts);
        }
    }

    fn set_status(&mut self, id: &ClientOrderId, to: OrderStatus, ts: Timestamp) {
        let Some(&i) = self.index.get(id) else {
            self.anomaly(format!("{to:?} report for unknown order {id}"));
            return;
        };
        let order = &mut self.tracked[i].order;
        // A repeated report, or an acknowledgement overtaken by fills, is stale: nothing to do.
        let stale_ack = to == OrderStatus::Accepted
            && matches!(
                order.status,
                OrderStatus::PartiallyFilled | OrderStatus::Filled
            );
        if order.status == to || stale_ack {
            return;
        }
        match order.transition(to, ts) {
            Ok(()) => {
                audit::order(order, ts, None);
                if to.is_terminal() {
                    self.forget_open(i);
                }
            }
            Err(e) => self.anomaly(e.to_string()),
        }
    }

    /// A rejected submission rejects the order and its attached children; a rejection of an
    /// order the venue already holds is a refused command (cancel, modify) and changes nothing.
    fn on_rejected(&mut self, id: &ClientOrderId, reason: &str, ts: Timestamp) {
        let Some(&i) = self.index.get(id) else {
            self.anomaly(format!("rejection of unknown order {id}: {reason}"));
            return;
        };
        let status = self.tracked[i].order.status;
        if !matches!(
            status,
            OrderStatus::PendingSubmit | OrderStatus::Submitted | OrderStatus::Unknown
        ) {
            self.anomaly(format!(
                "venue refused a command for order {id} ({status:?}): {reason}"
            ));
            return;
        }
        self.anomaly(format!("order {id} rejected: {reason}"));
        for j in i..self.tracked.len() {
            if self.descends_from(j, i) && self.tracked[j].order.status.is_open() {
                match self.tracked[j].order.transition(OrderStatus::Rejected, ts) {
                    Ok(()) => {
                        audit::order(&self.tracked[j].order, ts, Some(reason));
                        self.forget_open(j)
                    }
                    Err(e) => self.anomaly(e.to_string()),
                }
            }
        }
    }

    /// Whether order `j` is `ancestor` or attached (directly or not) below it.
    fn descends_from(&self, mut j: usize, ancestor: usize) -> bool {
        loop {
            if j == ancestor {
                return true;
            }
            match self.tracked[j].parent {
                Some(parent) => j = parent,
                None => return false,
            }
        }
    }

    /// Drops order `i` from its symbol's open orders once it is terminal.
    fn forget_open(&mut self, i: usize) {
        let symbol = &self.tracked[i].order.request.symbol;
        if let Some(book) = self.books.get_mut(symbol) {
            book.open_orders.retain(|&j| j != i);
        }
    }

    fn anomaly(&mut self, line: String) {
        self.anomalies.push(line);
    }
}
