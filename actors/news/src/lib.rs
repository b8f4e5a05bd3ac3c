//! keel's news layer (crate `keel-news`): headlines (JSON or JSONL files for replay) → an [`Analyst`] (the offline
//! [`LexiconAnalyst`] by default) → `SentimentUpdate`s and `MarketEvent`s, released in event
//! time by the [`SentimentCore`].
//!
//! Analyst output is untrusted: every analysis is clamped into range before use, analyst
//! failures are counted and never become a signal.

#![warn(missing_docs)]

mod analyst;
mod config;
mod core;
pub mod feed;
mod headline;
mod lexicon;
pub mod llm;
mod log;
mod news_file;
pub mod search;
mod tagger;

pub use self::core::{AnalysisJob, SentimentCore};
pub use analyst::{Analysis, Analyst, AnalystError, DetectedEvent};
pub use config::SentimentConfig;
pub use headline::{clean_title, Headline};
pub use lexicon::{
    LexiconAnalyst, TitleScore, INTENSIFIERS, INTENSIFIER_FACTOR, INTENSIFIER_SCOPE, LEXICON,
    NEGATIONS, NEGATION_SCOPE, SCORE_SCALE,
};
pub use log::log_outputs;
pub use news_file::{load_headlines, load_news, LoadedNews, NewsError};
pub use tagger::SymbolTagger;

#[cfg(any(test, feature = "test-support"))]
pub mod testing;

// The layers below, under the names the modules use.
use keel_model as model;
use keel_supervision::config as config_check;
