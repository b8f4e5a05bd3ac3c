//! Delivering alerts: one POST per webhook, idempotent, so retried on a timeout, a refused
//! connection, a 5xx or a 429 (honouring `Retry-After`); a breaker per webhook stops a dead
//! receiver from costing every alert its timeouts. A failure is logged (by the webhook's
//! name, never its URL) and never reaches trading.

use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use keel_supervision::{
    parse_retry_after, retry_idempotent, BreakerConfig, CircuitBreaker, RetryPolicy, Transient,
};
use tracing::{info, warn};

use super::alert::Alert;
use super::body::body;
use super::AlertOptions;
use crate::settings::Webhook;

/// Failures in a row that open a webhook's breaker, and how long it then stays open.
const BREAKER_FAILURES: u32 = 3;
const BREAKER_OPEN_MS: u64 = 60_000;

/// Why one POST failed.
#[derive(Debug)]
struct PostError {
    message: String,
    transient: bool,
    retry_after: Option<Duration>,
}

impl Transient for PostError {
    fn transient(&self) -> bool {
        self.transient
    }

    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

fn policy(retries: u32) -> RetryPolicy {
    RetryPolicy {
        min_delay_ms: 200,
        max_delay_ms: 5_000,
        max_times: retries,
        max_retry_after_ms: 30_000,
        ..RetryPolicy::default()
    }
}

fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

async fn post(client: &reqwest::Client, hook: &Webhook, alert: &Alert) -> Result<(), PostError> {
    let payload = body(hook.format, hook.chat_id.as_deref(), alert);
    let response = client
        .post(&hook.url)
        .json(&payload)
        .send()
        .await
        .map_err(|e| PostError {
            // Never the URL: reqwest's message names it.
            message: if e.is_timeout() {
                "no answer within the timeout".into()
            } else {
                "the request failed (no connection?)".into()
            },
            transient: true,
            retry_after: None,
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err(PostError {
        message: format!("answered {status}"),
        transient: status.is_server_error() || status.as_u16() == 429,
        retry_after: response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after),
    })
}

/// Delivers `alert` to `hook`, retrying per `policy`.
async fn deliver(
    client: &reqwest::Client,
    hook: &Webhook,
    alert: &Alert,
    policy: &RetryPolicy,
) -> Result<(), String> {
    retry_idempotent(
        || post(client, hook, alert),
        policy,
        |e: &PostError, wait| {
            warn!(webhook = %hook.name, kind = alert.kind.as_str(), error = %e.message, wait_ms = wait.as_millis() as u64, "alert delivery failed: retrying");
        },
    )
    .await
    .map_err(|e| e.message)
}

/// Starts the sender thread: it delivers every alert `rx` brings, in order, until the
/// channel closes.
pub(super) fn spawn_sender(options: &AlertOptions, rx: Receiver<Alert>) -> Option<JoinHandle<()>> {
    let webhooks = options.webhooks.clone();
    let timeout = Duration::from_millis(options.settings.timeout_ms);
    let policy = policy(options.settings.retries);
    std::thread::Builder::new()
        .name("keel-alert-send".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    warn!(error = %e, "alerts: no runtime for the sender: alerts are only logged");
                    for alert in rx {
                        warn!(kind = alert.kind.as_str(), summary = %alert.summary, "alert not delivered");
                    }
                    return;
                }
            };
            runtime.block_on(async move {
                let client = match client(timeout) {
                    Ok(client) => client,
                    Err(e) => return warn!(error = %e, "alerts: no HTTP client: alerts are only logged"),
                };
                let mut breakers: Vec<CircuitBreaker> = webhooks
                    .iter()
                    .map(|_| CircuitBreaker::new(BreakerConfig::consecutive(BREAKER_FAILURES, BREAKER_OPEN_MS)))
                    .collect();
                // A blocking receive on this thread: nothing else runs on its runtime.
                while let Ok(alert) = rx.recv() {
                    warn!(kind = alert.kind.as_str(), severity = ?alert.severity, summary = %alert.summary, "alert");
                    // Every webhook at once: a dead one does not hold up the others.
                    let now = Instant::now();
                    let sends = webhooks.iter().zip(breakers.iter_mut()).map(|(hook, breaker)| {
                        let permit = breaker.allow(now);
                        let (client, alert, policy) = (&client, &alert, &policy);
                        async move {
                            let Ok(permit) = permit else {
                                warn!(webhook = %hook.name, kind = alert.kind.as_str(), "alert not sent: this webhook failed repeatedly (its breaker is open)");
                                return;
                            };
                            match deliver(client, hook, alert, policy).await {
                                Ok(()) => {
                                    breaker.on_success(permit, Instant::now());
                                    info!(webhook = %hook.name, kind = alert.kind.as_str(), "alert delivered");
                                }
                                Err(why) => {
                                    breaker.on_failure(permit, Instant::now());
                                    warn!(webhook = %hook.name, kind = alert.kind.as_str(), error = %why, "alert could not be delivered");
                                }
                            }
                        }
                    });
                    futures_util::future::join_all(sends).await;
                }
            });
        })
        .map_err(|e| warn!(error = %e, "alerts: cannot start the sender thread: no alerts"))
        .ok()
}

/// Delivers one `alert` to every webhook now, waiting for the answers (for a startup that
/// fails before the run's watcher exists, such as a reconciliation halt).
pub fn deliver_once(options: &AlertOptions, alert: &Alert) {
    let timeout = Duration::from_millis(options.settings.timeout_ms);
    let policy = policy(options.settings.retries);
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        let Ok(client) = client(timeout) else { return };
        for hook in &options.webhooks {
            match deliver(&client, hook, alert, &policy).await {
                Ok(()) => info!(webhook = %hook.name, kind = alert.kind.as_str(), "alert delivered"),
                Err(why) => warn!(webhook = %hook.name, kind = alert.kind.as_str(), error = %why, "alert could not be delivered"),
            }
        }
    });
}
