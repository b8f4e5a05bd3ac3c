//! The venue's persistent state and its answers about single orders: what a paper run saves
//! in its journal so that it continues where it was, and what reconciliation asks.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::sim::{RestingOrder, SimExchange};
use super::FillConfig;
use crate::model::{ClientOrderId, Fill, OrderRequest, OrderStatus, Symbol, Timestamp};

/// How many filled or cancelled orders the venue remembers for [`SimExchange::query`]. The
/// oldest are forgotten first; reconciliation only asks about recent orders.
pub const FINISHED_ORDERS_KEPT: usize = 1_000;

/// What the venue knows about one order, as a query by client order id returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueOrder {
    /// The order as the venue holds it (`attached` is empty: children are orders of their own).
    pub request: OrderRequest,
    /// The order it is attached to, if any.
    pub parent: Option<ClientOrderId>,
    /// `Accepted` while open (working or waiting for its parent), `Filled`, `Cancelled` or
    /// `Expired`.
    pub status: OrderStatus,
    /// Its executions, oldest first (the sim fills every order in one execution).
    pub fills: Vec<Fill>,
    /// When it was filled or cancelled (none while open): reconciliation reports the
    /// change at the venue's time, not at the time it found out.
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
}

/// Everything a [`SimExchange`] holds except its fill config (which comes from the settings):
/// the resting orders, the trade id sequence, the last bar worked per symbol, the recent
/// finished orders and the cash it holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SimExchangeState {
    /// Open orders per symbol, in the venue's working order.
    pub books: BTreeMap<Symbol, Vec<RestingOrder>>,
    /// The last trade id handed out.
    pub last_trade_id: u64,
    /// Open time of the last bar worked, per symbol (a bar at or before it is ignored).
    pub last_bar: BTreeMap<Symbol, Timestamp>,
    /// Recently filled or cancelled orders, oldest first.
    pub finished: Vec<VenueOrder>,
    /// The quote asset the account holds at the venue, when the venue keeps it (see
    /// [`SimExchange::with_cash`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash: Option<Decimal>,
}

/// A saved venue state that cannot be restored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("venue state cannot be restored: {0}")]
pub struct VenueStateError(pub String);

impl SimExchange {
    /// Everything needed to continue this venue later with [`from_state`](Self::from_state).
    pub fn to_state(&self) -> SimExchangeState {
        SimExchangeState {
            books: self.books.clone(),
            last_trade_id: self.last_trade_id,
            last_bar: self.last_bar.clone(),
            finished: self.finished.clone(),
            cash: self.cash,
        }
    }

    /// The venue as it was when `state` was taken, charging the costs of `cfg`. Refuses a
    /// state whose client ids repeat or whose orders sit in another symbol's book.
    pub fn from_state(cfg: FillConfig, state: SimExchangeState) -> Result<Self, VenueStateError> {
        let mut seen = HashSet::new();
        for (symbol, book) in &state.books {
            for order in book {
                let id = &order.request.client_order_id;
                if &order.request.symbol != symbol {
                    return Err(VenueStateError(format!(
                        "order {id} of {} is in the book of {symbol}",
                        order.request.symbol
                    )));
                }
                if !seen.insert(id.clone()) {
                    return Err(VenueStateError(format!("order {id} is held twice")));
                }
            }
        }
        Ok(Self {
            cfg,
            books: state.books,
            last_trade_id: state.last_trade_id,
            last_bar: state.last_bar,
            finished: state.finished,
            cash: state.cash,
        })
    }

    /// What the venue knows about `id`: an open order (`Accepted`, no fills yet), a recently
    /// filled or cancelled one, or `None` when it never held it (or forgot it long ago).
    /// Rejected submissions are never held, as on Binance.
    pub fn query(&self, id: &ClientOrderId) -> Option<VenueOrder> {
        let open = self
            .books
            .values()
            .flatten()
            .find(|o| &o.request.client_order_id == id);
        if let Some(order) = open {
            return Some(open_order(order));
        }
        self.finished
            .iter()
            .rev()
            .find(|o| &o.request.client_order_id == id)
            .cloned()
    }

    /// The ids of every order the venue can answer for: open ones, then the recently
    /// finished ones.
    pub fn known_order_ids(&self) -> impl Iterator<Item = &ClientOrderId> {
        self.books
            .values()
            .flatten()
            .map(|o| &o.request.client_order_id)
            .chain(self.finished.iter().map(|o| &o.request.client_order_id))
    }
}

/// How the venue answers for an order still resting on its book: accepted, no fills yet.
pub(super) fn open_order(order: &RestingOrder) -> VenueOrder {
    VenueOrder {
        request: order.request.clone(),
        parent: order.parent.clone(),
        status: OrderStatus::Accepted,
        fills: Vec::new(),
        finished_at: None,
    }
}

/// What reconciliation asks a venue (DESIGN §5): what it knows about one order, by client
/// order id, and which orders it can answer for. The in-process [`SimExchange`] answers from
/// its own books; a remote venue answers from a snapshot taken by querying it.
pub trait VenueView {
    /// The venue's view of `id`, or `None` when it never held it (or forgot it long ago).
    fn order(&self, id: &ClientOrderId) -> Option<VenueOrder>;
    /// Every order the venue can answer for (open ones first).
    fn order_ids(&self) -> Vec<ClientOrderId>;
}

impl VenueView for SimExchange {
    fn order(&self, id: &ClientOrderId) -> Option<VenueOrder> {
        self.query(id)
    }

    fn order_ids(&self) -> Vec<ClientOrderId> {
        self.known_order_ids().cloned().collect()
    }
}

/// Records `order` as finished with `status` (and its fill), forgetting the oldest finished
/// orders once more than twice [`FINISHED_ORDERS_KEPT`] pile up (amortised O(1)).
pub(super) fn remember(
    finished: &mut Vec<VenueOrder>,
    order: RestingOrder,
    status: OrderStatus,
    fill: Option<Fill>,
    at: Timestamp,
) {
    if finished.len() >= 2 * FINISHED_ORDERS_KEPT {
        finished.drain(..finished.len() - FINISHED_ORDERS_KEPT);
    }
    finished.push(VenueOrder {
        request: order.request,
        parent: order.parent,
        status,
        fills: fill.into_iter().collect(),
        finished_at: Some(at),
    });
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::model::{Candle, Decimal, ExecutionReport, Interval, OrderKind, OrderPurpose, Side};

    const H: i64 = 3_600_000;

    fn btc() -> Symbol {
        Symbol::parse("BTCUSDT").unwrap()
    }

    fn id(text: &str) -> ClientOrderId {
        ClientOrderId::new(text).unwrap()
    }

    fn sell(name: &str, kind: OrderKind) -> OrderRequest {
        OrderRequest {
            client_order_id: id(name),
            symbol: btc(),
            side: Side::Sell,
            qty: dec!(1),
            kind,
            purpose: OrderPurpose::StopLoss,
            oco_group: Some(1),
            attached: vec![],
            created: Timestamp(H),
        }
    }

    /// A market buy of 1 with a stop at 95 and a take-profit at 110 (one OCO group).
    fn bracket() -> OrderRequest {
        OrderRequest {
            side: Side::Buy,
            kind: OrderKind::Market,
            purpose: OrderPurpose::Entry,
            oco_group: None,
            attached: vec![
                sell("e-s1", OrderKind::Stop { trigger: dec!(95) }),
                sell("e-t1", OrderKind::Limit { price: dec!(110) }),
            ],
            ..sell("e", OrderKind::Market)
        }
    }

    fn bar(hour: i64, low: Decimal) -> Candle {
        Candle {
            symbol: btc(),
            open_time: Timestamp(hour * H),
            interval: Interval::HOUR,
            open: dec!(100),
            high: dec!(101),
            low,
            close: dec!(100),
            volume: dec!(1),
        }
    }

    fn venue() -> SimExchange {
        SimExchange::new(FillConfig::default())
    }

    #[test]
    fn a_bar_replayed_after_a_restart_fills_nothing_twice() {
        let mut ex = venue();
        ex.submit(bracket());
        let first = ex.on_candle(&bar(1, dec!(99)));
        assert_eq!(first.len(), 1, "the entry fills at the open");
        let saved = ex.to_state();
        assert_eq!(saved.last_bar.get(&btc()), Some(&Timestamp(H)));
        let mut restored = SimExchange::from_state(FillConfig::default(), saved).unwrap();
        assert!(restored.on_candle(&bar(1, dec!(99))).is_empty());
        assert!(
            restored.on_candle(&bar(0, dec!(90))).is_empty(),
            "older bar"
        );
        // The next bar works as usual: the stop at 95 is hit.
        let next = restored.on_candle(&bar(2, dec!(94)));
        assert!(matches!(&next[0], ExecutionReport::Fill(f) if f.client_order_id == id("e-s1")));
    }

    #[test]
    fn query_answers_for_open_filled_and_cancelled_orders_and_not_for_strangers() {
        let mut ex = venue();
        ex.submit(bracket());
        assert_eq!(ex.query(&id("e")).unwrap().status, OrderStatus::Accepted);
        ex.on_candle(&bar(1, dec!(99)));
        ex.on_candle(&bar(2, dec!(94)));
        let entry = ex.query(&id("e")).unwrap();
        assert_eq!(entry.status, OrderStatus::Filled);
        assert_eq!(entry.fills.len(), 1);
        assert_eq!(entry.fills[0].price, dec!(100.05));
        let stop = ex.query(&id("e-s1")).unwrap();
        assert_eq!(stop.status, OrderStatus::Filled);
        assert_eq!(stop.parent, Some(id("e")));
        let take_profit = ex.query(&id("e-t1")).unwrap();
        assert_eq!(take_profit.status, OrderStatus::Cancelled);
        assert!(take_profit.fills.is_empty());
        assert!(ex.query(&id("never-sent")).is_none());
        let ids: Vec<&str> = ex.known_order_ids().map(|i| i.as_str()).collect();
        assert_eq!(ids, ["e", "e-s1", "e-t1"]);
    }

    #[test]
    fn only_the_most_recent_finished_orders_are_kept() {
        let mut ex = venue();
        for n in 0..(2 * FINISHED_ORDERS_KEPT + 1) {
            let name = format!("c{n}");
            ex.submit(sell(&name, OrderKind::Limit { price: dec!(200) }));
            ex.cancel(&id(&name), Timestamp(H));
        }
        assert_eq!(ex.to_state().finished.len(), FINISHED_ORDERS_KEPT + 1);
        assert!(ex.query(&id("c0")).is_none());
        let last = format!("c{}", 2 * FINISHED_ORDERS_KEPT);
        assert_eq!(ex.query(&id(&last)).unwrap().status, OrderStatus::Cancelled);
    }

    #[test]
    fn a_state_holding_an_order_twice_is_refused() {
        let mut ex = venue();
        ex.submit(bracket());
        let mut state = ex.to_state();
        let book = state.books.get_mut(&btc()).unwrap();
        book.push(book[0].clone());
        let err = SimExchange::from_state(FillConfig::default(), state).unwrap_err();
        assert_eq!(
            err.to_string(),
            "venue state cannot be restored: order e is held twice"
        );
    }
}
