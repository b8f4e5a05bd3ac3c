//! Test support (feature `test-support`): a loopback HTTP server that tests script to play a
//! model provider or a news feed. Not part of keel's runtime.

mod http_server;
#[cfg(test)]
pub(crate) mod props;

pub use http_server::{FakeRequest, FakeResponse, FakeServer};
