//! The sentiment stage's runtime side: its actor shell, and the poller that brings live
//! headlines from news feeds to it. The stage itself (headlines, analysts, the sentiment core)
//! is the crate `keel-news`.

pub mod actor;
pub mod poller;

#[cfg(test)]
mod poller_tests;
