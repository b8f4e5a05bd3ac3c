//! The execution stage: the exchange port ([`Venue`]), the fill model of DESIGN §6, the
//! in-process `SimExchange` behind the port ([`SimVenue`]), a remote venue behind it
//! ([`remote::BridgedVenue`]), and the breaker every venue call goes through.
//!
//! The backtest engine and the paper runtime both execute through [`SimExchange`], so that
//! their fills (prices, fees, timestamps) agree to the last decimal.

pub mod actor;
pub mod fill_model;
mod port;
pub mod remote;
mod sim;
mod sim_venue;
mod snapshot;
mod state;
mod venue_guard;

pub use fill_model::FillConfig;
pub use port::{Venue, VenueAnswer, VenueFuture, VenueHalt};
pub use sim::{Activation, RestingOrder, SimExchange, DUPLICATE_ORDER, UNKNOWN_ORDER};
pub use sim_venue::SimVenue;
pub use snapshot::VenueSnapshot;
pub use state::{SimExchangeState, VenueOrder, VenueStateError, VenueView, FINISHED_ORDERS_KEPT};
pub use venue_guard::{VenueFaults, VenueGuard};
