//! Saving and restoring the order manager ([`OrderManagerState`]), and the queries
//! reconciliation needs.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{OrderManager, Tracked};
use crate::model::TradeId;
use crate::order_manager::book::SymbolBook;
use crate::order_manager::ids::OrderIds;
use crate::order_manager::{
    OrderManagerConfig, OrderManagerState, OrderStateError, SymbolState, TrackedOrder,
};

/// What moves between order events: the last price and the highest close since entry of
/// one open position. Journalled at every bar close; the full state at every order event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PriceMark {
    /// The position's symbol.
    pub symbol: crate::model::Symbol,
    /// Its last marked price.
    pub last_price: crate::model::Decimal,
    /// The highest close since its entry (for the trailing stop).
    pub highest_close: crate::model::Decimal,
}

impl OrderManager {
    /// The price marks of every open position.
    pub fn price_marks(&self) -> Vec<PriceMark> {
        self.books
            .iter()
            .filter_map(|(symbol, book)| {
                book.position.as_ref().map(|p| PriceMark {
                    symbol: symbol.clone(),
                    last_price: p.last_price,
                    highest_close: book.trip.highest_close,
                })
            })
            .collect()
    }

    /// Applies marks taken after this state was saved (positions not held are ignored).
    pub fn restore_price_marks(&mut self, marks: &[PriceMark]) {
        for mark in marks {
            if let Some(book) = self.books.get_mut(&mark.symbol) {
                if let Some(position) = book.position.as_mut() {
                    position.last_price = mark.last_price;
                    book.trip.highest_close = mark.highest_close;
                }
            }
        }
    }

    /// Everything needed to continue later with [`from_state`](Self::from_state): orders,
    /// positions, round trips, cash, the id sequence and the trade ids already applied.
    pub fn to_state(&self) -> OrderManagerState {
        let mut applied_trades: Vec<TradeId> = self.seen_trades.iter().copied().collect();
        applied_trades.sort_unstable();
        OrderManagerState {
            last_seq: self.ids.last_seq(),
            cash: self.cash,
            fees_paid: self.fees_paid,
            orders: self
                .tracked
                .iter()
                .map(|t| TrackedOrder {
                    order: t.order.clone(),
                    parent: t.parent,
                    reserve: t.reserve,
                })
                .collect(),
            symbols: self
                .books
                .iter()
                .map(|(symbol, book)| SymbolState {
                    symbol: symbol.clone(),
                    position: book.position.clone(),
                    trip: book.trip.clone(),
                    dust: book.dust,
                })
                .collect(),
            applied_trades,
            closed_trades: self.closed.clone(),
            anomalies: self.anomalies.clone(),
        }
    }

    /// The manager as it was when `state` was taken, with `cfg` from the settings (new ids
    /// continue the saved sequence under `cfg.run_id`). Refuses a state that does not hold
    /// together: a repeated client id or symbol, a parent that is not an earlier order, or a
    /// position filed under another symbol.
    pub fn from_state(
        cfg: OrderManagerConfig,
        state: OrderManagerState,
    ) -> Result<Self, OrderStateError> {
        let mut books: BTreeMap<_, SymbolBook> = BTreeMap::new();
        for s in state.symbols {
            if let Some(position) = &s.position {
                if position.symbol != s.symbol {
                    return Err(OrderStateError(format!(
                        "the position in {} is filed under {}",
                        position.symbol, s.symbol
                    )));
                }
            }
            let book = SymbolBook {
                last_close: None,
                position: s.position,
                trip: s.trip,
                open_orders: Vec::new(),
                dust: s.dust,
            };
            if books.insert(s.symbol.clone(), book).is_some() {
                return Err(OrderStateError(format!(
                    "symbol {} appears twice",
                    s.symbol
                )));
            }
        }
        let mut index = HashMap::with_capacity(state.orders.len());
        let mut tracked = Vec::with_capacity(state.orders.len());
        for (i, t) in state.orders.into_iter().enumerate() {
            let id = t.order.id().clone();
            if t.parent.is_some_and(|p| p >= i) {
                return Err(OrderStateError(format!(
                    "order {id} (#{i}) names parent #{} which is not an earlier order",
                    t.parent.unwrap_or_default()
                )));
            }
            if index.insert(id.clone(), i).is_some() {
                return Err(OrderStateError(format!("order {id} appears twice")));
            }
            if t.order.status.is_open() {
                books
                    .entry(t.order.request.symbol.clone())
                    .or_default()
                    .open_orders
                    .push(i);
            }
            tracked.push(Tracked {
                order: t.order,
                parent: t.parent,
                reserve: t.reserve,
            });
        }
        Ok(Self {
            ids: OrderIds::resume(&cfg.run_id, state.last_seq),
            cfg,
            cash: state.cash,
            fees_paid: state.fees_paid,
            tracked,
            index,
            books,
            seen_trades: state.applied_trades.into_iter().collect::<HashSet<_>>(),
            closed: state.closed_trades,
            anomalies: state.anomalies,
        })
    }

    /// Whether the fill with `trade` was applied already.
    pub fn has_applied(&self, trade: TradeId) -> bool {
        self.seen_trades.contains(&trade)
    }

    /// Every order not in a terminal state, oldest first, across all symbols.
    pub fn all_open_orders(&self) -> impl Iterator<Item = &crate::model::Order> {
        self.tracked
            .iter()
            .map(|t| &t.order)
            .filter(|o| o.status.is_open())
    }
}
