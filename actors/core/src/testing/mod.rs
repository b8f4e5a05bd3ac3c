//! Test support (feature `test-support`): flat candles, an order manager driven against
//! the simulated venue, and what property tests share (a seeded [`Rng`], a [`Json`] writer). The loopback HTTP server that plays
//! a model provider or a news feed is `keel_news::testing`. Not part of keel's runtime.

mod candles;
pub mod json;
mod om_driver;
mod rng;

pub use candles::{candle_ohlc, candle_price, flat_hour, HOUR_MS};
pub use json::Json;
pub use om_driver::{btc, candles, Driver};
pub use rng::{damage, props_config, Rng};
