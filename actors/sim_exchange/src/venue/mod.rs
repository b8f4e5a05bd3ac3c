//! The account and its orders: placement (filters, balance locks), cancels, and settling the
//! shared fill model's executions bar by bar. Orders work in `keel_actors`' `SimExchange`; this
//! keeps what Binance reports on top of it (ids, statuses, balances, trades).

use std::sync::Arc;

use crate::fees::FeePolicy;

use keel_binance::codes;
use keel_binance::wire::{MyTrade, OrderSide, OrderState, OrderType};
use keel_core::execution::fill_model::{fee, market_fill_price};
use keel_core::execution::{FillConfig, SimExchange};
use keel_model::{
    Candle, ClientOrderId, ExecutionReport, OrderKind, OrderPurpose, OrderRequest, Side, Timestamp,
};
use rust_decimal::{Decimal, RoundingStrategy};

use super::config::Market;
use super::error::ApiErr;
use super::state::{Holding, ListRecord, Lock, OrderRecord, VenueState};

/// A market buy locks its quantity × the last close × this (slippage and fee headroom).
const MARKET_BUY_HEADROOM: Decimal = Decimal::from_parts(102, 0, 0, false, 2);

/// The highest price the venue accepts (`PRICE_FILTER`'s `maxPrice` in exchangeInfo). With
/// the lot size's `maxQty` it bounds every notional far inside `Decimal`'s range, so no
/// request can make the venue's arithmetic overflow.
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// A new order as the REST layer parsed it.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: OrderSide,
    /// MARKET, LIMIT, STOP_LOSS or LIMIT_MAKER.
    pub order_type: OrderType,
    /// Quantity.
    pub qty: Decimal,
    /// Limit price (LIMIT, LIMIT_MAKER).
    pub price: Option<Decimal>,
    /// Trigger (STOP_LOSS).
    pub stop_price: Option<Decimal>,
    /// The client's id (already generated if absent).
    pub client_order_id: String,
}

/// A new OCO sell list.
#[derive(Debug, Clone)]
pub struct NewOco {
    /// The symbol.
    pub symbol: String,
    /// Quantity of each leg (locked once).
    pub qty: Decimal,
    /// The list's client id.
    pub list_client_order_id: String,
    /// The LIMIT_MAKER leg's price.
    pub above_price: Decimal,
    /// Its client id.
    pub above_client_order_id: String,
    /// The STOP_LOSS leg's trigger.
    pub below_stop_price: Decimal,
    /// Its client id.
    pub below_client_order_id: String,
}

/// The venue: the persisted state, the fill model and the market data it replays.
#[derive(Debug)]
pub struct Venue {
    /// What is persisted (its `sim` field is refreshed on [`Venue::snapshot`]).
    pub state: VenueState,
    /// The shared fill model holding the open orders.
    pub exchange: SimExchange,
    /// The markets, in config order.
    pub markets: Arc<Vec<Market>>,
    /// The replay order: (market, bar) pairs sorted by open time, then market.
    pub merged: Arc<Vec<(usize, usize)>>,
    /// Per market, how many bars have closed.
    pub closed: Vec<usize>,
    /// The asset fees are charged in.
    pub fees: FeePolicy,
    /// User data stream events of changes not yet published (not persisted).
    pub outbox: Outbox,
}

impl Venue {
    /// A venue over `markets`, continuing `state`.
    pub fn new(
        markets: Arc<Vec<Market>>,
        fill: FillConfig,
        fees: FeePolicy,
        state: VenueState,
    ) -> Result<Self, String> {
        let mut merged: Vec<(usize, usize)> = markets
            .iter()
            .enumerate()
            .flat_map(|(m, market)| (0..market.candles.len()).map(move |i| (m, i)))
            .collect();
        merged.sort_by_key(|&(m, i)| (markets[m].candles[i].open_time, m));
        if state.cursor > merged.len() {
            return Err(format!(
                "the saved replay cursor {} is beyond the {} bars of the data",
                state.cursor,
                merged.len()
            ));
        }
        let mut closed = vec![0; markets.len()];
        for &(m, _) in &merged[..state.cursor] {
            closed[m] += 1;
        }
        let exchange =
            SimExchange::from_state(fill, state.sim.clone()).map_err(|e| e.to_string())?;
        Ok(Self {
            outbox: Outbox::new(&state.balances),
            state,
            exchange,
            markets,
            merged: Arc::new(merged),
            closed,
            fees,
        })
    }

    /// The number of bars before `start` (they are history when the replay begins).
    pub fn history_len(&self, start: Timestamp) -> usize {
        self.merged
            .iter()
            .take_while(|&&(m, i)| self.markets[m].candles[i].open_time < start)
            .count()
    }

    /// The state to persist.
    pub fn snapshot(&mut self) -> &VenueState {
        self.state.sim = self.exchange.to_state();
        &self.state
    }

    /// The market named `symbol` (any case), or `-1121`.
    pub fn market(&self, symbol: &str) -> Result<(usize, &Market), ApiErr> {
        self.markets
            .iter()
            .enumerate()
            .find(|(_, m)| m.symbol.as_str().eq_ignore_ascii_case(symbol))
            .ok_or_else(ApiErr::bad_symbol)
    }

    /// The bars of market `m` that have closed.
    pub fn closed_bars(&self, m: usize) -> &[Candle] {
        &self.markets[m].candles[..self.closed[m]]
    }

    /// The last closed price of market `m` (the first open before any bar closed).
    pub fn last_price(&self, m: usize) -> Decimal {
        match self.closed_bars(m).last() {
            Some(bar) => bar.close,
            None => self.markets[m].candles[0].open,
        }
    }

    /// The market time of market `m`: the close of its last closed bar (the next bar's open).
    pub fn market_time(&self, m: usize) -> Timestamp {
        match self.closed_bars(m).last() {
            Some(bar) => bar.close_time(),
            None => self.markets[m].candles[0].open_time,
        }
    }

    /// Whether the replay has run out of bars.
    pub fn exhausted(&self) -> bool {
        self.state.cursor >= self.merged.len()
    }

    /// The open order with client id `id` on `symbol`, or the latest finished one.
    pub fn find(
        &self,
        symbol: &str,
        order_id: Option<u64>,
        client: Option<&str>,
    ) -> Option<&OrderRecord> {
        let matches = |o: &&OrderRecord| o.symbol == symbol;
        match (order_id, client) {
            (Some(id), _) => self.state.orders.get(&id).filter(matches),
            (None, Some(c)) => self
                .state
                .orders
                .values()
                .rev()
                .filter(matches)
                .find(|o| o.client_order_id == c),
            (None, None) => None,
        }
    }

    fn open_client_id(&self, client: &str) -> bool {
        self.state
            .orders
            .values()
            .any(|o| o.status.is_open() && o.client_order_id == client)
    }

    /// Places an order; returns its id. Market orders fill when the next bar closes.
    pub fn place(&mut self, order: NewOrder, now: i64) -> Result<u64, ApiErr> {
        let (m, market) = self.market(&order.symbol)?;
        let market = market.clone();
        let last = self.last_price(m);
        let (kind, price, stop) = match order.order_type {
            OrderType::Market => (OrderKind::Market, None, None),
            OrderType::Limit | OrderType::LimitMaker => {
                let price = order.price.ok_or_else(|| ApiErr::missing("price"))?;
                (OrderKind::Limit { price }, Some(price), None)
            }
            OrderType::StopLoss => {
                let trigger = order
                    .stop_price
                    .ok_or_else(|| ApiErr::missing("stopPrice"))?;
                (OrderKind::Stop { trigger }, None, Some(trigger))
            }
            other => {
                return Err(ApiErr::bad(
                    codes::BAD_PARAM,
                    format!(
                        "Order type {} is not supported by the sim venue.",
                        other.as_str()
                    ),
                ))
            }
        };
        check_filters(&market, order.qty, price.or(stop), last)?;
        match (order.order_type, order.side) {
            (OrderType::LimitMaker, OrderSide::Buy) if price >= Some(last) => {
                return Err(ApiErr::rejected("Order would immediately match and take."))
            }
            (OrderType::LimitMaker, OrderSide::Sell) if price <= Some(last) => {
                return Err(ApiErr::rejected("Order would immediately match and take."))
            }
            (OrderType::StopLoss, OrderSide::Sell) if stop >= Some(last) => {
                return Err(ApiErr::rejected("Stop price would trigger immediately."))
            }
            (OrderType::StopLoss, OrderSide::Buy) if stop <= Some(last) => {
                return Err(ApiErr::rejected("Stop price would trigger immediately."))
            }
            _ => {}
        }
        if self.open_client_id(&order.client_order_id) {
            return Err(ApiErr::rejected(codes::DUPLICATE_ORDER_MSG));
        }
        let fee_rate = self.exchange.config().fee_bps / Decimal::from(10_000);
        let (asset, amount) = match order.side {
            OrderSide::Sell => (market.base.clone(), order.qty),
            OrderSide::Buy => {
                let reference = price.or(stop).unwrap_or(last);
                let headroom = match order.order_type {
                    OrderType::Limit | OrderType::LimitMaker => Decimal::ONE + fee_rate,
                    _ => MARKET_BUY_HEADROOM,
                };
                (
                    market.quote.clone(),
                    round_up(order.qty * reference * headroom),
                )
            }
        };
        self.check_free(&asset, amount)?;
        let order_id = self.state.last_order_id + 1;
        let request = self.request(m, &order.client_order_id, order.side, order.qty, kind)?;
        let reports = self.exchange.submit(request);
        if let Some(ExecutionReport::Rejected { reason, .. }) = reports.first() {
            return Err(ApiErr::rejected(reason.clone()));
        }
        self.state.last_order_id = order_id;
        let lock = format!("order-{order_id}");
        self.lock(&lock, &asset, amount);
        self.state.orders.insert(
            order_id,
            OrderRecord {
                symbol: market.symbol.as_str().to_string(),
                order_id,
                order_list_id: -1,
                client_order_id: order.client_order_id,
                side: order.side,
                order_type: order.order_type,
                price: price.unwrap_or_default(),
                stop_price: stop.unwrap_or_default(),
                orig_qty: order.qty,
                executed_qty: Decimal::ZERO,
                cummulative_quote_qty: Decimal::ZERO,
                status: OrderState::New,
                time: now,
                update_time: now,
                lock,
            },
        );
        self.state.update_time = now;
        self.report(order_id, Change::Placed, now);
        Ok(order_id)
    }

    /// Places an OCO sell list (LIMIT_MAKER above, STOP_LOSS below) locking the base once;
    /// returns the list's id.
    pub fn place_oco(&mut self, oco: NewOco, now: i64) -> Result<i64, ApiErr> {
        let (m, market) = self.market(&oco.symbol)?;
        let market = market.clone();
        let last = self.last_price(m);
        check_filters(&market, oco.qty, Some(oco.above_price), last)?;
        check_filters(&market, oco.qty, Some(oco.below_stop_price), last)?;
        if !(oco.above_price > last && last > oco.below_stop_price) {
            return Err(ApiErr::rejected(
                "The relationship of the prices for the orders is not correct.",
            ));
        }
        let ids = [&oco.above_client_order_id, &oco.below_client_order_id];
        if ids[0] == ids[1] || ids.iter().any(|id| self.open_client_id(id)) {
            return Err(ApiErr::rejected(codes::DUPLICATE_ORDER_MSG));
        }
        self.check_free(&market.base, oco.qty)?;
        let list_id = self.state.last_list_id + 1;
        let parent = ClientOrderId(Arc::from(format!("~list-{list_id}")));
        let legs = [
            self.request(
                m,
                ids[0],
                OrderSide::Sell,
                oco.qty,
                OrderKind::Limit {
                    price: oco.above_price,
                },
            )?,
            self.request(
                m,
                ids[1],
                OrderSide::Sell,
                oco.qty,
                OrderKind::Stop {
                    trigger: oco.below_stop_price,
                },
            )?,
        ];
        let reports = self.exchange.submit_oco(&parent, legs);
        if let Some(ExecutionReport::Rejected { reason, .. }) = reports.first() {
            return Err(ApiErr::rejected(reason.clone()));
        }
        self.state.last_list_id = list_id;
        let lock = format!("list-{list_id}");
        self.lock(&lock, &market.base, oco.qty);
        let mut order_ids = [0; 2];
        let legs = [
            (
                ids[0],
                OrderType::LimitMaker,
                oco.above_price,
                Decimal::ZERO,
            ),
            (
                ids[1],
                OrderType::StopLoss,
                Decimal::ZERO,
                oco.below_stop_price,
            ),
        ];
        for (slot, (client, order_type, price, stop_price)) in legs.into_iter().enumerate() {
            let order_id = self.state.last_order_id + 1;
            self.state.last_order_id = order_id;
            order_ids[slot] = order_id;
            self.state.orders.insert(
                order_id,
                OrderRecord {
                    symbol: market.symbol.as_str().to_string(),
                    order_id,
                    order_list_id: list_id,
                    client_order_id: client.clone(),
                    side: OrderSide::Sell,
                    order_type,
                    price,
                    stop_price,
                    orig_qty: oco.qty,
                    executed_qty: Decimal::ZERO,
                    cummulative_quote_qty: Decimal::ZERO,
                    status: OrderState::New,
                    time: now,
                    update_time: now,
                    lock: lock.clone(),
                },
            );
            self.report(order_id, Change::Placed, now);
        }
        self.state.lists.insert(
            list_id,
            ListRecord {
                order_list_id: list_id,
                list_client_order_id: oco.list_client_order_id,
                symbol: market.symbol.as_str().to_string(),
                orders: order_ids,
                time: now,
            },
        );
        self.state.update_time = now;
        Ok(list_id)
    }

    /// Cancels an open order (and its list's other leg); returns the ids cancelled, or
    /// `-2011` when the order is unknown or finished.
    pub fn cancel(&mut self, order_id: u64, now: i64) -> Result<Vec<u64>, ApiErr> {
        let record = self
            .state
            .orders
            .get(&order_id)
            .filter(|o| o.status.is_open())
            .ok_or_else(|| ApiErr::bad(codes::CANCEL_REJECTED, codes::UNKNOWN_ORDER_MSG))?;
        let ids: Vec<u64> = match self.state.lists.get(&record.order_list_id) {
            Some(list) => list.orders.to_vec(),
            None => vec![order_id],
        };
        let mut done = Vec::new();
        for id in ids {
            if self.finish_open(id, OrderState::Canceled, now) {
                done.push(id);
            }
        }
        self.state.update_time = now;
        Ok(done)
    }

    /// Takes open order `id` out of the fill model and marks it `status` (`CANCELED` on the
    /// user's request, or `EXPIRED`), releasing its lock.
    fn finish_open(&mut self, id: u64, status: OrderState, now: i64) -> bool {
        let Some(record) = self.state.orders.get(&id).filter(|o| o.status.is_open()) else {
            return false;
        };
        let client = ClientOrderId(Arc::from(record.client_order_id.as_str()));
        let m = self.market(&record.symbol).map(|(m, _)| m).unwrap_or(0);
        let ts = self.market_time(m);
        self.exchange.cancel(&client, ts);
        let record = self.state.orders.get_mut(&id).expect("checked above");
        record.status = status;
        record.update_time = now;
        let lock = record.lock.clone();
        self.release(&lock);
        let change = match status {
            OrderState::Expired => Change::Expired,
            _ => Change::UserCanceled,
        };
        self.report(id, change, now);
        true
    }

    fn open_order_id(&self, client: &str) -> Option<u64> {
        self.state
            .orders
            .values()
            .find(|o| o.status.is_open() && o.client_order_id == client)
            .map(|o| o.order_id)
    }

    fn request(
        &self,
        m: usize,
        client: &str,
        side: OrderSide,
        qty: Decimal,
        kind: OrderKind,
    ) -> Result<OrderRequest, ApiErr> {
        Ok(OrderRequest {
            client_order_id: ClientOrderId::new(client)
                .ok_or_else(|| ApiErr::illegal("newClientOrderId"))?,
            symbol: self.markets[m].symbol.clone(),
            side: match side {
                OrderSide::Buy => Side::Buy,
                OrderSide::Sell => Side::Sell,
            },
            qty,
            kind,
            purpose: OrderPurpose::Entry,
            oco_group: None,
            attached: Vec::new(),
            created: self.market_time(m),
        })
    }
}

/// Checks an order against the market's PRICE_FILTER, LOT_SIZE and NOTIONAL filters. The
/// notional uses `price` (limit or trigger) or, for market orders, the last close.
fn check_filters(
    market: &Market,
    qty: Decimal,
    price: Option<Decimal>,
    last: Decimal,
) -> Result<(), ApiErr> {
    let f = &market.filters;
    if qty <= Decimal::ZERO || qty < f.min_qty || qty > f.max_qty || !(qty % f.step_size).is_zero()
    {
        return Err(ApiErr::filter("LOT_SIZE"));
    }
    if let Some(p) = price {
        if p < f.tick_size || p > MAX_PRICE || !(p % f.tick_size).is_zero() {
            return Err(ApiErr::filter("PRICE_FILTER"));
        }
    }
    match qty.checked_mul(price.unwrap_or(last)) {
        Some(notional) if notional >= f.min_notional => Ok(()),
        _ => Err(ApiErr::filter("NOTIONAL")),
    }
}

mod balances;
use balances::round_up;
pub mod events;
use events::{Change, Outbox};
mod settle;

#[cfg(test)]
mod tests;
