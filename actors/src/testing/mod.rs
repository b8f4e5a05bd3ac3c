//! Test support (feature `test-support`): flat candles. The loopback HTTP server that plays
//! a model provider or a news feed is `keel_news::testing`. Not part of keel's runtime.

mod candles;

pub use candles::{flat_hour, HOUR_MS};
