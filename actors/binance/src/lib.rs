//! Binance spot (crate `keel-binance`): the wire protocol keel speaks to Binance and to the sim
//! exchange server, the signed client, the market streams, and the venue-side order book.
//!
//! Both sides of the conversation share these definitions: the `keel sim-exchange` server
//! answers with them and the `BinanceSpot` adapter reads them, so the tests also pin them to
//! the documented wire format (field names, strings for decimals, error bodies).
//!
//! - [`sign`]: HMAC-SHA256 request signing and signed query strings.
//! - [`wire`]: REST request and response bodies, and the market-stream payloads.
//! - [`filters`]: exchangeInfo's price, lot and notional filters, and rounding orders to them.
//! - [`codes`]: the error codes and messages keel acts on.
//! - [`client`]: `BinanceClient`, the signed REST client (weights, time sync, the
//!   unknown-outcome rule); [`stream`]: the market streams with reconnect and back-fill;
//!   [`user_stream`]: the account's order updates from the WebSocket API.
//! - [`book`]: keel's brackets carried out on a venue without linked orders (the runtime's
//!   bridge journals the book before every request).

#![warn(missing_docs)]

pub mod book;
pub mod client;
pub mod codes;
pub mod filters;
mod remote;
pub mod sign;
pub mod stream;
pub mod user_stream;
pub mod venue;
pub mod wire;

pub use filters::{FilterError, SymbolFilters};
pub use remote::RemoteVenue;
pub use sign::Signer;

// The layers below, under the names the modules use.
#[cfg(test)]
use keel_core::testing;
use keel_core::{execution, order_manager};
use keel_model as model;
