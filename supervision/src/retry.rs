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
//! Built on [`backon`]'s exponential backoff. Errors are retried only when the caller's
//! predicate says they are transient (timeouts, 5xx, rate limits), never for errors that
//! will not change on a second try (4xx, bad signature, validation failures).

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde::{Deserialize, Serialize};

use crate::config::{in_range, ConfigError};

pub use backon::{Sleeper, TokioSleeper};

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
}

impl Default for RetryPolicy {
    /// 100 ms, 200 ms, 400 ms (3 retries, capped at 5 s), jittered.
    fn default() -> Self {
        Self {
            min_delay_ms: 100,
            max_delay_ms: 5_000,
            max_times: 3,
            jitter: true,
            jitter_seed: None,
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
        in_range(section, "max_times", self.max_times, 0, 100)
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

/// Runs the **idempotent** operation `op`, retrying the errors for which `retryable` returns
/// true according to `policy`, sleeping with tokio's timer (works inside actix, which runs
/// on tokio). Returns the first success, the first non-retryable error, or the last error
/// once the retries are spent. Never use it for order submission (see the module docs).
pub async fn retry_idempotent<T, E, Op, Fut, P>(
    op: Op,
    policy: &RetryPolicy,
    retryable: P,
) -> Result<T, E>
where
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    P: FnMut(&E) -> bool,
{
    retry_idempotent_with(op, policy, retryable, TokioSleeper, |_: &E, _| {}).await
}

/// [`retry_idempotent`] with a chosen `sleeper` (any `Fn(Duration) -> impl Future`, e.g. a
/// recording one in tests) and a `notify(error, delay)` hook called before each retry, so
/// the caller can log what is retried and when.
pub async fn retry_idempotent_with<T, E, Op, Fut, P, S, N>(
    op: Op,
    policy: &RetryPolicy,
    retryable: P,
    sleeper: S,
    notify: N,
) -> Result<T, E>
where
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    P: FnMut(&E) -> bool,
    S: Sleeper,
    N: FnMut(&E, Duration),
{
    op.retry(policy.backoff())
        .sleep(sleeper)
        .when(retryable)
        .notify(notify)
        .await
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
