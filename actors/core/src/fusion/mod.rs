//! Fusion: combines a technical setup with sentiment, market events and the regime into one
//! signal with a confidence. A critical negative event vetoes new longs; stale sentiment weighs
//! nothing; with the analyst unavailable, fusion goes technical-only with lower confidence.

mod config;
mod core;

pub use self::core::{FusionCore, FusionDecision};
pub use config::FusionConfig;
