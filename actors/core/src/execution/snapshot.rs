//! A venue's orders as reconciliation sees them, owned: taken from any [`VenueView`] so that
//! it can be held, sent or compared after the venue has moved on.

use std::collections::HashMap;

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

impl VenueView for VenueSnapshot {
    fn order(&self, id: &ClientOrderId) -> Option<VenueOrder> {
        self.orders.get(id).cloned()
    }

    fn order_ids(&self) -> Vec<ClientOrderId> {
        self.ids.clone()
    }
}
