//! Retry behaviour with counting operations and a recording sleeper (no real waiting).

use std::future::{ready, Ready};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

#[derive(Debug, Clone, PartialEq)]
enum FetchError {
    Timeout,
    BadRequest,
    /// A 429 with its `Retry-After`.
    RateLimited(Duration),
}

impl Transient for FetchError {
    fn transient(&self) -> bool {
        !matches!(self, FetchError::BadRequest)
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::RateLimited(wait) => Some(*wait),
            _ => None,
        }
    }
}

fn policy(max_times: u32) -> RetryPolicy {
    RetryPolicy {
        min_delay_ms: 100,
        max_delay_ms: 300,
        max_times,
        jitter: false,
        jitter_seed: None,
        max_retry_after_ms: 10_000,
    }
}

/// A sleeper that records each requested delay and returns at once.
fn recording_sleeper() -> (
    impl Fn(Duration) -> Ready<()> + 'static,
    Arc<Mutex<Vec<Duration>>>,
) {
    let slept = Arc::new(Mutex::new(Vec::new()));
    let record = slept.clone();
    let sleeper = move |delay| {
        record.lock().unwrap().push(delay);
        ready(())
    };
    (sleeper, slept)
}

/// An operation that fails `failures` times with `error`, then returns the attempt number.
fn flaky(
    failures: u32,
    error: FetchError,
) -> (
    impl FnMut() -> Ready<Result<u32, FetchError>>,
    Arc<AtomicU32>,
) {
    let attempts = Arc::new(AtomicU32::new(0));
    let counter = attempts.clone();
    let op = move || {
        let attempt = counter.fetch_add(1, Ordering::SeqCst) + 1;
        ready(if attempt <= failures {
            Err(error.clone())
        } else {
            Ok(attempt)
        })
    };
    (op, attempts)
}

#[tokio::test]
async fn transient_errors_are_retried_until_success_with_doubling_delays() {
    let (op, attempts) = flaky(3, FetchError::Timeout);
    let (sleeper, slept) = recording_sleeper();
    let mut notified = Vec::new();
    let result = retry_idempotent_with(op, &policy(5), sleeper, |e, d| {
        notified.push((e.clone(), d))
    })
    .await;
    assert_eq!(result, Ok(4), "succeeds on the fourth attempt");
    assert_eq!(attempts.load(Ordering::SeqCst), 4);
    let ms = |n| Duration::from_millis(n);
    // backon multiplies in f32, so compare whole milliseconds.
    let slept_ms: Vec<u128> = slept
        .lock()
        .unwrap()
        .iter()
        .map(Duration::as_millis)
        .collect();
    assert_eq!(slept_ms, [100, 200, 300], "doubling, capped at 300");
    assert_eq!(notified.len(), 3);
    assert_eq!(notified[0], (FetchError::Timeout, ms(100)));
}

#[tokio::test]
async fn retries_stop_after_max_times_and_return_the_last_error() {
    let (op, attempts) = flaky(u32::MAX, FetchError::Timeout);
    let (sleeper, slept) = recording_sleeper();
    let result = retry_idempotent_with(op, &policy(2), sleeper, |_, _| {}).await;
    assert_eq!(result, Err(FetchError::Timeout));
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "one attempt plus two retries"
    );
    assert_eq!(slept.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn errors_that_are_not_transient_are_returned_at_once() {
    let (op, attempts) = flaky(1, FetchError::BadRequest);
    let (sleeper, slept) = recording_sleeper();
    let result = retry_idempotent_with(op, &policy(5), sleeper, |_, _| {}).await;
    assert_eq!(result, Err(FetchError::BadRequest));
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    assert!(slept.lock().unwrap().is_empty());
}

#[tokio::test]
async fn zero_max_times_means_a_single_attempt() {
    let (op, attempts) = flaky(1, FetchError::Timeout);
    let result = retry_idempotent(op, &policy(0), |_, _| {}).await;
    assert_eq!(result, Err(FetchError::Timeout));
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_default_sleeper_really_waits_on_tokio() {
    let (op, attempts) = flaky(2, FetchError::Timeout);
    let quick = RetryPolicy {
        min_delay_ms: 1,
        max_delay_ms: 2,
        ..policy(3)
    };
    let started = std::time::Instant::now();
    assert_eq!(retry_idempotent(op, &quick, |_, _| {}).await, Ok(3));
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(3),
        "slept 1 + 2 ms"
    );
}

#[tokio::test]
async fn seeded_jitter_is_reproducible_and_stays_below_double_the_delay() {
    let jittered = RetryPolicy {
        jitter: true,
        jitter_seed: Some(9),
        max_delay_ms: 100,
        ..policy(6)
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (op, _) = flaky(u32::MAX, FetchError::Timeout);
        let (sleeper, slept) = recording_sleeper();
        let _ = retry_idempotent_with(op, &jittered, sleeper, |_, _| {}).await;
        let delays = slept.lock().unwrap().clone();
        runs.push(delays);
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0].len(), 6);
    let ms = Duration::from_millis;
    assert!(
        runs[0].iter().all(|d| *d >= ms(100) && *d < ms(200)),
        "{:?}",
        runs[0]
    );
    assert!(runs[0].iter().any(|d| *d > ms(100)), "jitter was applied");
}

#[tokio::test]
async fn a_retry_after_longer_than_the_backoff_is_waited_for_instead() {
    let ms = Duration::from_millis;
    let (op, attempts) = flaky(2, FetchError::RateLimited(ms(2_500)));
    let (sleeper, slept) = recording_sleeper();
    let result = retry_idempotent_with(op, &policy(5), sleeper, |_, _| {}).await;
    assert_eq!(result, Ok(3));
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert_eq!(*slept.lock().unwrap(), [ms(2_500), ms(2_500)]);
}

#[tokio::test]
async fn a_retry_after_shorter_than_the_backoff_does_not_shorten_it() {
    let ms = Duration::from_millis;
    let (op, _) = flaky(2, FetchError::RateLimited(ms(10)));
    let (sleeper, slept) = recording_sleeper();
    let result = retry_idempotent_with(op, &policy(5), sleeper, |_, _| {}).await;
    assert_eq!(result, Ok(3));
    let slept_ms: Vec<u128> = slept
        .lock()
        .unwrap()
        .iter()
        .map(Duration::as_millis)
        .collect();
    assert_eq!(
        slept_ms,
        [100, 200],
        "the backoff, not the shorter retry-after"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_is_returned_at_once() {
    let (op, attempts) = flaky(1, FetchError::RateLimited(Duration::from_secs(3_600)));
    let (sleeper, slept) = recording_sleeper();
    let result = retry_idempotent_with(op, &policy(5), sleeper, |_, _| {}).await;
    assert_eq!(
        result,
        Err(FetchError::RateLimited(Duration::from_secs(3_600)))
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "not waited for");
    assert!(slept.lock().unwrap().is_empty());
}

#[test]
fn retry_after_is_seconds_or_an_http_date() {
    assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
    assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
    assert_eq!(parse_retry_after("-1"), None);
    assert_eq!(parse_retry_after("soon"), None);
    // A date in the past: no wait. One in the future: the wait until then.
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    let later = std::time::SystemTime::now() + Duration::from_secs(120);
    let wait = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
    assert!(
        wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );
}

#[test]
fn validation_names_the_field() {
    let bad = RetryPolicy {
        min_delay_ms: 500,
        max_delay_ms: 100,
        ..RetryPolicy::default()
    };
    let err = bad.validate("venue.retry").unwrap_err();
    assert_eq!(err.key, "venue.retry.max_delay_ms");
    assert!(err.message.contains("500..=600000"), "{err}");
    let bad = RetryPolicy {
        max_times: 1_000,
        ..RetryPolicy::default()
    };
    assert_eq!(bad.validate("r").unwrap_err().key, "r.max_times");
    assert!(RetryPolicy::default().validate("r").is_ok());
}
