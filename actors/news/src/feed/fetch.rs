//! One conditional GET of a feed: `If-None-Match` / `If-Modified-Since` from the last
//! answer, so an unchanged feed costs a 304 and no parsing.

use std::time::Duration;

use keel_supervision::{parse_retry_after, Transient};
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER};
use reqwest::StatusCode;

/// The validators a feed last answered with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag`.
    pub etag: Option<String>,
    /// The `Last-Modified`.
    pub last_modified: Option<String>,
}

/// What one poll got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: nothing new.
    NotModified,
    /// 200 with a body and the new validators.
    Body {
        /// The document.
        text: String,
        /// Validators to send next time.
        validators: Validators,
    },
}

/// A poll that failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status.
    #[error("feed {url} answered HTTP {status}")]
    Status {
        /// The feed.
        url: String,
        /// The status.
        status: u16,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// No answer.
    #[error("feed {url} unreachable: {message}")]
    Transport {
        /// The feed.
        url: String,
        /// Why.
        message: String,
    },
}

impl Transient for FetchError {
    /// No answer, a 429 or a 5xx may be better on the next try; any other status will not.
    fn transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => *status == 429 || *status >= 500,
            FetchError::Transport { .. } => true,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            FetchError::Transport { .. } => None,
        }
    }
}

/// A client for polling feeds, with a per-request `timeout`.
pub fn feed_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("keel/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// GETs `url`, sending `validators` from the previous answer.
pub async fn fetch_feed(
    client: &reqwest::Client,
    url: &str,
    validators: &Validators,
) -> Result<Fetched, FetchError> {
    let transport = |e: reqwest::Error| FetchError::Transport {
        url: url.to_string(),
        message: e.without_url().to_string(),
    };
    let mut request = client.get(url);
    if let Some(etag) = &validators.etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    if let Some(since) = &validators.last_modified {
        request = request.header(IF_MODIFIED_SINCE, since);
    }
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !status.is_success() {
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            retry_after,
        });
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(String::from)
    };
    let validators = Validators {
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
    };
    let text = response.text().await.map_err(transport)?;
    Ok(Fetched::Body { text, validators })
}
