//! Test support (feature `test-support`): a loopback HTTP server that tests script to play a
//! model provider or a news feed, and a fake trading model. Not part of keel's runtime.

mod fake_trader;
mod http_server;
#[cfg(test)]
pub(crate) mod props;

pub use fake_trader::{completion, decision_context, fake_trader};
pub use http_server::{FakeRequest, FakeResponse, FakeServer};
