//! The book as reconciliation sees a venue (DESIGN §5): after a restart, once every doubt
//! was resolved with the venue, the book answers for each of keel's orders with what the
//! venue holds; venue orders that no leg accounts for are listed too, so that they are
//! reported instead of ignored.

use super::{Phase, VenueBook};
use crate::execution::{VenueOrder, VenueView};
use crate::model::{ClientOrderId, OrderStatus};

/// A venue as seen through the book, plus the venue's open orders it does not account for.
#[derive(Debug, Clone, Copy)]
pub struct RemoteVenueView<'a> {
    /// The book.
    pub book: &'a VenueBook,
    /// Open orders at the venue that no leg accounts for.
    pub foreign: &'a [VenueOrder],
}

impl VenueView for RemoteVenueView<'_> {
    fn order(&self, id: &ClientOrderId) -> Option<VenueOrder> {
        if let Some(leg) = self.book.leg(id) {
            let status = match leg.phase {
                // Exits waiting for their entry are held (open) on keel's side of the venue.
                Phase::Held | Phase::Due | Phase::Working | Phase::Cancelling { .. } => {
                    if leg.fills.is_empty() {
                        OrderStatus::Accepted
                    } else {
                        OrderStatus::PartiallyFilled
                    }
                }
                Phase::Sending => OrderStatus::Submitted,
                Phase::Done { status } => status,
            };
            return Some(VenueOrder {
                request: leg.request.clone(),
                parent: leg.parent.clone(),
                status,
                fills: leg.fills.clone(),
                finished_at: leg.finished_at,
            });
        }
        self.foreign
            .iter()
            .find(|o| &o.request.client_order_id == id)
            .cloned()
    }

    fn order_ids(&self) -> Vec<ClientOrderId> {
        self.book
            .legs
            .keys()
            .cloned()
            .chain(
                self.foreign
                    .iter()
                    .map(|o| o.request.client_order_id.clone()),
            )
            .collect()
    }
}
