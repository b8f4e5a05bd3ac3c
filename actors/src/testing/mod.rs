//! Test support (feature `test-support`): a loopback HTTP server that tests script to play a
//! model provider or a news feed, and flat candles. Not part of keel's runtime.

mod candles;
mod http_server;

pub use candles::{flat_hour, HOUR_MS};
pub use http_server::{FakeRequest, FakeResponse, FakeServer};
