//! Binance spot: the wire protocol keel speaks to Binance and to the sim exchange server.
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
//!   unknown-outcome rule); [`stream`]: the market streams with reconnect and back-fill.
//! - [`book`] and [`bridge`]: keel's brackets carried out on a venue without linked orders,
//!   journalled before every request.

pub mod book;
pub mod bridge;
pub mod client;
pub mod codes;
pub mod filters;
pub mod sign;
pub mod stream;
pub mod venue;
pub mod wire;

pub use filters::{FilterError, SymbolFilters};
pub use sign::Signer;
