//! Web search for the `llm` strategy's context: a client of a Tavily-compatible search API
//! (`[strategy.llm.search]`), asking for the news up to a bar's UTC day. Its answers are
//! untrusted text: [`read_results`] checks them strictly and cleans and cuts every string.
//! Results are cached in the [`AnalysisCache`](crate::llm::AnalysisCache) so replays make no
//! request.

mod client;
mod error;
mod results;

pub use client::SearchClient;
pub use error::SearchError;
pub use results::{read_results, MAX_BODY_BYTES, MAX_TITLE_CHARS};

#[cfg(test)]
mod client_tests;
