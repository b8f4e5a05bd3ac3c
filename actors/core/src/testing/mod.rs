//! Test support (feature `test-support`): flat candles, and an order manager driven against
//! the simulated venue. The loopback HTTP server that plays
//! a model provider or a news feed is `keel_news::testing`. Not part of keel's runtime.

mod candles;
mod om_driver;

pub use candles::{flat_hour, HOUR_MS};
pub use om_driver::{btc, candles, Driver};
