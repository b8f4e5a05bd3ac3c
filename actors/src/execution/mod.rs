//! Venues' side of trading: the fill model of DESIGN §6 and the in-process `SimExchange`.
//!
//! The backtest engine and the paper runtime both execute through [`SimExchange`], so that
//! their fills (prices, fees, timestamps) agree to the last decimal.

pub mod actor;
pub mod fill_model;
pub mod remote;
mod sim;
mod state;
mod venue_guard;

pub use fill_model::FillConfig;
pub use sim::{Activation, RestingOrder, SimExchange, DUPLICATE_ORDER, UNKNOWN_ORDER};
pub use state::{SimExchangeState, VenueOrder, VenueStateError, VenueView, FINISHED_ORDERS_KEPT};
pub use venue_guard::{Guarded, VenueFaults, VenueGuard};
