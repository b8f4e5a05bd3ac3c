//! Why a search produced no results.

use std::time::Duration;

use keel_supervision::Transient;

/// Why a search produced no results. No message ever holds the API key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    /// `strategy.llm.search.base_url` is not set.
    #[error("strategy.llm.search.base_url is not set: no search API to ask")]
    NoBaseUrl,
    /// The client could not be built (a timeout that is not a duration, no TLS backend).
    #[error("cannot build the search client: {0}")]
    Client(String),
    /// The server answered with an error status.
    #[error("search API HTTP {status}{}: {excerpt}", retry_after.map(|d| format!(" (retry-after {:.1}s)", d.as_secs_f64())).unwrap_or_default())]
    Status {
        /// The status code.
        status: u16,
        /// The server's `retry-after`, if any.
        retry_after: Option<Duration>,
        /// The start of the body (key redacted).
        excerpt: String,
    },
    /// An attempt took longer than `strategy.llm.search.timeout_secs`.
    #[error("no complete search answer within {0:.1}s")]
    Timeout(f64),
    /// The connection failed.
    #[error("search API connection failed: {0}")]
    Connection(String),
    /// A 2xx answer that is not a search response (what is wrong).
    #[error("invalid search answer: {0}")]
    Body(String),
}

impl Transient for SearchError {
    /// 429, 5xx, timeouts and connection errors.
    fn transient(&self) -> bool {
        match self {
            SearchError::Status { status, .. } => *status == 429 || *status >= 500,
            SearchError::Timeout(_) | SearchError::Connection(_) => true,
            SearchError::NoBaseUrl | SearchError::Client(_) | SearchError::Body(_) => false,
        }
    }

    /// The server's `retry-after`.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            SearchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_failures_are_transient() {
        let status = |status| SearchError::Status {
            status,
            retry_after: None,
            excerpt: String::new(),
        };
        assert!(status(429).transient());
        assert!(status(503).transient());
        assert!(!status(401).transient());
        assert!(!status(400).transient());
        assert!(SearchError::Timeout(1.0).transient());
        assert!(SearchError::Connection("reset".into()).transient());
        assert!(!SearchError::Body("x".into()).transient());
        assert!(!SearchError::NoBaseUrl.transient());
    }
}
