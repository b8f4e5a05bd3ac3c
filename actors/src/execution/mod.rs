//! The execution stage: the exchange port ([`Venue`]), the in-process `SimExchange` behind it
//! ([`SimVenue`]), a remote venue behind it ([`remote::BridgedVenue`] over the [`bridge`]),
//! and the breaker every venue call goes through. The simulated venue itself and its fill
//! model are cores: `keel_core::execution`.

pub mod actor;
pub mod bridge;
mod port;
pub mod remote;
mod sim_venue;
mod venue_guard;

pub use port::{Venue, VenueAnswer, VenueFuture, VenueHalt};
pub use sim_venue::SimVenue;
pub use venue_guard::{VenueFaults, VenueGuard};

#[cfg(test)]
mod actor_tests;
