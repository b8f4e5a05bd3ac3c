//! What a remote venue must answer for keel's venue book: the contract between the runtime's
//! bridge (which journals the book before every request) and an adapter such as
//! [`BinanceVenue`](crate::venue::BinanceVenue).

use std::future::Future;

use crate::book::{CancelOutcome, PlaceOutcome, VenueAction};
use crate::client::VenueError;
use crate::model::Symbol;
use crate::wire::{Balance, MyTrade, QueriedOrder};

/// The venue calls the bridge needs. Reads may retry; `place` and `cancel` must not resend
/// blindly: `place` resolves an unknown outcome by querying the client id.
pub trait RemoteVenue {
    /// Places an order or an OCO list.
    fn place(&self, action: &VenueAction) -> impl Future<Output = PlaceOutcome>;
    /// Cancels an order or its list.
    fn cancel(&self, action: &VenueAction) -> impl Future<Output = CancelOutcome>;
    /// The account's trades of `symbol` with ids above `after`, ascending.
    fn trades(
        &self,
        symbol: &Symbol,
        after: u64,
    ) -> impl Future<Output = Result<Vec<MyTrade>, VenueError>>;
    /// The open orders of `symbol`.
    fn open_orders(
        &self,
        symbol: &Symbol,
    ) -> impl Future<Output = Result<Vec<QueriedOrder>, VenueError>>;
    /// One order by client id (`None`: the venue does not know it).
    fn query(
        &self,
        symbol: &Symbol,
        venue_id: &str,
    ) -> impl Future<Output = Result<Option<QueriedOrder>, VenueError>>;
    /// The account's balances.
    fn balances(&self) -> impl Future<Output = Result<Vec<Balance>, VenueError>>;
}
