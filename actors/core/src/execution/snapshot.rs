//! A venue's orders as reconciliation sees them, owned: taken from any [`VenueView`] so that
//! it can be held, sent or compared after the venue has moved on.

use std::collections::HashMap;

use super::sim::SimExchange;
use super::state::open_order;
use super::{VenueOrder, VenueView};
use crate::model::ClientOrderId;

/// Every order a venue answered for at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VenueSnapshot {
    /// In the venue's order (open ones first).
    ids: Vec<ClientOrderId>,
    orders: HashMap<ClientOrderId, VenueOrder>,
}

impl VenueSnapshot {
    /// What `view` answers now.
    pub fn of(view: &dyn VenueView) -> Self {
        let ids = view.order_ids();
        let orders = ids
            .iter()
            .filter_map(|id| view.order(id).map(|o| (id.clone(), o)))
            .collect();
        Self { ids, orders }
    }
}

impl VenueSnapshot {
    /// What the in-process venue answers now: [`of`](Self::of) it, in one pass over its
    /// orders instead of a search of all of them per order (a restart of the order manager
    /// reconciles against this, and the venue keeps up to two thousand finished orders).
    pub fn of_sim(venue: &SimExchange) -> Self {
        let ids: Vec<ClientOrderId> = venue.known_order_ids().cloned().collect();
        let mut orders = HashMap::with_capacity(ids.len());
        // As `query` answers: an open order before any finished one, and of the finished
        // ones with the same id the most recent.
        for order in &venue.finished {
            orders.insert(order.request.client_order_id.clone(), order.clone());
        }
        for order in venue.books.values().flatten() {
            orders.insert(order.request.client_order_id.clone(), open_order(order));
        }
        Self { ids, orders }
    }
}

impl VenueView for VenueSnapshot {
    fn order(&self, id: &ClientOrderId) -> Option<VenueOrder> {
        self.orders.get(id).cloned()
    }

    fn order_ids(&self) -> Vec<ClientOrderId> {
        self.ids.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{candles, Driver};

    #[test]
    fn the_sim_venue_in_one_pass_answers_as_it_does_order_by_order() {
        let mut driver = Driver::new();
        for (i, candle) in candles(600).iter().enumerate() {
            driver.step(candle);
            if i % 50 == 49 {
                assert_eq!(
                    VenueSnapshot::of_sim(&driver.ex),
                    VenueSnapshot::of(&driver.ex),
                    "after {} bars",
                    i + 1
                );
            }
        }
        assert!(driver.ex.known_order_ids().count() > 50, "a busy venue");
    }
}
