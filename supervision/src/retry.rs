//! Retries with exponential backoff and jitter, for **idempotent** operations only.
//!
//! # Never for order submission
//!
//! Use this for reads and other calls that are safe to repeat: fetching candles, balances,
//! open orders, exchange info, a headline feed, an LLM request whose answer is only advisory.
//! **Never wrap order submission (or cancel/replace) in a retry.** A timed-out submit may
//! have reached the venue; sending it again can double a position. The order manager
//! journals the intent and *reconciles* with the venue instead (DESIGN §5): missing evidence
//! is not a confirmed outcome just because a timeout expired.
//!
//! Built on [`backon`]'s exponential backoff. Errors are retried only when they say they are
//! [`Transient`] (timeouts, 5xx, rate limits), never for errors that will not change on a
//! second try (4xx, bad signature, validation failures). A server's `Retry-After` is honoured
//! the same way by every caller (the venue, the model, the feeds, the data download): the wait
//! before the next attempt is the backoff or the `Retry-After`, whichever is longer, and a
//! `Retry-After` longer than [`RetryPolicy::max_retry_after_ms`] is not waited for at all: the
//! error is returned at once, for the caller's breaker or its next poll to deal with.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde::{Deserialize, Serialize};

use crate::config::{in_range, ConfigError};

pub use backon::{Sleeper, TokioSleeper};

/// What a failed attempt says about trying again.
pub trait Transient {
    /// Whether the same request may succeed later (a timeout, no connection, 5xx, 429).
    fn transient(&self) -> bool;

    /// How long the server asked to wait before the next request (`Retry-After`), if it did.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// A `Retry-After` header's value as a wait: delay-seconds (integer, or decimal as some
/// servers send) or an HTTP-date (the wait until then; zero if it has passed). `None` when it
/// is neither, and the caller's backoff applies.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let until = httpdate::parse_http_date(value).ok()?;
    Some(
        until
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Delay before the first retry, in milliseconds; doubles for each further retry.
    pub min_delay_ms: u64,
    /// Cap of the un-jittered delay, in milliseconds.
    pub max_delay_ms: u64,
    /// Retries after the first attempt (so at most `max_times + 1` attempts). `0` = no retry.
    pub max_times: u32,
    /// Add a random extra of up to 100 % to each delay (backon's jitter: a delay `d` becomes
    /// `d..2d`), so that many clients do not retry in lock-step.
    pub jitter: bool,
    /// Seed for the jitter, for reproducible tests; `None` seeds randomly.
    pub jitter_seed: Option<u64>,
    /// The longest `Retry-After` waited for, in milliseconds; a server asking for more gets
    /// its error returned at once.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    /// 100 ms, 200 ms, 400 ms (3 retries, capped at 5 s), jittered; a `Retry-After` of up to
    /// a minute is waited for.
    fn default() -> Self {
        Self {
            min_delay_ms: 100,
            max_delay_ms: 5_000,
            max_times: 3,
            jitter: true,
            jitter_seed: None,
            max_retry_after_ms: 60_000,
        }
    }
}

impl RetryPolicy {
    /// Checks every field, naming `section.field` and the allowed range on error.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "min_delay_ms", self.min_delay_ms, 0, 60_000)?;
        in_range(
            section,
            "max_delay_ms",
            self.max_delay_ms,
            self.min_delay_ms,
            600_000,
        )?;
        in_range(section, "max_times", self.max_times, 0, 100)?;
        in_range(
            section,
            "max_retry_after_ms",
            self.max_retry_after_ms,
            0,
            3_600_000,
        )
    }

    /// Whether `err` is worth another attempt under this policy: transient, and not asking
    /// for a longer wait than the policy allows.
    pub fn retries<E: Transient>(&self, err: &E) -> bool {
        let longest = Duration::from_millis(self.max_retry_after_ms);
        err.transient() && err.retry_after().is_none_or(|wait| wait <= longest)
    }

    /// The wait before the attempt after `err`: the `backoff`, or the server's `Retry-After`
    /// when that is longer.
    pub fn wait_after<E: Transient>(&self, err: &E, backoff: Duration) -> Duration {
        err.retry_after().map_or(backoff, |wait| wait.max(backoff))
    }

    /// The backon builder for this policy.
    pub fn backoff(&self) -> ExponentialBuilder {
        let mut builder = ExponentialBuilder::new()
            .with_factor(2.0)
            .with_min_delay(Duration::from_millis(self.min_delay_ms))
            .with_max_delay(Duration::from_millis(
                self.max_delay_ms.max(self.min_delay_ms),
            ))
            .with_max_times(self.max_times as usize);
        if self.jitter {
            builder = builder.with_jitter();
            if let Some(seed) = self.jitter_seed {
                builder = builder.with_jitter_seed(seed);
            }
        }
        builder
    }
}

/// Runs the **idempotent** operation `op`, retrying its [`Transient`] errors according to
/// `policy` and sleeping with tokio's timer (works inside actix, which runs on tokio);
/// `notify(error, wait)` is called before each retry, so that the caller can log what is
/// retried and when. Returns the first success, the first error not worth retrying, or the
/// last error once the retries are spent. Never use it for order submission (see the module
/// docs).
pub async fn retry_idempotent<T, E, Op, Fut, N>(
    op: Op,
    policy: &RetryPolicy,
    notify: N,
) -> Result<T, E>
where
    E: Transient,
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    N: FnMut(&E, Duration),
{
    retry_idempotent_with(op, policy, TokioSleeper, notify).await
}

/// [`retry_idempotent`] with a chosen `sleeper` (any `Fn(Duration) -> impl Future`, e.g. a
/// recording one in tests).
pub async fn retry_idempotent_with<T, E, Op, Fut, S, N>(
    op: Op,
    policy: &RetryPolicy,
    sleeper: S,
    notify: N,
) -> Result<T, E>
where
    E: Transient,
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    S: Sleeper,
    N: FnMut(&E, Duration),
{
    op.retry(policy.backoff())
        .sleep(sleeper)
        .when(|e: &E| policy.retries(e))
        .adjust(|e: &E, backoff| backoff.map(|d| policy.wait_after(e, d)))
        .notify(notify)
        .await
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
