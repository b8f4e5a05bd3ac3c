//! The search API's HTTP client: `POST {base_url}/search`, a timeout per attempt, and keel's
//! one retry helper ([`retry_idempotent`]) on 429, 5xx, timeouts and connection errors,
//! honouring `retry-after`. The key never appears in a log, an error or a `Debug` output.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use keel_core::strategy::llm::{SearchConfig, SearchHit};
use keel_supervision::{parse_retry_after, retry_idempotent, RetryPolicy};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use tracing::warn;

use super::results::{read_results, MAX_BODY_BYTES};
use super::SearchError;
use crate::llm::ApiKey;

/// Delay before the first retry; doubles up to [`RETRY_MAX_MS`] (jittered).
const RETRY_MIN_MS: u64 = 250;
/// Cap of the backoff between retries.
const RETRY_MAX_MS: u64 = 5_000;
/// The longest `retry-after` waited for; a server asking more fails the search at once.
const MAX_RETRY_AFTER_MS: u64 = 30_000;
/// Characters of an error answer's body kept in the error.
const EXCERPT_CHARS: usize = 200;

struct Inner {
    http: reqwest::Client,
    url: String,
    cfg: SearchConfig,
    key: ApiKey,
    /// `Bearer <key>`, marked sensitive; none without a key.
    bearer: Option<HeaderValue>,
    requests: AtomicU64,
}

/// Asks a Tavily-compatible search API. Cheap to clone; the futures it returns own what
/// they need (an actor can spawn them).
#[derive(Clone)]
pub struct SearchClient(Arc<Inner>);

impl fmt::Debug for SearchClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchClient")
            .field("url", &self.0.url)
            .field("key", &self.0.key)
            .finish()
    }
}

impl SearchClient {
    /// A client for `cfg` sending `key` (from `ApiKey::from_env(cfg.api_key_env)`; none:
    /// no `Authorization` header). Errors without `base_url`, or when the client cannot be
    /// built.
    pub fn new(cfg: &SearchConfig, key: ApiKey) -> Result<Self, SearchError> {
        let base = cfg.base_url.as_deref().ok_or(SearchError::NoBaseUrl)?;
        let url = format!("{}/search", base.strip_suffix('/').unwrap_or(base));
        // Validated config keeps it in [0.01, 120]; an unvalidated one must not panic here.
        let timeout = Duration::try_from_secs_f64(cfg.timeout_secs).map_err(|e| {
            SearchError::Client(format!(
                "strategy.llm.search.timeout_secs = {} is not a duration: {e}",
                cfg.timeout_secs
            ))
        })?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| SearchError::Client(e.to_string()))?;
        let bearer = key.bearer();
        Ok(Self(Arc::new(Inner {
            http,
            url,
            cfg: cfg.clone(),
            key,
            bearer,
            requests: AtomicU64::new(0),
        })))
    }

    /// HTTP requests sent so far (every attempt counts).
    pub fn requests(&self) -> u64 {
        self.0.requests.load(Ordering::Relaxed)
    }

    /// The news results for `query` published up to `day` (`YYYY-MM-DD`, the bar's UTC
    /// date), retrying transient failures.
    pub fn search(
        &self,
        query: &str,
        day: &str,
    ) -> impl Future<Output = Result<Vec<SearchHit>, SearchError>> + 'static {
        let inner = self.0.clone();
        let body = serde_json::json!({
            "query": query,
            "topic": "news",
            "max_results": inner.cfg.max_results,
            "end_date": day,
            "include_answer": false,
            "include_raw_content": false,
        });
        async move {
            let policy = RetryPolicy {
                min_delay_ms: RETRY_MIN_MS,
                max_delay_ms: RETRY_MAX_MS,
                max_times: inner.cfg.max_retries,
                jitter: true,
                jitter_seed: None,
                max_retry_after_ms: MAX_RETRY_AFTER_MS,
            };
            retry_idempotent(|| attempt(&inner, &body), &policy, |e: &SearchError, wait| {
                warn!(error = %e, wait_ms = wait.as_millis() as u64, "web search failed, retrying");
            })
            .await
        }
    }
}

/// One HTTP attempt.
async fn attempt(inner: &Inner, body: &serde_json::Value) -> Result<Vec<SearchHit>, SearchError> {
    let mut request = inner
        .http
        .post(&inner.url)
        .header(CONTENT_TYPE, "application/json")
        .json(body);
    if let Some(bearer) = &inner.bearer {
        request = request.header(AUTHORIZATION, bearer.clone());
    }
    inner.requests.fetch_add(1, Ordering::Relaxed);
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            SearchError::Timeout(inner.cfg.timeout_secs)
        } else {
            SearchError::Connection(inner.key.redact(&e.without_url().to_string()))
        }
    };
    let mut response = request.send().await.map_err(classify)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    // Read no more than one byte past the limit: `read_results` refuses a longer answer.
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_BODY_BYTES {
            bytes.truncate(MAX_BODY_BYTES + 1);
            break;
        }
    }
    if !status.is_success() {
        // Control characters go first, so none can hide the key from `redact`.
        let text: String = String::from_utf8_lossy(&bytes)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let excerpt: String = inner
            .key
            .redact(&text)
            .chars()
            .take(EXCERPT_CHARS)
            .collect();
        return Err(SearchError::Status {
            status: status.as_u16(),
            retry_after,
            excerpt,
        });
    }
    let max_results = inner.cfg.max_results as usize;
    read_results(&bytes, max_results, inner.cfg.max_chars).map_err(|e| match e {
        SearchError::Body(what) => SearchError::Body(inner.key.redact(&what)),
        other => other,
    })
}
