//! The provider's HTTP client: reqwest (rustls), a timeout per attempt, and retries with
//! keel's one retry helper ([`keel_supervision::retry_idempotent`]: exponential, jittered) on
//! 429, 5xx, timeouts and connection errors, honouring `retry-after` like every other
//! dependency. The API key never appears in a log, an error or a `Debug` output.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use keel_supervision::secrets::{self, SecretError};
use keel_supervision::{parse_retry_after, retry_idempotent, RetryPolicy, Transient};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use tracing::warn;

use super::prompt::Prompt;
use super::provider::{read_completion, wire_request, Completion};
use keel_core::llm_api::{AnalystKind, LlmConfig};

/// An API key read from the environment. Prints as `<redacted>`.
#[derive(Clone, Default)]
pub struct ApiKey(Option<Arc<str>>);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("ApiKey(<redacted>)"),
            None => f.write_str("ApiKey(none)"),
        }
    }
}

/// The key an `api_key_env` setting names cannot be had (the caller names the setting).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MissingKey {
    /// Neither a credential file nor the variable holds it (or the variable is not unicode).
    #[error("environment variable {0} is not set")]
    Unset(String),
    /// Its credential file is unsafe or unreadable.
    #[error("{0}")]
    Credential(#[from] SecretError),
}

impl ApiKey {
    /// No key: nothing is sent (local servers).
    pub fn none() -> Self {
        Self(None)
    }

    /// A key given directly (tests, embedding).
    pub fn new(key: &str) -> Self {
        Self(Some(key.into()))
    }

    /// The key `var` names: the credential file `$CREDENTIALS_DIRECTORY/var`, else the
    /// environment variable `var` ([`secrets::read`]); none when `var` is none.
    pub fn from_env(var: Option<&str>) -> Result<Self, MissingKey> {
        match var {
            None => Ok(Self::none()),
            Some(var) => match secrets::read(var)? {
                Some(key) if !key.is_empty() => Ok(Self::new(&key)),
                _ => Err(MissingKey::Unset(var.to_string())),
            },
        }
    }

    /// `text` with every occurrence of the key replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        match &self.0 {
            Some(key) if key.len() >= 4 => text.replace(&**key, "<redacted>"),
            _ => text.to_string(),
        }
    }

    fn header(&self, kind: AnalystKind) -> Option<(&'static str, HeaderValue)> {
        match kind {
            AnalystKind::Anthropic => Some(("x-api-key", sensitive(self.0.as_deref()?)?)),
            _ => Some(("authorization", self.bearer()?)),
        }
    }

    /// `Bearer <key>` as a sensitive header value (none without a key, or for a key a header
    /// cannot carry).
    pub(crate) fn bearer(&self) -> Option<HeaderValue> {
        sensitive(&format!("Bearer {}", self.0.as_deref()?))
    }
}

/// `value` as a header value marked sensitive (never printed by the HTTP client).
fn sensitive(value: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Why a request produced no completion.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The server answered with an error status.
    #[error("HTTP {status}{}: {excerpt}", retry_after.map(|d| format!(" (retry-after {:.1}s)", d.as_secs_f64())).unwrap_or_default())]
    Status {
        /// The status code.
        status: u16,
        /// The server's `retry-after`, if any.
        retry_after: Option<Duration>,
        /// The start of the body (key redacted).
        excerpt: String,
    },
    /// An attempt took longer than `sentiment.llm.timeout_secs`.
    #[error("no complete reply within {0:.1}s")]
    Timeout(f64),
    /// The connection failed.
    #[error("connection failed: {0}")]
    Connect(String),
    /// A 2xx answer that is not the provider's response format.
    #[error("{0}")]
    Body(String),
}

impl Transient for ProviderError {
    /// Whether trying again may help: 429, 5xx (529 overloaded included), timeouts and
    /// connection errors.
    fn transient(&self) -> bool {
        match self {
            ProviderError::Status { status, .. } => *status == 429 || *status >= 500,
            ProviderError::Timeout(_) | ProviderError::Connect(_) => true,
            ProviderError::Body(_) => false,
        }
    }

    /// The server's `retry-after`.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

struct Inner {
    http: reqwest::Client,
    kind: AnalystKind,
    base_url: String,
    cfg: LlmConfig,
    key: ApiKey,
    requests: AtomicU64,
}

/// Sends prompts to one provider. Cheap to clone; futures it returns own what they need.
#[derive(Clone)]
pub struct ProviderClient(Arc<Inner>);

impl fmt::Debug for ProviderClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderClient")
            .field("kind", &self.0.kind)
            .field("base_url", &self.0.base_url)
            .field("model", &self.0.cfg.model_name())
            .field("key", &self.0.key)
            .finish()
    }
}

impl ProviderClient {
    /// A client for `kind` configured by `cfg` (validated), sending `key`.
    pub fn new(kind: AnalystKind, cfg: &LlmConfig, key: ApiKey) -> Result<Self, ProviderError> {
        // Validated config keeps it in (0, 600]; an unvalidated one must not panic here.
        let timeout = Duration::try_from_secs_f64(cfg.timeout_secs).map_err(|e| {
            ProviderError::Connect(format!(
                "sentiment.llm.timeout_secs = {} is not a duration: {e}",
                cfg.timeout_secs
            ))
        })?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ProviderError::Connect(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self(Arc::new(Inner {
            http,
            kind,
            base_url: cfg.base_url_for(kind),
            cfg: cfg.clone(),
            key,
            requests: AtomicU64::new(0),
        })))
    }

    /// The provider's name (`openai`, `anthropic`).
    pub fn kind(&self) -> AnalystKind {
        self.0.kind
    }

    /// The model asked.
    pub fn model(&self) -> &str {
        self.0.cfg.model_name()
    }

    /// HTTP requests sent so far (every attempt counts).
    pub fn requests(&self) -> u64 {
        self.0.requests.load(Ordering::Relaxed)
    }

    /// Asks for a completion of `prompt`, retrying transient failures.
    pub fn complete(
        &self,
        prompt: Prompt,
    ) -> impl Future<Output = Result<Completion, ProviderError>> + 'static {
        let inner = self.0.clone();
        async move {
            let cfg = &inner.cfg;
            let policy = RetryPolicy {
                min_delay_ms: cfg.retry_min_ms,
                max_delay_ms: cfg.retry_max_ms,
                max_times: cfg.max_retries,
                jitter: true,
                jitter_seed: None,
                max_retry_after_ms: (cfg.max_retry_after_secs * 1000.0) as u64,
            };
            let attempts = AtomicU32::new(0);
            let next = || {
                let first = attempts.fetch_add(1, Ordering::Relaxed) == 0;
                attempt(&inner, &prompt, first)
            };
            retry_idempotent(next, &policy, |e: &ProviderError, wait| {
                warn!(provider = inner.kind.name(), error = %e, wait_ms = wait.as_millis() as u64, "LLM request failed, retrying");
            })
            .await
        }
    }
}

/// One HTTP attempt (`first` of its request, or a retry).
async fn attempt(inner: &Inner, prompt: &Prompt, first: bool) -> Result<Completion, ProviderError> {
    let wire = wire_request(inner.kind, &inner.base_url, &inner.cfg, prompt);
    let mut request = inner
        .http
        .post(&wire.url)
        .header(CONTENT_TYPE, "application/json")
        .json(&wire.body);
    for (name, value) in wire.headers {
        request = request.header(name, value);
    }
    if let Some((name, value)) = inner.key.header(inner.kind) {
        request = request.header(name, value);
    }
    inner.requests.fetch_add(1, Ordering::Relaxed);
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            ProviderError::Timeout(inner.cfg.timeout_secs)
        } else {
            // Without the URL: it names only the configured base, but keep errors short.
            ProviderError::Connect(inner.key.redact(&e.without_url().to_string()))
        }
    };
    let response = request.send().await.map_err(classify)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    if first && struck_inside_request() {
        return Err(ProviderError::Connect(format!(
            "failpoint {INSIDE_REQUEST} fired: the connection dropped before the reply was read"
        )));
    }
    let body = response.bytes().await.map_err(classify)?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let excerpt: String = inner.key.redact(&text).chars().take(200).collect();
        return Err(ProviderError::Status {
            status: status.as_u16(),
            retry_after,
            excerpt,
        });
    }
    read_completion(inner.kind, &body, prompt)
        .map_err(|e| ProviderError::Body(inner.key.redact(&e)))
}

/// The failpoint inside a model request: the provider has answered (status and headers),
/// and the connection drops before its reply is read. It strikes only a request's first
/// attempt, so the client's retry asks again and the run's outcome is the calm run's.
pub const INSIDE_REQUEST: &str = "llm.inside_request";

thread_local! {
    /// Set by [`strike_inside_request`] while the failpoint is passed.
    static STRUCK: Cell<bool> = const { Cell::new(false) };
}

/// What `keel chaos` arms on [`INSIDE_REQUEST`] makes the attempt passing it fail (the
/// `fail` crate's callback cannot return a value to the request).
pub fn strike_inside_request() {
    STRUCK.with(|s| s.set(true));
}

/// Whether the armed failpoint struck the attempt passing it now.
fn struck_inside_request() -> bool {
    fail::fail_point!("llm.inside_request");
    STRUCK.with(|s| s.replace(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print() {
        let key = ApiKey::new("sk-secret-1234");
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        assert_eq!(
            key.redact("bad key sk-secret-1234 given"),
            "bad key <redacted> given"
        );
        let client = ProviderClient::new(
            AnalystKind::Openai,
            &LlmConfig {
                model: Some("m".into()),
                ..LlmConfig::default()
            },
            key,
        )
        .unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn an_unvalidated_timeout_is_an_error_not_a_panic() {
        for timeout_secs in [-1.0, f64::NAN, f64::INFINITY] {
            let cfg = LlmConfig {
                timeout_secs,
                ..LlmConfig::default()
            };
            let err = ProviderClient::new(AnalystKind::Openai, &cfg, ApiKey::none()).unwrap_err();
            assert!(err.to_string().contains("timeout_secs"), "{err}");
        }
    }

    #[test]
    fn missing_key_names_the_variable() {
        let err = ApiKey::from_env(Some("KEEL_TEST_SURELY_UNSET_VAR")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable KEEL_TEST_SURELY_UNSET_VAR is not set"
        );
        assert!(ApiKey::from_env(None).is_ok());
    }

    #[test]
    fn which_failures_are_transient() {
        let status = |status| ProviderError::Status {
            status,
            retry_after: None,
            excerpt: String::new(),
        };
        assert!(status(429).transient());
        assert!(status(500).transient());
        assert!(status(529).transient());
        assert!(!status(401).transient());
        assert!(!status(400).transient());
        assert!(ProviderError::Timeout(1.0).transient());
        assert!(!ProviderError::Body("x".into()).transient());
    }
}
