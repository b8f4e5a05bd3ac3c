//! The simulated venue and its fill model (DESIGN §6): [`SimExchange`] fills orders against
//! candles, deterministically, and [`VenueSnapshot`] is what reconciliation compares the order
//! manager's book with, whatever the venue.
//!
//! The backtest engine executes through [`SimExchange`] directly; the paper runtime puts it
//! behind the venue port (`keel_actors::execution::SimVenue`), so that their fills (prices,
//! fees, timestamps) agree to the last decimal.

pub mod fill_model;
mod sim;
mod snapshot;
mod state;

pub use fill_model::FillConfig;
pub use sim::{Activation, RestingOrder, SimExchange, DUPLICATE_ORDER, UNKNOWN_ORDER};
pub use snapshot::VenueSnapshot;
pub use state::{SimExchangeState, VenueOrder, VenueStateError, VenueView, FINISHED_ORDERS_KEPT};
